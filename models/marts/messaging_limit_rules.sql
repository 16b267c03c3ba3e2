-- marts.messaging_limit_rules: one row per step of each messaging-limit ladder, with the rule it belongs to, the dates it governs and how the step is reached. (columns: _marts.yml)
WITH rules AS (
    SELECT *, lead(effective_from) OVER (ORDER BY effective_from) - 1 AS effective_to
    FROM {{ ref('messaging_limit_eras') }}
)
SELECT r.rule, r.effective_from, r.effective_to, r.scope, l.step, l.tier, l.daily_limit, l.reached_by, r.upgrade_share,
       r.upgrade_window_days, r.upgrade_delay_hours, string_split(r.acceptable_quality, '|') AS acceptable_quality,
       r.scaling_threshold, r.scaling_window_days, string_split(r.scaling_quality, '|') AS scaling_quality,
       r.review_delay_hours, string_split(r.scaling_paths, '|') AS scaling_paths, r.flagged_downgrade_days,
       r.source, r.scaling_source, r.description
FROM rules r
JOIN {{ ref('messaging_limit_ladders') }} l USING (rule)
ORDER BY r.effective_from, l.step
