-- staging.webhook_errors: one row per system, app or account-level error Meta put directly on a
-- webhook value (`messages` or `calls`; not tied to one message status).
-- key: _load_id, _line_no, entry_no, change_no, error_no
-- order: received_at
-- column waba_id: WhatsApp Business Account id (entry.id); NULL for On-Premises bodies.
-- column field: The webhook field the value came in (messages, calls).
-- column phone_number_id: The business phone number's id (metadata.phone_number_id).
-- column error_code: errors[].code.
-- column error_title: errors[].title.
-- column error_message: errors[].message.
-- column error_details: error_data.details, or the On-Premises top-level details, else the message.
-- column error_href: errors[].href (Meta's page about the error).
-- column event_at: entry.time when present (UTC).
-- column received_at: When our endpoint received the delivery (UTC).
-- column entry_no: Position of the entry in the delivery (1-based).
-- column change_no: Position of the change in the entry (1-based).
-- column error_no: Position of the error in the value's errors array (1-based).
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file.
SELECT waba_id, field, v.metadata.phone_number_id AS phone_number_id, e.code AS error_code, e.title AS error_title,
       e.message AS error_message, error_details(e) AS error_details, e.href AS error_href, entry_time AS event_at,
       received_at, entry_no, change_no, error_no, load_id AS _load_id, line_no AS _line_no
FROM (SELECT *, unnest(v.errors) AS e, generate_subscripts(v.errors, 1) AS error_no FROM _webhook_changes
      WHERE field IN ('messages', 'calls'))
