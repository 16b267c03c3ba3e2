WITH sightings AS (
    SELECT c.wa_id, c.user_id, c.parent_user_id, c.profile.username AS username, c.profile.name AS profile_name,
           coalesce(waba_ts(v.statuses[1].timestamp), waba_ts(json_extract_string(v.messages[1], '$.timestamp')),
                    waba_ts(v.calls[1].timestamp), waba_ts(v.user_preferences[1].timestamp), entry_time, received_at) AS seen_at,
           load_id, line_no
    FROM (SELECT *, unnest(v.contacts) AS c FROM {{ ref('webhook_changes') }} WHERE field IN ('messages', 'user_preferences', 'calls'))
    UNION ALL
    SELECT s.recipient_id, s.recipient_user_id, coalesce(s.recipient_parent_user_id, s.parent_recipient_user_id), NULL, NULL,
           waba_ts(s.timestamp), load_id, line_no
    FROM (SELECT *, unnest(v.statuses) AS s FROM {{ ref('webhook_changes') }} WHERE field = 'messages')
    WHERE s.recipient_type IS DISTINCT FROM 'group'  -- a group status's recipient_id is the group
)
SELECT wa_id, user_id, parent_user_id, username, profile_name, seen_at, load_id AS _load_id, line_no AS _line_no
FROM sightings
WHERE user_id IS NOT NULL
