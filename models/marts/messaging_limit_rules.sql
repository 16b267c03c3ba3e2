-- marts.messaging_limit_rules: one row per step of each messaging-limit ladder, with the rule it belongs to, the dates
-- it governs and how the step is reached. The rules are data (models/reference/messaging_limit_rules.csv and
-- messaging_limit_ladders.csv): the limit marts and the tier forecast read them, never a hard-coded date.
-- column rule: Name of the rule, e.g. per_portfolio_2025_10.
-- column effective_from: First UTC day the rule applies to (windows ending on or after this day).
-- column effective_to: Last UTC day it applies to (NULL = still in force).
-- column scope: What a limit belongs to under this rule: phone_number or business_portfolio.
-- column step: Position on the ladder, 1 = the starting limit.
-- column tier: The tier as Meta spells it in this era (TIER_1K before 2025-10-07, TIER_2K after).
-- column daily_limit: Unique customers per rolling 24 hours at this step (NULL = unlimited).
-- column reached_by: How a scope gets to this step: start (the limit a new scope has), scaling_path (verification or scaling_threshold unique customers delivered to in scaling_window_days, then Meta's review), automatic (upgrade_share of the limit within upgrade_window_days).
-- column upgrade_share: Share of the limit that must be reached in unique customers within upgrade_window_days for an automatic upgrade.
-- column upgrade_window_days: Length of the trailing window the automatic upgrade condition looks at.
-- column upgrade_delay_hours: How soon Meta raises the limit once the automatic condition holds (at most).
-- column acceptable_quality: Quality ratings that do not block an upgrade.
-- column scaling_threshold: Unique customers delivered to outside customer-service windows within scaling_window_days that complete the delivered-messages scaling path.
-- column scaling_window_days: Length of the moving window the scaling path counts over.
-- column scaling_quality: Template quality ratings a delivered message must have been sent with to count for the scaling path (GREEN = high).
-- column review_delay_hours: Assumed time from completing a scaling path to the raised limit (Meta reviews message quality and states no duration; approval takes effect immediately).
-- column scaling_paths: The scaling paths Meta lists: business_verification, identity_verification or partner_led_verification, delivered_to_unique_customers.
-- column flagged_downgrade_days: A number Flagged this many days in a row drops one level (NULL = no quality downgrade under this rule).
-- column source: Where the rule comes from.
-- column scaling_source: Where the scaling path and downgrade rules come from.
-- column description: The rule in words.
WITH rules AS (
    SELECT *, lead(effective_from) OVER (ORDER BY effective_from) - 1 AS effective_to
    FROM read_csv('@reference/messaging_limit_rules.csv', header = true, auto_detect = false, columns = {
        'rule': 'VARCHAR', 'effective_from': 'DATE', 'scope': 'VARCHAR', 'upgrade_share': 'DOUBLE',
        'upgrade_window_days': 'INTEGER', 'upgrade_delay_hours': 'INTEGER', 'acceptable_quality': 'VARCHAR',
        'scaling_threshold': 'BIGINT', 'scaling_window_days': 'INTEGER', 'scaling_quality': 'VARCHAR',
        'review_delay_hours': 'INTEGER', 'scaling_paths': 'VARCHAR', 'flagged_downgrade_days': 'INTEGER',
        'source': 'VARCHAR', 'scaling_source': 'VARCHAR', 'description': 'VARCHAR'})
)
SELECT r.rule, r.effective_from, r.effective_to, r.scope, l.step, l.tier, l.daily_limit, l.reached_by, r.upgrade_share,
       r.upgrade_window_days, r.upgrade_delay_hours, string_split(r.acceptable_quality, '|') AS acceptable_quality,
       r.scaling_threshold, r.scaling_window_days, string_split(r.scaling_quality, '|') AS scaling_quality,
       r.review_delay_hours, string_split(r.scaling_paths, '|') AS scaling_paths, r.flagged_downgrade_days,
       r.source, r.scaling_source, r.description
FROM rules r
JOIN read_csv('@reference/messaging_limit_ladders.csv', header = true, auto_detect = false, columns = {
        'rule': 'VARCHAR', 'step': 'INTEGER', 'tier': 'VARCHAR', 'daily_limit': 'BIGINT', 'reached_by': 'VARCHAR'}) l USING (rule)
ORDER BY r.effective_from, l.step
