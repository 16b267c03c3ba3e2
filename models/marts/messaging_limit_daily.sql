-- marts.messaging_limit_daily: one row per messaging-limit scope per UTC day under the rule in force that day (marts.messaging_limit_rules): each phone number before 2025-10-07, each business portfolio from then on. (columns: _marts.yml)
WITH health AS (
    SELECT h.day, h.phone_number_id, h.business_portfolio_id, h.quality_rating, h.status = 'FLAGGED' AS flagged,
           list_contains(h.restrictions, 'RESTRICTED_BIZ_INITIATED_MESSAGING') AS restricted
    FROM {{ ref('phone_number_health_daily') }} h
), scoped_health AS (
    SELECT d.scope, d.scope_id, d.day,
           bool_and(list_contains(d.acceptable_quality, h.quality_rating)) FILTER (h.quality_rating IS NOT NULL) AS quality_ok,
           coalesce(bool_or(h.restricted), false) AS restricted, coalesce(bool_or(h.flagged), false) AS flagged
    FROM {{ ref('scope_days') }} d
    JOIN health h ON h.day = d.day AND CASE d.scope WHEN 'phone_number' THEN h.phone_number_id ELSE h.business_portfolio_id END = d.scope_id
    GROUP BY ALL
), reach AS (
    SELECT p.scope, p.scope_id, p.day,
           max(p.peak_unique_customers) FILTER (p.window_hours = 24) AS peak_24h,
           max(p.peak_unique_customers) FILTER (p.window_hours = d.upgrade_window_days * 24) AS peak_window,
           max(p.peak_unique_customers) FILTER (p.window_hours = d.scaling_window_days * 24) AS peak_scaling
    FROM {{ ref('reach_peaks') }} p JOIN {{ ref('scope_days') }} d USING (scope, scope_id, day)
    GROUP BY ALL
), verification AS (
    -- A portfolio counts as verified when any of its WABAs' accounts.csv rows says so.
    SELECT business_portfolio_id, max(business_verification_status) AS status,
           bool_or(business_verification_status = 'verified') AS verified
    FROM {{ ref('accounts') }} WHERE business_verification_status IS NOT NULL GROUP BY ALL
), scoped AS (
    SELECT d.*, coalesce(r.peak_24h, 0) AS peak_24h, coalesce(r.peak_window, 0) AS peak_7d,
           coalesce(r.peak_scaling, 0) AS peak_30d, h.quality_ok, coalesce(h.restricted, false) AS restricted,
           coalesce(h.flagged, false) AS flagged,
           CASE WHEN v.verified THEN 'verified' ELSE v.status END AS verification_status,
           coalesce(v.verified, false) AS verified
    FROM {{ ref('scope_days') }} d
    LEFT JOIN reach r USING (scope, scope_id, day)
    LEFT JOIN scoped_health h USING (scope, scope_id, day)
    LEFT JOIN (SELECT DISTINCT p.phone_number_id, a.business_portfolio_id FROM {{ ref('phone_numbers') }} p JOIN {{ ref('accounts') }} a USING (waba_id)) n
           ON d.scope = 'phone_number' AND n.phone_number_id = d.scope_id
    LEFT JOIN verification v ON v.business_portfolio_id = CASE d.scope WHEN 'phone_number' THEN n.business_portfolio_id ELSE d.scope_id END
), judged AS (
    SELECT *,
           CASE next_reached_by WHEN 'scaling_path' THEN peak_30d WHEN 'automatic' THEN peak_7d END AS upgrade_reach,
           CASE next_reached_by WHEN 'scaling_path' THEN scaling_threshold
                                WHEN 'automatic' THEN upgrade_share * daily_limit END AS upgrade_threshold
    FROM scoped
)
SELECT d.day, d.rule, d.scope, d.scope_id, d.tier, d.daily_limit, d.limit_stated_at,
       CASE WHEN d.limit_rank > lag(d.limit_rank) OVER w THEN 'upgrade'
            WHEN d.limit_rank < lag(d.limit_rank) OVER w THEN 'downgrade' END AS limit_change,
       d.next_tier, d.next_daily_limit, d.tier_after_next,
       d.peak_24h AS peak_unique_customers_24h, d.peak_7d AS peak_unique_customers_7d,
       d.peak_30d AS peak_unique_delivered_30d,
       round(d.peak_24h / d.daily_limit, 4) AS utilisation,
       d.next_reached_by, d.upgrade_reach, d.upgrade_threshold::DOUBLE AS upgrade_threshold,
       d.verification_status AS business_verification_status,
       d.quality_ok, d.flagged, d.restricted,
       coalesce((d.upgrade_reach >= d.upgrade_threshold OR (d.next_reached_by = 'scaling_path' AND d.verified))
                AND d.quality_ok IS NOT false AND NOT d.flagged AND NOT d.restricted, false) AS upgrade_condition_met
FROM judged d
WINDOW w AS (PARTITION BY d.rule, d.scope, d.scope_id ORDER BY d.day)
ORDER BY d.scope, d.scope_id, d.day
