-- staging.unknown_values: one row per (column, value) Meta sent that models/reference/webhook_vocabulary.csv
-- does not list yet, with how often it was seen. Such rows are kept in staging; this table makes them visible.
-- materialize: table
-- inputs: webhooks
-- column column_name: The staged column (table.column) the value was seen in.
-- column value: The value as Meta sent it (after the staging normalisation, e.g. hyphens to underscores in categories).
-- column occurrences: How many staged rows carry it.
WITH observed(column_name, vocabulary, value) AS (
    SELECT 'message_statuses.status', 'message_status', status FROM staging.message_statuses
    UNION ALL SELECT 'message_statuses.pricing_category', 'pricing_category', pricing_category FROM staging.message_statuses
    UNION ALL SELECT 'message_statuses.pricing_type', 'pricing_type', pricing_type FROM staging.message_statuses
    UNION ALL SELECT 'inbound_messages.message_type', 'message_type', message_type FROM staging.inbound_messages
    UNION ALL SELECT 'inbound_messages.interactive_type', 'interactive_type', interactive_type FROM staging.inbound_messages
    UNION ALL SELECT 'inbound_messages.system_type', 'system_type', system_type FROM staging.inbound_messages
    UNION ALL SELECT 'template_status_events.event', 'template_status_event', event FROM staging.template_status_events
    UNION ALL SELECT 'account_update_events.event', 'account_update_event', event FROM staging.account_update_events
    UNION ALL SELECT 'call_events.event', 'call_event', event FROM staging.call_events
    UNION ALL SELECT 'call_events.call_status', 'call_status', call_status FROM staging.call_events
    UNION ALL SELECT 'call_events.direction', 'call_direction', direction FROM staging.call_events
    UNION ALL SELECT 'group_events.event_type', 'group_event_type', event_type FROM staging.group_events
    UNION ALL SELECT 'other_webhook_events.field', 'webhook_field', field FROM staging.unknown_field_events
), known AS (
    SELECT vocabulary, value FROM read_csv('@reference/webhook_vocabulary.csv', header = true, all_varchar = true)
)
SELECT o.column_name, o.value, count(*) AS occurrences
FROM observed o ANTI JOIN known k ON o.vocabulary = k.vocabulary AND o.value = k.value
WHERE o.value IS NOT NULL
GROUP BY ALL
ORDER BY column_name, occurrences DESC, value
