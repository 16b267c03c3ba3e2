-- staging.inbound_messages: one row per message a customer sent (any type, incl. system and
-- unsupported; Cloud and On-Premises bodies), typed, with Click-to-WhatsApp referral data and
-- message-level errors; the full message object stays in `payload`.
-- key: message_id
-- order: sent_at
-- column message_id: Meta's message id (wamid..., or the On-Premises id).
-- column sent_at: messages[].timestamp (UTC).
-- column waba_id: WhatsApp Business Account id (entry.id); NULL for On-Premises bodies.
-- column phone_number_id: The business phone number's id (metadata.phone_number_id).
-- column display_phone_number: The business number as digits (metadata.display_phone_number).
-- column from_wa_id: The sender's phone number (`from`); NULL for a customer known only by BSUID.
-- column from_user_id: The sender's business-scoped user id (from_user_id, else the matching contact's user_id).
-- column from_parent_user_id: The sender's parent BSUID (from_parent_user_id, else the contact's parent_user_id).
-- column customer_id: The customer: the phone number, else the BSUID.
-- column contact_name: The sender's WhatsApp profile name (contacts[].profile.name); personal data, masked in reports.
-- column contact_username: The sender's WhatsApp username (contacts[].profile.username), when they adopted one.
-- column message_type: messages[].type (text, image, voice, interactive, system, ...; see webhook_vocabulary.csv).
-- column text_body: text.body.
-- column context_message_id: The message replied to (context.id); for a call permission reply, the request message or missed call.
-- column is_forwarded: True when context says forwarded or frequently_forwarded.
-- column referral_source_type: Click-to-WhatsApp referral source_type (ad / post).
-- column referral_source_id: referral.source_id (the ad or post id).
-- column referral_source_url: referral.source_url.
-- column referral_headline: referral.headline.
-- column referral_ctwa_clid: referral.ctwa_clid (click id; absent for ads in WhatsApp Status).
-- column referral_body: referral.body (the ad text).
-- column referral_media_type: referral.media_type (image / video).
-- column referral_image_url: referral.image_url.
-- column referral_video_url: referral.video_url.
-- column referral_thumbnail_url: referral.thumbnail_url.
-- column referral_welcome_text: referral.welcome_message.text.
-- column interactive_type: interactive.type (button_reply, list_reply, nfm_reply, call_permission_reply, ...).
-- column reply_id: The id of the button or list row chosen (interactive reply, or a template quick-reply payload).
-- column reply_title: The title of the button or list row chosen.
-- column flow_response_json: A Flow's answers (interactive.nfm_reply.response_json, a JSON string).
-- column call_permission_response: interactive.call_permission_reply.response (accept / reject).
-- column call_permission_is_permanent: interactive.call_permission_reply.is_permanent.
-- column call_permission_expires_at: When an accepted call permission expires (expiration_timestamp, UTC).
-- column call_permission_source: interactive.call_permission_reply.response_source (user_action / automatic).
-- column reaction_message_id: The message reacted to.
-- column reaction_emoji: The emoji; NULL when a reaction was removed (emoji omitted or empty).
-- column media_id: Media id of an image, video, audio, voice, document or sticker message.
-- column media_mime_type: Its MIME type.
-- column media_url: Its download URL, where Meta includes one.
-- column media_caption: Its caption (image, video, document).
-- column location_latitude: location.latitude.
-- column location_longitude: location.longitude.
-- column order_catalog_id: order.catalog_id.
-- column system_type: system.type (user_changed_number, user_changed_user_id, user_identity_changed, ...).
-- column system_body: system.body as Meta wrote it.
-- column system_new_wa_id: The phone number after a number change (system.wa_id, or the older new_wa_id).
-- column system_new_user_id: The BSUID after a change (system.user_id).
-- column system_new_parent_user_id: The parent BSUID after a change (system.parent_user_id).
-- column system_previous_wa_id: The number before an On-Premises change (system.customer, or the older system.user).
-- column identity_hash: The identity key hash of an identity change (identity.hash, or On-Premises system.identity).
-- column error_code: First error on the message (messages[].errors), else on the value (value.errors).
-- column error_title: Its title.
-- column error_message: Its message.
-- column error_details: Its details (error_data.details, or the On-Premises top-level details, else the message).
-- column unsupported_type: unsupported.type (what WhatsApp could not pass on).
-- column group_id: The group the message was sent in (group messages only).
-- column payload: The message object, whole, as JSON.
-- column payload_format: cloud | onprem.
-- column received_at: When our endpoint received the delivery (UTC).
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file.
WITH messages AS (
    SELECT *, unnest(v.messages) AS payload FROM _webhook_changes WHERE field = 'messages'
), typed AS (
    SELECT *, json_transform(payload, '{
        "id": "VARCHAR", "from": "VARCHAR", "from_user_id": "VARCHAR", "from_parent_user_id": "VARCHAR",
        "group_id": "VARCHAR", "timestamp": "VARCHAR", "type": "VARCHAR",
        "text": {"body": "VARCHAR"},
        "context": {"from": "VARCHAR", "id": "VARCHAR", "forwarded": "BOOLEAN", "frequently_forwarded": "BOOLEAN"},
        "referral": {"source_url": "VARCHAR", "source_id": "VARCHAR", "source_type": "VARCHAR", "headline": "VARCHAR",
                     "body": "VARCHAR", "media_type": "VARCHAR", "ctwa_clid": "VARCHAR", "image_url": "VARCHAR",
                     "video_url": "VARCHAR", "thumbnail_url": "VARCHAR", "welcome_message": {"text": "VARCHAR"}},
        "interactive": {"type": "VARCHAR", "button_reply": {"id": "VARCHAR", "title": "VARCHAR"},
                        "list_reply": {"id": "VARCHAR", "title": "VARCHAR"}, "nfm_reply": {"name": "VARCHAR", "response_json": "VARCHAR"},
                        "call_permission_reply": {"response": "VARCHAR", "is_permanent": "BOOLEAN",
                                                  "expiration_timestamp": "VARCHAR", "response_source": "VARCHAR"}},
        "button": {"payload": "VARCHAR", "text": "VARCHAR"},
        "reaction": {"message_id": "VARCHAR", "emoji": "VARCHAR"},
        "image": {"id": "VARCHAR", "mime_type": "VARCHAR", "url": "VARCHAR", "caption": "VARCHAR"},
        "video": {"id": "VARCHAR", "mime_type": "VARCHAR", "url": "VARCHAR", "caption": "VARCHAR"},
        "audio": {"id": "VARCHAR", "mime_type": "VARCHAR", "url": "VARCHAR"},
        "voice": {"id": "VARCHAR", "mime_type": "VARCHAR", "url": "VARCHAR"},
        "document": {"id": "VARCHAR", "mime_type": "VARCHAR", "url": "VARCHAR", "caption": "VARCHAR"},
        "sticker": {"id": "VARCHAR", "mime_type": "VARCHAR", "url": "VARCHAR"},
        "location": {"latitude": "DOUBLE", "longitude": "DOUBLE"},
        "order": {"catalog_id": "VARCHAR"},
        "system": {"body": "VARCHAR", "type": "VARCHAR", "wa_id": "VARCHAR", "new_wa_id": "VARCHAR",
                   "user_id": "VARCHAR", "parent_user_id": "VARCHAR", "customer": "VARCHAR", "user": "VARCHAR",
                   "identity": "VARCHAR"},
        "identity": {"hash": "VARCHAR"},
        "errors": [{"code": "BIGINT", "title": "VARCHAR", "message": "VARCHAR", "details": "VARCHAR",
                    "error_data": {"details": "VARCHAR"}, "href": "VARCHAR"}],
        "unsupported": {"type": "VARCHAR"}
    }') AS m
    FROM messages
), matched AS (
    -- A value can carry several messages and contacts: each message gets its own sender's contact.
    SELECT *, coalesce(list_filter(v.contacts, c -> c.wa_id = m."from" OR c.user_id = m.from_user_id)[1],
                       CASE WHEN len(v.contacts) = 1 THEN v.contacts[1] END) AS contact,
           coalesce(m.errors[1], v.errors[1]) AS e
    FROM typed
)
SELECT m.id AS message_id,
       waba_ts(m.timestamp) AS sent_at,
       waba_id,
       v.metadata.phone_number_id AS phone_number_id,
       v.metadata.display_phone_number AS display_phone_number,
       m."from" AS from_wa_id,
       coalesce(m.from_user_id, contact.user_id) AS from_user_id,
       coalesce(m.from_parent_user_id, contact.parent_user_id) AS from_parent_user_id,
       coalesce(m."from", m.from_user_id, contact.wa_id, contact.user_id) AS customer_id,
       contact.profile.name AS contact_name,
       contact.profile.username AS contact_username,
       m.type AS message_type,
       m.text.body AS text_body,
       m.context.id AS context_message_id,
       coalesce(m.context.forwarded, false) OR coalesce(m.context.frequently_forwarded, false) AS is_forwarded,
       m.referral.source_type AS referral_source_type,
       m.referral.source_id AS referral_source_id,
       m.referral.source_url AS referral_source_url,
       m.referral.headline AS referral_headline,
       m.referral.ctwa_clid AS referral_ctwa_clid,
       m.referral.body AS referral_body,
       m.referral.media_type AS referral_media_type,
       m.referral.image_url AS referral_image_url,
       m.referral.video_url AS referral_video_url,
       m.referral.thumbnail_url AS referral_thumbnail_url,
       m.referral.welcome_message.text AS referral_welcome_text,
       m.interactive.type AS interactive_type,
       coalesce(m.interactive.button_reply.id, m.interactive.list_reply.id, m.button.payload) AS reply_id,
       coalesce(m.interactive.button_reply.title, m.interactive.list_reply.title, m.button.text) AS reply_title,
       m.interactive.nfm_reply.response_json AS flow_response_json,
       m.interactive.call_permission_reply.response AS call_permission_response,
       m.interactive.call_permission_reply.is_permanent AS call_permission_is_permanent,
       waba_ts(m.interactive.call_permission_reply.expiration_timestamp) AS call_permission_expires_at,
       m.interactive.call_permission_reply.response_source AS call_permission_source,
       m.reaction.message_id AS reaction_message_id,
       nullif(m.reaction.emoji, '') AS reaction_emoji,
       coalesce(m.image.id, m.video.id, m.audio.id, m.voice.id, m.document.id, m.sticker.id) AS media_id,
       coalesce(m.image.mime_type, m.video.mime_type, m.audio.mime_type, m.voice.mime_type, m.document.mime_type,
                m.sticker.mime_type) AS media_mime_type,
       coalesce(m.image.url, m.video.url, m.audio.url, m.voice.url, m.document.url, m.sticker.url) AS media_url,
       coalesce(m.image.caption, m.video.caption, m.document.caption) AS media_caption,
       m.location.latitude AS location_latitude,
       m.location.longitude AS location_longitude,
       m."order".catalog_id AS order_catalog_id,
       m.system.type AS system_type,
       m.system.body AS system_body,
       coalesce(m.system.wa_id, m.system.new_wa_id) AS system_new_wa_id,
       m.system.user_id AS system_new_user_id,
       m.system.parent_user_id AS system_new_parent_user_id,
       coalesce(m.system.customer, m.system."user") AS system_previous_wa_id,
       coalesce(m.identity.hash, m.system.identity) AS identity_hash,
       e.code AS error_code,
       e.title AS error_title,
       e.message AS error_message,
       error_details(e) AS error_details,
       m.unsupported.type AS unsupported_type,
       m.group_id,
       payload,
       payload_format,
       received_at,
       load_id AS _load_id,
       line_no AS _line_no
FROM matched
