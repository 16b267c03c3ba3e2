SELECT customer_id, lower(event) AS event, event_at, source, lower(scope) AS scope, evidence_ref, waba_id,
       wording, business_name, load_id AS _load_id, line_no AS _line_no
FROM {{ source('raw', 'optin_events') }}
ORDER BY event_at, load_id, line_no
