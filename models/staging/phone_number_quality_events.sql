-- staging.phone_number_quality_events: one row per phone-number quality or messaging-limit event,
-- tier values kept exactly as Meta spelled them (TIER_1K, TIER_2K, 2000, UNLIMITED, ...).
-- key: waba_id, display_phone_number, event, event_at
-- order: event_at
-- column waba_id: WhatsApp Business Account id.
-- column display_phone_number: The business number as digits.
-- column event: The quality or limit event, as Meta sent it.
-- column current_limit: current_limit as Meta spelled it (TIER_2K, TIER_10K, ...).
-- column old_limit: old_limit as Meta spelled it.
-- column max_daily_conversations_per_business: The business portfolio's messaging limit as sent (TIER_* or a number).
-- column event_at: When the change happened: entry.time, else when the delivery was received (UTC).
-- column received_at: When our endpoint received the delivery (UTC); NULL for files without capture records.
-- column _load_id: raw.load_audit load that brought the row.
-- column _line_no: Line of the row in its landing file.
SELECT waba_id, value ->> '$.display_phone_number' AS display_phone_number,
       value ->> '$.event' AS event,
       json_extract_string(value, '$.current_limit') AS current_limit,
       json_extract_string(value, '$.old_limit') AS old_limit,
       json_extract_string(value, '$.max_daily_conversations_per_business') AS max_daily_conversations_per_business,
       coalesce(entry_time, received_at) AS event_at, received_at, load_id AS _load_id, line_no AS _line_no
FROM _management_values WHERE field = 'phone_number_quality_update'
