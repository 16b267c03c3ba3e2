WITH observed(column_name, vocabulary, value) AS (
    SELECT 'message_statuses.status', 'message_status', status FROM {{ ref('message_statuses') }}
    UNION ALL SELECT 'message_statuses.pricing_category', 'pricing_category', pricing_category FROM {{ ref('message_statuses') }}
    UNION ALL SELECT 'message_statuses.pricing_type', 'pricing_type', pricing_type FROM {{ ref('message_statuses') }}
    UNION ALL SELECT 'inbound_messages.message_type', 'message_type', message_type FROM {{ ref('inbound_messages') }}
    UNION ALL SELECT 'inbound_messages.interactive_type', 'interactive_type', interactive_type FROM {{ ref('inbound_messages') }}
    UNION ALL SELECT 'inbound_messages.system_type', 'system_type', system_type FROM {{ ref('inbound_messages') }}
    UNION ALL SELECT 'template_status_events.event', 'template_status_event', event FROM {{ ref('template_status_events') }}
    UNION ALL SELECT 'account_update_events.event', 'account_update_event', event FROM {{ ref('account_update_events') }}
    UNION ALL SELECT 'call_events.event', 'call_event', event FROM {{ ref('call_events') }}
    UNION ALL SELECT 'call_events.call_status', 'call_status', call_status FROM {{ ref('call_events') }}
    UNION ALL SELECT 'call_events.direction', 'call_direction', direction FROM {{ ref('call_events') }}
    UNION ALL SELECT 'group_events.event_type', 'group_event_type', event_type FROM {{ ref('group_events') }}
    UNION ALL SELECT 'other_webhook_events.field', 'webhook_field', field FROM {{ ref('unknown_field_events') }}
), known AS (
    SELECT vocabulary, value FROM read_csv('{{ reference_csv('webhook_vocabulary.csv') }}', header = true, all_varchar = true)
)
SELECT o.column_name, o.value, count(*) AS occurrences
FROM observed o ANTI JOIN known k ON o.vocabulary = k.vocabulary AND o.value = k.value
WHERE o.value IS NOT NULL
GROUP BY ALL
ORDER BY column_name, occurrences DESC, value
