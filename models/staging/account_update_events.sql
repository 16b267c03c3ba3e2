-- staging.account_update_events: one row per WABA account event (restrictions, violations, bans,
-- volume-tier updates, ...); the event-specific objects stay in `payload`.
-- key: waba_id, event, event_at, payload_text
-- order: event_at
-- column waba_id: WhatsApp Business Account id.
-- column event: The account event (ACCOUNT_RESTRICTION, ACCOUNT_VIOLATION, VOLUME_BASED_PRICING_TIER_UPDATE, ...).
-- column phone_number: The business phone number the event names, if any.
-- column restriction_info: restriction_info array, as JSON.
-- column ban_info: ban_info object, as JSON.
-- column volume_tier_info: volume_tier_info object, as JSON.
-- column event_at: When the change happened: entry.time, else when the delivery was received (UTC).
-- column payload: The change's value object, whole, as JSON.
-- column payload_text: The same value as text (part of the key: identical redeliveries collapse).
-- column received_at: When our endpoint received the delivery (UTC); NULL for files without capture records.
-- column _load_id: raw.load_audit load that brought the row.
-- column _line_no: Line of the row in its landing file.
SELECT waba_id, value ->> '$.event' AS event, value ->> '$.phone_number' AS phone_number,
       value -> '$.restriction_info' AS restriction_info, value -> '$.ban_info' AS ban_info,
       value -> '$.volume_tier_info' AS volume_tier_info,
       coalesce(entry_time, received_at) AS event_at, value AS payload, value::VARCHAR AS payload_text,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM _management_values WHERE field = 'account_update'
