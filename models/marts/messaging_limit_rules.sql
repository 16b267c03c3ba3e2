-- marts.messaging_limit_rules: one row per step of each messaging-limit ladder, with the rule it belongs to and
-- the dates it governs. The rules are data (models/reference/messaging_limit_rules.csv and
-- messaging_limit_ladders.csv): the limit marts and the tier forecast read them, never a hard-coded date.
-- column rule: Name of the rule, e.g. per_portfolio_2025_10.
-- column effective_from: First UTC day the rule applies to (windows ending on or after this day).
-- column effective_to: Last UTC day it applies to (NULL = still in force).
-- column scope: What a limit belongs to under this rule: phone_number or business_portfolio.
-- column step: Position on the ladder, 1 = the starting limit.
-- column tier: The tier as Meta spells it in this era (TIER_1K before 2025-10-07, TIER_2K after).
-- column daily_limit: Unique customers per rolling 24 hours at this step (NULL = unlimited).
-- column upgrade_share: Share of the limit that must be reached in unique customers within upgrade_window_days for an upgrade.
-- column upgrade_window_days: Length of the trailing window the upgrade condition looks at.
-- column upgrade_delay_hours: How soon Meta raises the limit once the condition holds.
-- column acceptable_quality: Quality ratings that do not block an upgrade.
-- column source: Where the rule comes from.
-- column description: The rule in words.
WITH rules AS (
    SELECT *, lead(effective_from) OVER (ORDER BY effective_from) - 1 AS effective_to
    FROM read_csv('@reference/messaging_limit_rules.csv', header = true, auto_detect = false, columns = {
        'rule': 'VARCHAR', 'effective_from': 'DATE', 'scope': 'VARCHAR', 'upgrade_share': 'DOUBLE',
        'upgrade_window_days': 'INTEGER', 'upgrade_delay_hours': 'INTEGER', 'acceptable_quality': 'VARCHAR',
        'source': 'VARCHAR', 'description': 'VARCHAR'})
)
SELECT r.rule, r.effective_from, r.effective_to, r.scope, l.step, l.tier, l.daily_limit, r.upgrade_share,
       r.upgrade_window_days, r.upgrade_delay_hours, string_split(r.acceptable_quality, '|') AS acceptable_quality,
       r.source, r.description
FROM rules r
JOIN read_csv('@reference/messaging_limit_ladders.csv', header = true, auto_detect = false, columns = {
        'rule': 'VARCHAR', 'step': 'INTEGER', 'tier': 'VARCHAR', 'daily_limit': 'BIGINT'}) l USING (rule)
ORDER BY r.effective_from, l.step
