SELECT waba_id,
       json_extract_string(value, '$.max_daily_conversation_per_phone') AS max_daily_conversation_per_phone,
       json_extract_string(value, '$.max_daily_conversations_per_business') AS max_daily_conversations_per_business,
       json_extract_string(value, '$.max_phone_numbers_per_business') AS max_phone_numbers_per_business,
       json_extract_string(value, '$.max_phone_numbers_per_waba') AS max_phone_numbers_per_waba,
       coalesce(entry_time, received_at) AS event_at, value::VARCHAR AS payload_text,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM {{ ref('webhook_management_values') }} WHERE field = 'business_capability_update'
