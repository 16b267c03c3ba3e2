-- staging.other_webhook_events: one row per webhook change of any field not modelled above
-- (security, account_alerts, history, ... and fields no documentation lists yet), value kept whole.
-- key: waba_id, field, event_at, payload_text
-- order: event_at
SELECT waba_id, field,
       field IN ('account_alerts', 'account_review_update', 'automatic_events', 'history',
                 'message_template_components_update', 'partner_solutions', 'payment_configuration_update',
                 'phone_number_name_update', 'security', 'smb_app_state_sync', 'smb_message_echoes',
                 'business_username_update', 'user_id_update') AS is_documented_field,
       coalesce(entry_time, received_at) AS event_at, value AS payload, value::VARCHAR AS payload_text,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM _management_values
WHERE field NOT IN ('messages', 'user_preferences', 'message_template_status_update', 'message_template_quality_update',
                    'template_category_update', 'phone_number_quality_update', 'business_capability_update', 'account_update')
