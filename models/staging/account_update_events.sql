SELECT waba_id, value ->> '$.event' AS event, value ->> '$.phone_number' AS phone_number,
       value -> '$.restriction_info' AS restriction_info, value -> '$.ban_info' AS ban_info,
       value -> '$.volume_tier_info' AS volume_tier_info,
       coalesce(entry_time, received_at) AS event_at, value AS payload, value::VARCHAR AS payload_text,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM {{ ref('webhook_management_values') }} WHERE field = 'account_update'
