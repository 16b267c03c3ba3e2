-- staging.optin_events: one row per consent event the business recorded (opt_in / opt_out), in event time, with
-- the opt-in's wording and the business it names when the register keeps them.
-- materialize: table
-- inputs: optin_events
-- column customer_id: The customer as the business recorded the consent (phone number or BSUID).
-- column event: opt_in or opt_out.
-- column event_at: When the consent event happened (UTC).
-- column source: Where consent was collected (e.g. website_form).
-- column scope: What the consent covers (lower case).
-- column evidence_ref: The business's reference to its evidence.
-- column waba_id: The WABA the consent was recorded for.
-- column wording: The opt-in text the customer agreed to, when the register keeps it (policy: it must name the business).
-- column business_name: The business the opt-in names, when the register keeps it.
-- column _load_id: raw.load_audit load that brought the row.
-- column _line_no: Line of the row in its landing file.
SELECT customer_id, lower(event) AS event, event_at, source, lower(scope) AS scope, evidence_ref, waba_id,
       wording, business_name, load_id AS _load_id, line_no AS _line_no
FROM raw.optin_events
ORDER BY event_at, load_id, line_no
