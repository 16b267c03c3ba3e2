-- staging.optin_events: one row per consent event the business recorded (opt_in / opt_out), in event time, with
-- the opt-in's wording and the business it names when the register keeps them.
-- materialize: table
-- inputs: optin_events
SELECT customer_id, lower(event) AS event, event_at, source, lower(scope) AS scope, evidence_ref, waba_id,
       wording, business_name, load_id AS _load_id, line_no AS _line_no
FROM raw.optin_events
ORDER BY event_at, load_id, line_no
