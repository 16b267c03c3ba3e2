-- staging.business_capability_events: one row per business-capability change (messaging limit per
-- phone before 2025-10-07, per business portfolio after; registered-number caps), values as Meta sent them.
-- key: waba_id, event_at, payload_text
-- order: event_at
-- column waba_id: WhatsApp Business Account id.
-- column max_daily_conversation_per_phone: The per-phone messaging limit (before 2025-10-07), as sent.
-- column max_daily_conversations_per_business: The portfolio's messaging limit (TIER_*, a number, or UNLIMITED), as sent.
-- column max_phone_numbers_per_business: Registered-number cap per business portfolio.
-- column max_phone_numbers_per_waba: Registered-number cap per WABA.
-- column event_at: When the change happened: entry.time, else when the delivery was received (UTC).
-- column payload_text: The value object as text (part of the key).
-- column received_at: When our endpoint received the delivery (UTC); NULL for files without capture records.
-- column _load_id: raw.load_audit load that brought the row.
-- column _line_no: Line of the row in its landing file.
SELECT waba_id,
       json_extract_string(value, '$.max_daily_conversation_per_phone') AS max_daily_conversation_per_phone,
       json_extract_string(value, '$.max_daily_conversations_per_business') AS max_daily_conversations_per_business,
       json_extract_string(value, '$.max_phone_numbers_per_business') AS max_phone_numbers_per_business,
       json_extract_string(value, '$.max_phone_numbers_per_waba') AS max_phone_numbers_per_waba,
       coalesce(entry_time, received_at) AS event_at, value::VARCHAR AS payload_text,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM _management_values WHERE field = 'business_capability_update'
