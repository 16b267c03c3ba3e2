-- marts.messaging_limit_rules: one row per step of each messaging-limit ladder, with the rule it belongs to, the dates it governs and how the step is reached. (columns: _marts.yml)
WITH rules AS (
    SELECT *, lead(effective_from) OVER (ORDER BY effective_from) - 1 AS effective_to
    FROM read_csv('{{ reference_csv('messaging_limit_rules.csv') }}', header = true, auto_detect = false, columns = {
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
JOIN read_csv('{{ reference_csv('messaging_limit_ladders.csv') }}', header = true, auto_detect = false, columns = {
        'rule': 'VARCHAR', 'step': 'INTEGER', 'tier': 'VARCHAR', 'daily_limit': 'BIGINT', 'reached_by': 'VARCHAR'}) l USING (rule)
ORDER BY r.effective_from, l.step
