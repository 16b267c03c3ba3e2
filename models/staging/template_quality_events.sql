-- staging.template_quality_events: one row per template quality-score change (GREEN/YELLOW/RED/UNKNOWN).
-- key: template_id, new_quality_score, event_at
-- order: event_at
-- column waba_id: WhatsApp Business Account id.
-- column template_id: The template's id (message_template_id, as text).
-- column template_name: The template's name.
-- column template_language: The template's language code, hyphens as underscores (en_US).
-- column previous_quality_score: Quality score before (GREEN, YELLOW, RED, UNKNOWN).
-- column new_quality_score: Quality score after.
-- column event_at: When the change happened: entry.time, else when the delivery was received (UTC).
-- column received_at: When our endpoint received the delivery (UTC); NULL for files without capture records.
-- column _load_id: raw.load_audit load that brought the row.
-- column _line_no: Line of the row in its landing file.
SELECT waba_id, json_extract_string(value, '$.message_template_id') AS template_id,
       value ->> '$.message_template_name' AS template_name,
       replace(value ->> '$.message_template_language', '-', '_') AS template_language,
       value ->> '$.previous_quality_score' AS previous_quality_score,
       value ->> '$.new_quality_score' AS new_quality_score,
       coalesce(entry_time, received_at) AS event_at, received_at, load_id AS _load_id, line_no AS _line_no
FROM _management_values WHERE field = 'message_template_quality_update'
