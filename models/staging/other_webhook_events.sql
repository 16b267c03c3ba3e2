-- staging.other_webhook_events: one row per webhook change of a field no typed table stages: fields
-- Meta documents but we keep whole (models/reference/webhook_vocabulary.csv says why for each), and
-- fields no documentation lists yet.
-- key: waba_id, field, event_at, payload_text
-- order: event_at
-- column waba_id: WhatsApp Business Account id (entry.id).
-- column field: The webhook field (changes[].field) as Meta sent it.
-- column is_documented_field: True when webhook_vocabulary.csv lists the field as documented by Meta (kept
-- whole, not modelled yet); false for a field no documentation lists (also in unknown_field_events).
-- column event_at: When the change happened: entry.time, else when the delivery was received (UTC).
-- column payload: The change's value object, whole, as JSON.
-- column payload_text: The same value as text (part of the key: identical redeliveries collapse).
-- column received_at: When our endpoint received the delivery (UTC); NULL for files without capture records.
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file.
WITH fields AS (
    SELECT value AS field, staged_into FROM read_csv('@reference/webhook_vocabulary.csv', header = true, all_varchar = true)
    WHERE vocabulary = 'webhook_field'
)
SELECT waba_id, v.field,
       f.field IS NOT NULL AS is_documented_field,
       coalesce(entry_time, received_at) AS event_at, value AS payload, value::VARCHAR AS payload_text,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM _management_values v
LEFT JOIN fields f ON f.field = v.field
WHERE f.staged_into IS NULL OR f.staged_into = 'other_webhook_events'
