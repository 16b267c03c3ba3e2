SELECT waba_id, json_extract_string(value, '$.message_template_id') AS template_id,
       value ->> '$.message_template_name' AS template_name,
       replace(value ->> '$.message_template_language', '-', '_') AS template_language,
       value ->> '$.previous_quality_score' AS previous_quality_score,
       value ->> '$.new_quality_score' AS new_quality_score,
       coalesce(entry_time, received_at) AS event_at, received_at, load_id AS _load_id, line_no AS _line_no
FROM {{ ref('webhook_management_values') }} WHERE field = 'message_template_quality_update'
