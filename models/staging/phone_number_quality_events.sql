SELECT waba_id, value ->> '$.display_phone_number' AS display_phone_number,
       value ->> '$.event' AS event,
       json_extract_string(value, '$.current_limit') AS current_limit,
       json_extract_string(value, '$.old_limit') AS old_limit,
       json_extract_string(value, '$.max_daily_conversations_per_business') AS max_daily_conversations_per_business,
       coalesce(entry_time, received_at) AS event_at, received_at, load_id AS _load_id, line_no AS _line_no
FROM {{ ref('webhook_management_values') }} WHERE field = 'phone_number_quality_update'
