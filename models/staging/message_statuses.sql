WITH statuses AS (
    SELECT *, unnest(v.statuses) AS s FROM {{ ref('webhook_changes') }} WHERE field = 'messages'
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
