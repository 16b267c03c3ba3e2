-- marts.messaging_limit_daily: one row per messaging-limit scope per UTC day under the rule in force that day
-- (marts.messaging_limit_rules): each phone number before 2025-10-07, each business portfolio from then on.
-- The limit in force, the most unique customers a message was delivered to outside a customer-service window in any
-- sliding 24-hour window, upgrade window (7 days) and scaling window (30 days, high-quality templates) ending that
-- day, how the next step is reached (scaling path or automatic) and whether its condition held.
-- column day: UTC day; the sliding windows counted are those ending during it.
-- column rule: Messaging-limit rule in force (marts.messaging_limit_rules).
-- column scope: phone_number or business_portfolio, as the rule says.
-- column scope_id: The phone number id or the business portfolio id.
-- column tier: Limit in force at the end of the day, spelled as on the rule's ladder (TIER_1K, TIER_2K, ..., TIER_UNLIMITED; the bare number when it is not on the ladder).
-- column daily_limit: That limit in unique customers per rolling 24 hours (NULL = unlimited, or no limit known yet).
-- column limit_stated_at: When Meta (webhook or snapshot) last stated that limit; for a portfolio on its first days, the switch itself (it inherited its best number's limit).
-- column limit_change: 'upgrade' or 'downgrade' when the limit differs from the previous day's in the same scope.
-- column next_tier: The next step on the ladder (NULL when unlimited).
-- column next_daily_limit: Its limit (NULL when the next step is unlimited).
-- column tier_after_next: The step after that.
-- column peak_unique_customers_24h: Most distinct customers (one person, one count: marts.message_ledger.person_id) a template was delivered to outside a customer-service window within any sliding 24-hour window ending this day.
-- column peak_unique_customers_7d: The same over sliding windows of the rule's upgrade window (7 days).
-- column peak_unique_delivered_30d: The same over sliding windows of the rule's scaling window (30 days), counting only templates rated high quality (GREEN): the delivered-messages scaling path.
-- column utilisation: peak_unique_customers_24h / daily_limit (NULL when unlimited).
-- column next_reached_by: How the next step comes: scaling_path (while at the starting limit) or automatic; NULL when unlimited or no limit is known.
-- column upgrade_reach: The reach the next step's condition compares: peak_unique_delivered_30d on a scaling path, peak_unique_customers_7d for an automatic step.
-- column upgrade_threshold: The value upgrade_reach must reach: the rule's scaling_threshold (2,000; 1,000 per number) on a scaling path, upgrade_share x daily_limit for an automatic step.
-- column business_verification_status: The portfolio's business verification status from accounts.csv (verified completes the scaling path; NULL when not given).
-- column quality_ok: True when no number of the scope ended the day with a rating the rule does not accept (RED); NULL when no rating is known.
-- column flagged: True when a number of the scope ended the day with status FLAGGED (possible before 2025-10-07 only).
-- column restricted: True when a business-initiated-messaging restriction is in force on a WABA of the scope.
-- column upgrade_condition_met: upgrade_reach reached upgrade_threshold (exactly half counts), or on a scaling path the business is verified; quality_ok is not false, not flagged, not restricted, and the limit is not unlimited.
WITH health AS (
    SELECT h.day, h.phone_number_id, h.business_portfolio_id, h.quality_rating, h.status = 'FLAGGED' AS flagged,
           list_contains(h.restrictions, 'RESTRICTED_BIZ_INITIATED_MESSAGING') AS restricted
    FROM marts.phone_number_health_daily h
), scoped_health AS (
    SELECT d.scope, d.scope_id, d.day,
           bool_and(list_contains(d.acceptable_quality, h.quality_rating)) FILTER (h.quality_rating IS NOT NULL) AS quality_ok,
           coalesce(bool_or(h.restricted), false) AS restricted, coalesce(bool_or(h.flagged), false) AS flagged
    FROM _scope_days d
    JOIN health h ON h.day = d.day AND CASE d.scope WHEN 'phone_number' THEN h.phone_number_id ELSE h.business_portfolio_id END = d.scope_id
    GROUP BY ALL
), reach AS (
    SELECT p.scope, p.scope_id, p.day,
           max(p.peak_unique_customers) FILTER (p.window_hours = 24) AS peak_24h,
           max(p.peak_unique_customers) FILTER (p.window_hours = d.upgrade_window_days * 24) AS peak_window,
           max(p.peak_unique_customers) FILTER (p.window_hours = d.scaling_window_days * 24) AS peak_scaling
    FROM _reach_peaks p JOIN _scope_days d USING (scope, scope_id, day)
    GROUP BY ALL
), verification AS (
    -- A portfolio counts as verified when any of its WABAs' accounts.csv rows says so.
    SELECT business_portfolio_id, max(business_verification_status) AS status,
           bool_or(business_verification_status = 'verified') AS verified
    FROM staging.accounts WHERE business_verification_status IS NOT NULL GROUP BY ALL
), scoped AS (
    SELECT d.*, coalesce(r.peak_24h, 0) AS peak_24h, coalesce(r.peak_window, 0) AS peak_7d,
           coalesce(r.peak_scaling, 0) AS peak_30d, h.quality_ok, coalesce(h.restricted, false) AS restricted,
           coalesce(h.flagged, false) AS flagged,
           CASE WHEN v.verified THEN 'verified' ELSE v.status END AS verification_status,
           coalesce(v.verified, false) AS verified
    FROM _scope_days d
    LEFT JOIN reach r USING (scope, scope_id, day)
    LEFT JOIN scoped_health h USING (scope, scope_id, day)
    LEFT JOIN (SELECT DISTINCT p.phone_number_id, a.business_portfolio_id FROM _phone_numbers p JOIN staging.accounts a USING (waba_id)) n
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
