-- staging.message_statuses: one row per (outbound message id, status, group participant) Meta
-- reported, first report by event time kept (group messages get a delivered and read per
-- participant). Includes the conversation and pricing objects as Meta sent them in each period.
-- key: message_id, status, recipient_participant_id
-- order: status_at
SELECT s.id AS message_id,
       s.status,
       waba_ts(s.timestamp) AS status_at,
       waba_id,
       v.metadata.phone_number_id AS phone_number_id,
       v.metadata.display_phone_number AS display_phone_number,
       s.recipient_id,
       s.recipient_user_id,
       coalesce(s.recipient_parent_user_id, s.parent_recipient_user_id) AS recipient_parent_user_id,
       coalesce(s.recipient_id, s.recipient_user_id) AS customer_id,
       s.recipient_type,
       s.recipient_participant_id,
       s.conversation.id AS conversation_id,
       waba_ts(s.conversation.expiration_timestamp) AS conversation_expires_at,
       s.conversation.origin.type AS conversation_category,
       s.pricing.billable AS pricing_billable,
       s.pricing.pricing_model AS pricing_model,
       coalesce(s.pricing.type, s.pricing.pricing_type) AS pricing_type,
       replace(s.pricing.category, '-', '_') AS pricing_category,
       s.errors[1].code AS error_code,
       s.errors[1].title AS error_title,
       coalesce(s.errors[1].error_data.details, s.errors[1].message) AS error_details,
       s.biz_opaque_callback_data,
       payload_format,
       received_at,
       load_id AS _load_id,
       line_no AS _line_no
FROM (SELECT *, unnest(v.statuses) AS s FROM _webhook_changes WHERE field = 'messages')
