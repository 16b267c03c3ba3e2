SELECT waba_id, json_extract_string(value, '$.message_template_id') AS template_id,
       value ->> '$.message_template_name' AS template_name,
       replace(value ->> '$.message_template_language', '-', '_') AS template_language,
       value ->> '$.event' AS event, value ->> '$.reason' AS reason,
       value ->> '$.message_template_category' AS category,
       value ->> '$.other_info.title' AS other_info_title,
       value ->> '$.other_info.description' AS other_info_description,
       value ->> '$.disable_info.disable_date' AS disable_date,
       value ->> '$.rejection_info.reason' AS rejection_reason,
       coalesce(entry_time, received_at) AS event_at, value AS payload,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM {{ ref('webhook_management_values') }} WHERE field = 'message_template_status_update'
