-- staging.unknown_field_events: one row per webhook change whose field no documentation lists,
-- kept whole so nothing Meta adds is lost before we model it.
-- materialize: table
-- inputs: webhooks
SELECT * EXCLUDE (is_documented_field) FROM staging.other_webhook_events WHERE NOT is_documented_field
