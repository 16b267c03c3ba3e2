-- staging.template_status_events: one row per template status change Meta announced
-- (APPROVED, PAUSED, DISABLED, ...), with the pause kind from other_info.
-- key: template_id, event, event_at
-- order: event_at
-- column waba_id: WhatsApp Business Account id.
-- column template_id: The template's id (message_template_id, as text).
-- column template_name: The template's name.
-- column template_language: The template's language code, hyphens as underscores (en_US).
-- column event: The status event (APPROVED, PAUSED, DISABLED, ...; see webhook_vocabulary.csv).
-- column reason: Meta's reason (e.g. NONE, INCORRECT_CATEGORY), as sent.
-- column category: message_template_category, when Meta sent it.
-- column other_info_title: other_info.title: the pause kind (FIRST_PAUSE, SECOND_PAUSE, UNPAUSE, ...).
-- column other_info_description: other_info.description.
-- column disable_date: disable_info.disable_date.
-- column rejection_reason: rejection_info.reason.
-- column event_at: When the change happened: entry.time, else when the delivery was received (UTC).
-- column payload: The change's value object, whole, as JSON.
-- column received_at: When our endpoint received the delivery (UTC); NULL for files without capture records.
-- column _load_id: raw.load_audit load that brought the row.
-- column _line_no: Line of the row in its landing file.
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
FROM _management_values WHERE field = 'message_template_status_update'
