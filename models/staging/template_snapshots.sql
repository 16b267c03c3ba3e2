WITH csv AS (
    SELECT snapshot_at, waba_id, template_id, name AS template_name, language AS template_language, category, status,
           quality_score, NULL::VARCHAR AS previous_category, NULL::VARCHAR AS correct_category,
           NULL::VARCHAR AS sub_category, NULL::VARCHAR AS parameter_format, NULL::VARCHAR AS rejected_reason,
           NULL::TIMESTAMPTZ AS quality_score_at, NULL::JSON AS components, 'csv' AS source, load_id, line_no
    FROM {{ source('raw', 'template_snapshots') }}
), graph_templates AS (
    SELECT fetched_at, waba_id, load_id, unnest(json_extract(response, '$.data[*]')) AS t
    FROM {{ source('raw', 'graph_responses') }}
    WHERE kind = 'message_templates'
), graph AS (
    SELECT fetched_at AS snapshot_at, waba_id, t ->> '$.id' AS template_id, t ->> '$.name' AS template_name,
           t ->> '$.language' AS template_language, t ->> '$.category' AS category, t ->> '$.status' AS status,
           t ->> '$.quality_score.score' AS quality_score, upper(t ->> '$.previous_category') AS previous_category,
           upper(t ->> '$.correct_category') AS correct_category, upper(t ->> '$.sub_category') AS sub_category,
           upper(t ->> '$.parameter_format') AS parameter_format, t ->> '$.rejected_reason' AS rejected_reason,
           waba_ts(t ->> '$.quality_score.date') AS quality_score_at, t -> '$.components' AS components,
           'graph_api' AS source, load_id, 1 AS line_no
    FROM graph_templates
)
SELECT snapshot_at, waba_id, template_id, template_name, replace(template_language, '-', '_') AS template_language,
       upper(category) AS category, upper(status) AS status, upper(quality_score) AS quality_score,
       previous_category, correct_category, sub_category, parameter_format, rejected_reason, quality_score_at,
       components, source
FROM (SELECT * FROM csv UNION ALL SELECT * FROM graph)
WHERE template_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY template_id, snapshot_at ORDER BY load_id DESC, line_no) = 1
ORDER BY snapshot_at, template_id
