SELECT waba_id, json_extract_string(value, '$.message_template_id') AS template_id,
       value ->> '$.message_template_name' AS template_name,
       replace(value ->> '$.message_template_language', '-', '_') AS template_language,
       CASE WHEN value ->> '$.correct_category' IS NOT NULL THEN 'impending' ELSE 'completed' END AS notice,
       value ->> '$.previous_category' AS previous_category,
       value ->> '$.new_category' AS new_category,
       value ->> '$.correct_category' AS correct_category,
       waba_ts(value ->> '$.category_update_timestamp') AS category_update_at,
       coalesce(entry_time, received_at) AS event_at, received_at, load_id AS _load_id, line_no AS _line_no
FROM {{ ref('webhook_management_values') }} WHERE field = 'template_category_update'
