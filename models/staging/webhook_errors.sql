SELECT waba_id, field, v.metadata.phone_number_id AS phone_number_id, e.code AS error_code, e.title AS error_title,
       e.message AS error_message, error_details(e) AS error_details, e.href AS error_href, entry_time AS event_at,
       received_at, entry_no, change_no, error_no, load_id AS _load_id, line_no AS _line_no
FROM (SELECT *, unnest(v.errors) AS e, generate_subscripts(v.errors, 1) AS error_no FROM {{ ref('webhook_changes') }}
      WHERE field IN ('messages', 'calls'))
