WITH pairs AS (
    SELECT wa_id, user_id, seen_at, 'contact' AS source FROM {{ ref('webhook_contacts') }}
    WHERE wa_id IS NOT NULL AND user_id IS NOT NULL
    UNION ALL
    SELECT from_wa_id, from_user_id, sent_at, 'message' FROM {{ ref('inbound_messages') }}
    -- System messages announce identity changes: their sender ids straddle the change, so they link nothing.
    WHERE from_wa_id IS NOT NULL AND from_user_id IS NOT NULL AND message_type <> 'system'
    UNION ALL
    -- The ids after a change belong together (user_changed_user_id names the new number and BSUID; a
    -- user_id_update the current number and new BSUID).
    SELECT new_wa_id, new_user_id, changed_at, source FROM {{ ref('identity_changes') }}
    WHERE new_wa_id IS NOT NULL AND new_user_id IS NOT NULL
), profile AS (
    -- Latest username and parent BSUID per BSUID, wherever it was seen (BSUID-only contacts included).
    SELECT user_id,
           arg_max(username, (seen_at, _load_id, _line_no)) FILTER (WHERE username IS NOT NULL) AS username,
           arg_max(parent_user_id, (seen_at, _load_id, _line_no)) FILTER (WHERE parent_user_id IS NOT NULL) AS parent_user_id
    FROM {{ ref('webhook_contacts') }} GROUP BY user_id
), linked AS (
    SELECT wa_id, user_id, min(seen_at) AS first_seen_at, max(seen_at) AS last_seen_at,
           list_sort(list_distinct(list(source))) AS link_sources
    FROM pairs GROUP BY wa_id, user_id
), retired AS (
    -- A change retires the number it moved away from and the BSUID it replaced.
    SELECT previous_wa_id AS id, changed_at FROM {{ ref('identity_changes') }}
    WHERE previous_wa_id IS NOT NULL AND new_wa_id IS NOT NULL AND new_wa_id <> previous_wa_id
    UNION ALL
    SELECT previous_user_id, changed_at FROM {{ ref('identity_changes') }}
    WHERE previous_user_id IS NOT NULL AND new_user_id IS NOT NULL AND new_user_id <> previous_user_id
)
SELECT l.wa_id, l.user_id, p.parent_user_id, p.username, l.first_seen_at, l.last_seen_at,
       l.first_seen_at AS valid_from,
       (SELECT min(r.changed_at) FROM retired r WHERE r.id IN (l.wa_id, l.user_id) AND r.changed_at > l.first_seen_at) AS valid_to,
       l.link_sources
FROM linked l LEFT JOIN profile p USING (user_id)
ORDER BY first_seen_at, wa_id, user_id
