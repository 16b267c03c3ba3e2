-- staging.identity_changes: one row per system message saying a customer's number or identity
-- changed (all four spellings Meta used: user_changed_number, customer_changed_number,
-- customer_identity_changed, user_changed_user_id).
-- materialize: table
-- inputs: webhooks
SELECT message_id, sent_at AS changed_at, waba_id, phone_number_id, customer_id AS previous_customer_id,
       from_wa_id AS previous_wa_id, from_user_id AS previous_user_id,
       system_type AS change_type, system_new_wa_id AS new_wa_id, system_new_user_id AS new_user_id, system_body
FROM staging.inbound_messages
WHERE message_type = 'system'
  AND system_type IN ('user_changed_number', 'customer_changed_number', 'customer_identity_changed', 'user_changed_user_id')
ORDER BY changed_at
