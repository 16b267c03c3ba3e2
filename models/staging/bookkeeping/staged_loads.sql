{#- Runs after every webhook model of the batch (depends_on below), so a load counts as staged only once all of them
    hold its rows; if one fails, the load stays pending and the next run parses it again (its keys are then present:
    nothing doubles). -#}
-- depends_on: {{ ref('message_statuses') }}, {{ ref('inbound_messages') }}, {{ ref('webhook_contacts') }}
-- depends_on: {{ ref('webhook_errors') }}, {{ ref('user_preferences') }}, {{ ref('template_status_events') }}
-- depends_on: {{ ref('template_quality_events') }}, {{ ref('template_category_events') }}
-- depends_on: {{ ref('phone_number_quality_events') }}, {{ ref('business_capability_events') }}
-- depends_on: {{ ref('account_update_events') }}, {{ ref('other_webhook_events') }}, {{ ref('unparsed_deliveries') }}
-- depends_on: {{ ref('call_events') }}, {{ ref('group_events') }}, {{ ref('group_participants') }}
-- depends_on: {{ ref('user_id_updates') }}
SELECT load_id, now() AS staged_at FROM {{ ref('webhook_batch') }}
