-- staging.template_snapshots: one row per template per Business Manager snapshot time.
-- materialize: table
-- inputs: template_snapshots
SELECT snapshot_at, waba_id, template_id, name AS template_name, replace(language, '-', '_') AS template_language,
       upper(category) AS category, upper(status) AS status, upper(quality_score) AS quality_score
FROM raw.template_snapshots
QUALIFY row_number() OVER (PARTITION BY template_id, snapshot_at ORDER BY load_id DESC, line_no) = 1
ORDER BY snapshot_at, template_id
