-- intermediate.reach_peaks: one row per (limit scope, UTC day, window length) with the most unique customers (persons, see _business_initiated_sends) a message was delivered to outside a customer-service window in any sliding window of that length ending during the day (24 h: what the messaging limit caps; the rule's upgrade window, 7 days: what the automatic upgrade looks at; the rule's scaling window, 30 days, counting only templates rated high quality: what the delivered-messages scaling path looks at). (columns: _intermediate.yml)
WITH rules AS (
    SELECT DISTINCT rule, scope, effective_from, effective_to, upgrade_window_days, scaling_window_days FROM {{ ref('messaging_limit_rules') }}
), windows AS (
    -- The scaling window is a different length from the others, so window_hours alone says which count a row is.
    SELECT DISTINCT rule, scope, effective_from, effective_to, w.window_hours, w.high_quality_only
    FROM rules, LATERAL (SELECT unnest([24, upgrade_window_days * 24, scaling_window_days * 24]) AS window_hours,
                                unnest([false, false, true]) AS high_quality_only) w
), sends AS (
    -- A send matters to a rule's scope from one window before the rule starts (windows ending on its first day
    -- reach back) until the rule ends.
    SELECT w.scope, CASE w.scope WHEN 'phone_number' THEN b.phone_number_id ELSE b.business_portfolio_id END AS scope_id,
           w.window_hours, b.person_id AS customer_id, b.sent_at
    FROM {{ ref('business_initiated_sends') }} b
    JOIN windows w ON b.sent_at >= w.effective_from::TIMESTAMPTZ - to_hours(w.window_hours)
                  AND (w.effective_to IS NULL OR b.sent_at < (w.effective_to + 1)::TIMESTAMPTZ)
                  AND (b.high_quality_template OR NOT w.high_quality_only)
), neighbours AS (
    SELECT scope, scope_id, window_hours, sent_at,
           lag(sent_at) OVER per_customer AS previous_at, lead(sent_at) OVER per_customer AS next_at
    FROM sends
    WHERE scope_id IS NOT NULL
    WINDOW per_customer AS (PARTITION BY scope, scope_id, window_hours, customer_id ORDER BY sent_at)
), changes AS (
    SELECT scope, scope_id, window_hours, sent_at AS moment, 1 AS change
    FROM neighbours WHERE previous_at IS NULL OR sent_at >= previous_at + to_hours(window_hours)
    UNION ALL
    SELECT scope, scope_id, window_hours, sent_at + to_hours(window_hours), -1
    FROM neighbours WHERE next_at IS NULL OR next_at >= sent_at + to_hours(window_hours)
    UNION ALL
    SELECT d.scope, d.scope_id, w.window_hours, d.day::TIMESTAMPTZ, 0
    FROM {{ ref('scope_days') }} d JOIN windows w USING (rule, scope)
), net AS (
    SELECT scope, scope_id, window_hours, moment, sum(change) AS change FROM changes GROUP BY ALL
), running AS (
    SELECT scope, scope_id, window_hours, moment,
           sum(change) OVER (PARTITION BY scope, scope_id, window_hours ORDER BY moment ROWS UNBOUNDED PRECEDING) AS reached
    FROM net
)
SELECT r.scope, r.scope_id, r.moment::DATE AS day, r.window_hours, max(r.reached)::BIGINT AS peak_unique_customers
FROM running r
SEMI JOIN {{ ref('scope_days') }} d ON d.scope = r.scope AND d.scope_id = r.scope_id AND d.day = r.moment::DATE
GROUP BY ALL
