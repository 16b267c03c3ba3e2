-- intermediate.scope_days: one row per (limit scope, UTC day) under the messaging-limit rule in force that day: each phone number while limits were per number, each business portfolio once they are per portfolio. (columns: _intermediate.yml)
WITH rules AS (
    SELECT DISTINCT rule, effective_from, effective_to, scope, upgrade_share, upgrade_window_days,
           upgrade_delay_hours, acceptable_quality, scaling_threshold, scaling_window_days, review_delay_hours
    FROM {{ ref('messaging_limit_rules') }}
), ladder AS (
    SELECT rule, step, tier, daily_limit, reached_by, coalesce(daily_limit, 9223372036854775807) AS limit_rank,
           min(daily_limit) FILTER (reached_by = 'start') OVER (PARTITION BY rule) AS start_limit
    FROM {{ ref('messaging_limit_rules') }}
), scopes AS (
    SELECT 'phone_number' AS scope, phone_number_id AS scope_id, first_seen_at::DATE AS first_day FROM {{ ref('phone_numbers') }}
    UNION ALL
    SELECT 'business_portfolio', a.business_portfolio_id, min(p.first_seen_at)::DATE
    FROM {{ ref('phone_numbers') }} p JOIN {{ ref('accounts') }} a USING (waba_id) GROUP BY ALL
), days AS (
    SELECT unnest(generate_series(first_day, last_day, INTERVAL 1 DAY))::DATE AS day FROM {{ ref('growth_calendar') }}
), statements AS (
    SELECT scope, scope_id, stated_at, CASE WHEN unlimited THEN 9223372036854775807 ELSE daily_limit END AS limit_rank
    FROM {{ ref('limit_statements') }}
), inherited AS (
    -- When limits moved to portfolios, each portfolio started from the highest limit among its numbers.
    SELECT 'business_portfolio' AS scope, a.business_portfolio_id AS scope_id, r.effective_from::TIMESTAMPTZ AS stated_at,
           max(s.limit_rank) AS limit_rank
    FROM rules r
    JOIN {{ ref('phone_numbers') }} p ON true
    JOIN {{ ref('accounts') }} a USING (waba_id)
    ASOF JOIN statements s ON s.scope = 'phone_number' AND s.scope_id = p.phone_number_id AND s.stated_at < r.effective_from::TIMESTAMPTZ
    WHERE r.scope = 'business_portfolio'
    GROUP BY ALL
), in_force AS (
    -- A portfolio's own statements count only once some rule made limits per portfolio; before that, its
    -- numbers' statements spoke for the numbers alone. Several values stated at one instant: the highest wins.
    SELECT scope, scope_id, stated_at, max(limit_rank) AS limit_rank
    FROM (
        SELECT * FROM statements
        WHERE scope = 'phone_number'
           OR stated_at >= (SELECT min(effective_from) FROM rules WHERE scope = 'business_portfolio')::TIMESTAMPTZ
        UNION ALL
        SELECT * FROM inherited
    )
    GROUP BY ALL
), grid AS (
    SELECT d.day, (d.day + 1)::TIMESTAMPTZ AS day_end, r.rule, r.scope, s.scope_id, r.upgrade_share,
           r.upgrade_window_days, r.upgrade_delay_hours, r.acceptable_quality, r.scaling_threshold,
           r.scaling_window_days, r.review_delay_hours
    FROM days d
    JOIN rules r ON d.day >= r.effective_from AND (r.effective_to IS NULL OR d.day <= r.effective_to)
    JOIN scopes s ON s.scope = r.scope AND d.day >= s.first_day
), limited AS (
    SELECT g.*, f.limit_rank, f.stated_at AS limit_stated_at
    FROM grid g
    ASOF LEFT JOIN in_force f ON f.scope = g.scope AND f.scope_id = g.scope_id AND g.day_end > f.stated_at
), stepped AS (
    -- The next step is the first on the rule's ladder above the current limit, whether or not the current
    -- value is itself on this ladder (a number still at 1K after the switch, or a pre-verification 50).
    SELECT l.*,
           (SELECT arg_min(x.tier, x.step) FROM ladder x WHERE x.rule = l.rule AND x.limit_rank = l.limit_rank) AS tier,
           (SELECT arg_min(x.step, x.step) FROM ladder x WHERE x.rule = l.rule AND x.limit_rank > l.limit_rank) AS next_step
    FROM limited l
)
SELECT s.day, s.rule, s.scope, s.scope_id, s.upgrade_share, s.upgrade_window_days, s.upgrade_delay_hours,
       s.acceptable_quality, s.scaling_threshold, s.scaling_window_days, s.review_delay_hours, s.limit_rank, s.limit_stated_at,
       CASE WHEN n1.reached_by = 'scaling_path' AND s.limit_rank > n1.start_limit THEN 'automatic' ELSE n1.reached_by END
           AS next_reached_by,
       CASE WHEN s.limit_rank < 9223372036854775807 THEN s.limit_rank END AS daily_limit,
       coalesce(s.tier, CASE WHEN s.limit_rank = 9223372036854775807 THEN 'TIER_UNLIMITED' ELSE s.limit_rank::VARCHAR END) AS tier,
       n1.tier AS next_tier, n1.daily_limit AS next_daily_limit, n2.tier AS tier_after_next, n2.daily_limit AS daily_limit_after_next
FROM stepped s
LEFT JOIN ladder n1 ON n1.rule = s.rule AND n1.step = s.next_step
LEFT JOIN ladder n2 ON n2.rule = s.rule AND n2.step = s.next_step + 1
