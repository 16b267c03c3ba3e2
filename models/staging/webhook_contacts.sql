-- staging.webhook_contacts: one row per distinct (wa_id, business-scoped user id, username) Meta named
-- together in a contacts array (of a message, status, user_preferences or calls webhook) or on a
-- status, with when it was first seen. A contact known only by BSUID (no wa_id) is kept too, with
-- its username and parent BSUID.
-- key: wa_id, user_id, username
-- order: seen_at
-- column wa_id: The customer's phone number (contacts[].wa_id or statuses[].recipient_id); NULL for a BSUID-only contact.
-- column user_id: The customer's business-scoped user id (BSUID).
-- column parent_user_id: The parent BSUID, for businesses that enabled parent BSUIDs.
-- column username: The customer's WhatsApp username (contacts[].profile.username), when they adopted one.
-- column profile_name: The customer's WhatsApp profile name; personal data, masked in reports.
-- column seen_at: When the pair was first seen: the status, message, call or preference timestamp, else the entry time or receipt (UTC).
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file.
WITH sightings AS (
    SELECT c.wa_id, c.user_id, c.parent_user_id, c.profile.username AS username, c.profile.name AS profile_name,
           coalesce(waba_ts(v.statuses[1].timestamp), waba_ts(json_extract_string(v.messages[1], '$.timestamp')),
                    waba_ts(v.calls[1].timestamp), waba_ts(v.user_preferences[1].timestamp), entry_time, received_at) AS seen_at,
           load_id, line_no
    FROM (SELECT *, unnest(v.contacts) AS c FROM _webhook_changes WHERE field IN ('messages', 'user_preferences', 'calls'))
    UNION ALL
    SELECT s.recipient_id, s.recipient_user_id, coalesce(s.recipient_parent_user_id, s.parent_recipient_user_id), NULL, NULL,
           waba_ts(s.timestamp), load_id, line_no
    FROM (SELECT *, unnest(v.statuses) AS s FROM _webhook_changes WHERE field = 'messages')
    WHERE s.recipient_type IS DISTINCT FROM 'group'  -- a group status's recipient_id is the group
)
SELECT wa_id, user_id, parent_user_id, username, profile_name, seen_at, load_id AS _load_id, line_no AS _line_no
FROM sightings
WHERE user_id IS NOT NULL
