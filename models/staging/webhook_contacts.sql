-- staging.webhook_contacts: one row per distinct (wa_id, business-scoped user id) pair Meta named
-- together in a contacts array (of a message or a user_preferences webhook) or a status, with when
-- it was first seen.
-- key: wa_id, user_id
-- order: seen_at
WITH sightings AS (
    SELECT c.wa_id, c.user_id, c.parent_user_id, c.profile.username AS username,
           coalesce(waba_ts(v.statuses[1].timestamp), waba_ts(json_extract_string(v.messages[1], '$.timestamp')),
                    entry_time, received_at) AS seen_at,
           load_id, line_no
    FROM (SELECT *, unnest(v.contacts) AS c FROM _webhook_changes WHERE field IN ('messages', 'user_preferences'))
    UNION ALL
    SELECT s.recipient_id, s.recipient_user_id, coalesce(s.recipient_parent_user_id, s.parent_recipient_user_id), NULL,
           waba_ts(s.timestamp), load_id, line_no
    FROM (SELECT *, unnest(v.statuses) AS s FROM _webhook_changes WHERE field = 'messages')
)
SELECT wa_id, user_id, parent_user_id, username, seen_at, load_id AS _load_id, line_no AS _line_no
FROM sightings
WHERE wa_id IS NOT NULL AND user_id IS NOT NULL
