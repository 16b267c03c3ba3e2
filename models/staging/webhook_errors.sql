-- staging.webhook_errors: one row per system, app or account-level error Meta put directly on a
-- `messages` webhook value (not tied to one message status).
-- key: _load_id, _line_no, entry_no, change_no, error_no
-- order: received_at
SELECT waba_id, v.metadata.phone_number_id AS phone_number_id, e.code AS error_code, e.title AS error_title,
       coalesce(e.error_data.details, e.message) AS error_details, entry_time AS event_at,
       received_at, entry_no, change_no, error_no, load_id AS _load_id, line_no AS _line_no
FROM (SELECT *, unnest(v.errors) AS e, generate_subscripts(v.errors, 1) AS error_no FROM _webhook_changes WHERE field = 'messages')
