-- marts.messaging_limit_daily: one row per messaging-limit scope per UTC day under the rule in force that day
-- (marts.messaging_limit_rules): each phone number before 2025-10-07, each business portfolio from then on.
-- The limit in force, the most unique customers reached outside a customer-service window in any sliding 24-hour
-- window and in any sliding upgrade window (7 days) ending that day, and whether the upgrade condition held.
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
-- column peak_unique_customers_24h: Most distinct customers sent a business-initiated message (a template not failed, outside a customer-service window) within any sliding 24-hour window ending this day.
-- column peak_unique_customers_7d: The same over sliding windows of the rule's upgrade window (7 days).
-- column utilisation: peak_unique_customers_24h / daily_limit (NULL when unlimited).
-- column upgrade_threshold: Unique customers within the upgrade window that qualify for the next step (upgrade_share x daily_limit).
-- column quality_ok: True when no number of the scope ended the day with a rating the rule does not accept (RED); NULL when no rating is known.
-- column restricted: True when a business-initiated-messaging restriction is in force on a WABA of the scope.
-- column upgrade_condition_met: peak_unique_customers_7d reached upgrade_threshold (exactly half counts), quality_ok is not false, not restricted, and the limit is not unlimited.
WITH health AS (
    SELECT h.day, h.phone_number_id, h.business_portfolio_id, h.quality_rating,
           list_contains(h.restrictions, 'RESTRICTED_BIZ_INITIATED_MESSAGING') AS restricted
    FROM marts.phone_number_health_daily h
), scoped_health AS (
    SELECT d.scope, d.scope_id, d.day,
           bool_and(list_contains(d.acceptable_quality, h.quality_rating)) FILTER (h.quality_rating IS NOT NULL) AS quality_ok,
           coalesce(bool_or(h.restricted), false) AS restricted
    FROM _scope_days d
    JOIN health h ON h.day = d.day AND CASE d.scope WHEN 'phone_number' THEN h.phone_number_id ELSE h.business_portfolio_id END = d.scope_id
    GROUP BY ALL
), reach AS (
    SELECT p.scope, p.scope_id, p.day,
           max(p.peak_unique_customers) FILTER (p.window_hours = 24) AS peak_24h,
           max(p.peak_unique_customers) FILTER (p.window_hours = d.upgrade_window_days * 24) AS peak_window
    FROM _reach_peaks p JOIN _scope_days d USING (scope, scope_id, day)
    GROUP BY ALL
)
SELECT d.day, d.rule, d.scope, d.scope_id, d.tier, d.daily_limit, d.limit_stated_at,
       CASE WHEN d.limit_rank > lag(d.limit_rank) OVER w THEN 'upgrade'
            WHEN d.limit_rank < lag(d.limit_rank) OVER w THEN 'downgrade' END AS limit_change,
       d.next_tier, d.next_daily_limit, d.tier_after_next,
       coalesce(r.peak_24h, 0) AS peak_unique_customers_24h,
       coalesce(r.peak_window, 0) AS peak_unique_customers_7d,
       round(coalesce(r.peak_24h, 0) / d.daily_limit, 4) AS utilisation,
       d.upgrade_share * d.daily_limit AS upgrade_threshold,
       h.quality_ok, coalesce(h.restricted, false) AS restricted,
       coalesce(coalesce(r.peak_window, 0) >= d.upgrade_share * d.daily_limit
                AND h.quality_ok IS NOT false AND NOT coalesce(h.restricted, false), false) AS upgrade_condition_met
FROM _scope_days d
LEFT JOIN reach r USING (scope, scope_id, day)
LEFT JOIN scoped_health h USING (scope, scope_id, day)
WINDOW w AS (PARTITION BY d.rule, d.scope, d.scope_id ORDER BY d.day)
ORDER BY d.scope, d.scope_id, d.day
