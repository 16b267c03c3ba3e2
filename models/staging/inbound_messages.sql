-- staging.inbound_messages: one row per message a customer sent (any type, incl. system and
-- unsupported), typed, with Click-to-WhatsApp referral data; the full message object stays in `payload`.
-- key: message_id
-- order: sent_at
WITH messages AS (
    SELECT *, unnest(v.messages) AS payload FROM _webhook_changes WHERE field = 'messages'
), typed AS (
    SELECT *, json_transform(payload, '{
        "id": "VARCHAR", "from": "VARCHAR", "from_user_id": "VARCHAR", "from_parent_user_id": "VARCHAR",
        "group_id": "VARCHAR", "timestamp": "VARCHAR", "type": "VARCHAR",
        "text": {"body": "VARCHAR"},
        "context": {"from": "VARCHAR", "id": "VARCHAR", "forwarded": "BOOLEAN", "frequently_forwarded": "BOOLEAN"},
        "referral": {"source_url": "VARCHAR", "source_id": "VARCHAR", "source_type": "VARCHAR", "headline": "VARCHAR",
                     "body": "VARCHAR", "media_type": "VARCHAR", "ctwa_clid": "VARCHAR"},
        "interactive": {"type": "VARCHAR", "button_reply": {"id": "VARCHAR", "title": "VARCHAR"},
                        "list_reply": {"id": "VARCHAR", "title": "VARCHAR"}, "nfm_reply": {"name": "VARCHAR", "response_json": "VARCHAR"}},
        "button": {"payload": "VARCHAR", "text": "VARCHAR"},
        "reaction": {"message_id": "VARCHAR", "emoji": "VARCHAR"},
        "image": {"id": "VARCHAR", "mime_type": "VARCHAR"}, "video": {"id": "VARCHAR", "mime_type": "VARCHAR"},
        "audio": {"id": "VARCHAR", "mime_type": "VARCHAR"}, "document": {"id": "VARCHAR", "mime_type": "VARCHAR"},
        "sticker": {"id": "VARCHAR", "mime_type": "VARCHAR"},
        "location": {"latitude": "DOUBLE", "longitude": "DOUBLE"},
        "order": {"catalog_id": "VARCHAR"},
        "system": {"body": "VARCHAR", "type": "VARCHAR", "wa_id": "VARCHAR", "new_wa_id": "VARCHAR",
                   "user_id": "VARCHAR", "parent_user_id": "VARCHAR"},
        "errors": [{"code": "BIGINT", "title": "VARCHAR"}],
        "unsupported": {"type": "VARCHAR"}
    }') AS m
    FROM messages
), matched AS (
    -- A value can carry several messages and contacts: each message gets its own sender's contact.
    SELECT *, coalesce(list_filter(v.contacts, c -> c.wa_id = m."from" OR c.user_id = m.from_user_id)[1],
                       CASE WHEN len(v.contacts) = 1 THEN v.contacts[1] END) AS contact
    FROM typed
)
SELECT m.id AS message_id,
       waba_ts(m.timestamp) AS sent_at,
       waba_id,
       v.metadata.phone_number_id AS phone_number_id,
       v.metadata.display_phone_number AS display_phone_number,
       m."from" AS from_wa_id,
       coalesce(m.from_user_id, contact.user_id) AS from_user_id,
       coalesce(m."from", m.from_user_id, contact.wa_id, contact.user_id) AS customer_id,
       contact.profile.name AS contact_name,
       m.type AS message_type,
       m.text.body AS text_body,
       m.context.id AS context_message_id,
       coalesce(m.context.forwarded, false) OR coalesce(m.context.frequently_forwarded, false) AS is_forwarded,
       m.referral.source_type AS referral_source_type,
       m.referral.source_id AS referral_source_id,
       m.referral.source_url AS referral_source_url,
       m.referral.headline AS referral_headline,
       m.referral.ctwa_clid AS referral_ctwa_clid,
       m.interactive.type AS interactive_type,
       coalesce(m.interactive.button_reply.id, m.interactive.list_reply.id, m.button.payload) AS reply_id,
       coalesce(m.interactive.button_reply.title, m.interactive.list_reply.title, m.button.text) AS reply_title,
       m.interactive.nfm_reply.response_json AS flow_response_json,
       m.reaction.message_id AS reaction_message_id,
       nullif(m.reaction.emoji, '') AS reaction_emoji,
       coalesce(m.image.id, m.video.id, m.audio.id, m.document.id, m.sticker.id) AS media_id,
       coalesce(m.image.mime_type, m.video.mime_type, m.audio.mime_type, m.document.mime_type, m.sticker.mime_type) AS media_mime_type,
       m.location.latitude AS location_latitude,
       m.location.longitude AS location_longitude,
       m."order".catalog_id AS order_catalog_id,
       m.system.type AS system_type,
       m.system.body AS system_body,
       coalesce(m.system.wa_id, m.system.new_wa_id) AS system_new_wa_id,
       m.system.user_id AS system_new_user_id,
       coalesce(m.errors[1].code, v.errors[1].code) AS error_code,
       m.unsupported.type AS unsupported_type,
       m.group_id,
       payload,
       payload_format,
       received_at,
       load_id AS _load_id,
       line_no AS _line_no
FROM matched
