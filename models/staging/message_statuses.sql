-- staging.message_statuses: one row per (outbound message id, status, group participant) Meta
-- reported, first report by event time kept (group messages get a delivered and read per
-- participant). Includes the conversation and pricing objects as Meta sent them in each period.
-- key: message_id, status, recipient_participant_id
-- order: status_at
-- column message_id: The outbound message's id (statuses[].id).
-- column status: sent, delivered, read, failed, played; On-Premises also deleted and warning.
-- column status_at: statuses[].timestamp (UTC).
-- column waba_id: WhatsApp Business Account id (entry.id); NULL for On-Premises bodies.
-- column phone_number_id: The business phone number's id (metadata.phone_number_id).
-- column display_phone_number: The business number as digits (metadata.display_phone_number).
-- column recipient_id: The customer's phone number, or the group id for a group message; NULL when sent to a BSUID.
-- column recipient_user_id: The recipient's business-scoped user id.
-- column recipient_parent_user_id: The recipient's parent BSUID (recipient_parent_user_id, or parent_recipient_user_id, its name until 2026-05-05).
-- column customer_id: The customer: recipient_id, else the BSUID.
-- column recipient_type: 'group' for a group message, else NULL (individual).
-- column recipient_participant_id: The group participant the status is for (Meta spells it recipient_participant_id
-- or participant_recipient_id; both accepted), else the participant's BSUID; NULL outside groups.
-- column group_id: The group a group message went to (recipient_id when recipient_type is 'group').
-- column contact_name: The recipient's profile name from the status's contacts array (sent/delivered/read since 2026); personal data, masked in reports.
-- column contact_username: The recipient's username from that contacts array, when they adopted one.
-- column conversation_id: conversation.id (CBP-era and free-entry-point statuses).
-- column conversation_expires_at: conversation.expiration_timestamp (UTC; on sent only).
-- column conversation_category: conversation.origin.type.
-- column pricing_billable: pricing.billable (being deprecated by Meta).
-- column pricing_model: pricing.pricing_model (CBP / PMP).
-- column pricing_type: pricing.type (or the early pricing_type): regular, free_customer_service, free_entry_point.
-- column pricing_category: pricing.category with hyphens as underscores.
-- column error_code: First error's code (failed statuses).
-- column error_title: Its title.
-- column error_message: Its message.
-- column error_details: Its details (error_data.details, or the On-Premises top-level details, else the message).
-- column biz_opaque_callback_data: The tracking string the business sent with the message.
-- column payload_format: cloud | onprem.
-- column received_at: When our endpoint received the delivery (UTC).
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file.
WITH statuses AS (
    SELECT *, unnest(v.statuses) AS s FROM _webhook_changes WHERE field = 'messages'
)
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
       coalesce(s.recipient_participant_id, s.participant_recipient_id, s.recipient_participant_user_id) AS recipient_participant_id,
       CASE WHEN s.recipient_type = 'group' THEN s.recipient_id END AS group_id,
       contact.profile.name AS contact_name,
       contact.profile.username AS contact_username,
       s.conversation.id AS conversation_id,
       waba_ts(s.conversation.expiration_timestamp) AS conversation_expires_at,
       s.conversation.origin.type AS conversation_category,
       s.pricing.billable AS pricing_billable,
       s.pricing.pricing_model AS pricing_model,
       coalesce(s.pricing.type, s.pricing.pricing_type) AS pricing_type,
       replace(s.pricing.category, '-', '_') AS pricing_category,
       s.errors[1].code AS error_code,
       s.errors[1].title AS error_title,
       s.errors[1].message AS error_message,
       error_details(s.errors[1]) AS error_details,
       s.biz_opaque_callback_data,
       payload_format,
       received_at,
       load_id AS _load_id,
       line_no AS _line_no
FROM (
    -- Each status gets its own recipient's contact (a value can batch several).
    SELECT *, coalesce(list_filter(v.contacts, c -> c.wa_id = s.recipient_id OR c.user_id = s.recipient_user_id)[1],
                       CASE WHEN len(v.contacts) = 1 AND s.recipient_type IS DISTINCT FROM 'group' THEN v.contacts[1] END) AS contact
    FROM statuses
)
