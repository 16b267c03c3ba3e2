-- staging.unknown_values: one row per (column, value) Meta sent that our reference lists do not know
-- yet, with how often it was seen. Such rows are kept in staging; this table makes them visible.
-- materialize: table
-- inputs: webhooks
WITH observed AS (
    SELECT 'message_statuses.status' AS column_name, status AS value FROM staging.message_statuses
    UNION ALL SELECT 'message_statuses.pricing_category', pricing_category FROM staging.message_statuses
    UNION ALL SELECT 'message_statuses.pricing_type', pricing_type FROM staging.message_statuses
    UNION ALL SELECT 'inbound_messages.message_type', message_type FROM staging.inbound_messages
    UNION ALL SELECT 'template_status_events.event', event FROM staging.template_status_events
    UNION ALL SELECT 'account_update_events.event', event FROM staging.account_update_events
    UNION ALL SELECT 'other_webhook_events.field', field FROM staging.unknown_field_events
), known(column_name, value) AS (
    SELECT 'message_statuses.status', unnest(['sent', 'delivered', 'read', 'failed', 'played', 'deleted', 'warning'])
    UNION ALL SELECT 'message_statuses.pricing_category', unnest(['authentication', 'authentication_international',
        'marketing', 'marketing_lite', 'utility', 'service', 'referral_conversion', 'business_initiated',
        'user_initiated', 'group_marketing', 'group_utility', 'group_service', 'general_purpose_ai'])
    UNION ALL SELECT 'message_statuses.pricing_type', unnest(['regular', 'free_customer_service', 'free_entry_point', 'free_tier'])
    UNION ALL SELECT 'inbound_messages.message_type', unnest(['text', 'image', 'video', 'audio', 'document', 'sticker',
        'interactive', 'button', 'reaction', 'location', 'contacts', 'order', 'system', 'unsupported', 'revoke',
        'edit', 'request_welcome', 'unknown'])
    UNION ALL SELECT 'template_status_events.event', unnest(['APPROVED', 'ARCHIVED', 'UNARCHIVED', 'DELETED', 'DISABLED',
        'FLAGGED', 'IN_APPEAL', 'LIMIT_EXCEEDED', 'LOCKED', 'PAUSED', 'PENDING', 'PENDING_DELETION', 'REINSTATED', 'REJECTED'])
    UNION ALL SELECT 'account_update_events.event', unnest(['ACCOUNT_DELETED', 'ACCOUNT_RESTRICTION', 'ACCOUNT_VIOLATION',
        'AD_ACCOUNT_LINKED', 'AUTH_INTL_PRICE_ELIGIBILITY_UPDATE', 'BUSINESS_PRIMARY_LOCATION_COUNTRY_UPDATE',
        'DISABLED_UPDATE', 'MM_LITE_TERMS_SIGNED', 'PARTNER_ADDED', 'PARTNER_APP_INSTALLED', 'PARTNER_APP_UNINSTALLED',
        'PARTNER_CLIENT_CERTIFICATION_STATUS_UPDATE', 'PARTNER_REMOVED', 'VOLUME_BASED_PRICING_TIER_UPDATE',
        'ACCOUNT_OFFBOARDED', 'ACCOUNT_RECONNECTED', 'VERIFIED_ACCOUNT'])
)
SELECT o.column_name, o.value, count(*) AS occurrences
FROM observed o ANTI JOIN known k ON o.column_name = k.column_name AND o.value = k.value
WHERE o.value IS NOT NULL
GROUP BY ALL
ORDER BY column_name, occurrences DESC
