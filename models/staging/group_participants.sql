-- staging.group_participants: one row per participant a group_participants_update webhook names:
-- added (invite link, approved join request), removed (by the business, or leaving), failed to remove,
-- or asking / ceasing to ask to join (join request created / revoked).
-- key: group_id, change, participant_key, event_at
-- order: event_at
-- column group_id: The group's id.
-- column change: added, removed, remove_failed, join_requested or join_request_revoked.
-- column participant_key: The participant as the webhook named them: wa_id, else user_id, else input (part of the key).
-- column event_at: groups[].timestamp (UTC), else entry.time, else receipt.
-- column waba_id: WhatsApp Business Account id (entry.id).
-- column phone_number_id: The business phone number's id.
-- column wa_id: The participant's phone number, when Meta sent it.
-- column user_id: The participant's business-scoped user id.
-- column parent_user_id: The participant's parent BSUID, when enabled.
-- column username: The participant's username, when they adopted one.
-- column input: The phone number or BSUID the business used in its request (removals, approvals).
-- column reason: groups[].reason (e.g. invite_link).
-- column initiated_by: business or participant (removals).
-- column join_request_id: The join request's id.
-- column request_id: The business's API request this answers.
-- column error_code: The participant's first error (failed removals).
-- column error_details: Its details.
-- column received_at: When our endpoint received the delivery (UTC).
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file.
WITH items AS (
    SELECT *, unnest(json_transform(value, '{"groups": ["JSON"]}').groups) AS item,
           value ->> '$.metadata.phone_number_id' AS phone_number_id
    FROM _management_values WHERE field = 'group_participants_update'
), typed AS (
    SELECT *, json_transform(item, '{"group_id": "VARCHAR", "type": "VARCHAR", "timestamp": "VARCHAR",
        "request_id": "VARCHAR", "reason": "VARCHAR", "initiated_by": "VARCHAR", "join_request_id": "VARCHAR",
        "wa_id": "VARCHAR", "user_id": "VARCHAR", "parent_user_id": "VARCHAR", "username": "VARCHAR",
        "added_participants": ["JSON"], "removed_participants": ["JSON"], "failed_participants": ["JSON"]}') AS g
    FROM items
), people AS (
    SELECT *, 'added' AS change, unnest(g.added_participants) AS p FROM typed
    UNION ALL SELECT *, 'removed', unnest(g.removed_participants) FROM typed
    UNION ALL SELECT *, 'remove_failed', unnest(g.failed_participants) FROM typed
    UNION ALL
    -- A join request names its one user on the item itself.
    SELECT *, CASE g.type WHEN 'group_join_request_created' THEN 'join_requested' ELSE 'join_request_revoked' END,
           json_object('wa_id', g.wa_id, 'user_id', g.user_id, 'parent_user_id', g.parent_user_id, 'username', g.username)
    FROM typed WHERE g.type IN ('group_join_request_created', 'group_join_request_revoked')
), typed_people AS (
    SELECT *, json_transform(p, '{"wa_id": "VARCHAR", "user_id": "VARCHAR", "parent_user_id": "VARCHAR",
        "username": "VARCHAR", "input": "VARCHAR",
        "errors": [{"code": "VARCHAR", "message": "VARCHAR", "details": "VARCHAR", "error_data": {"details": "VARCHAR"}}]}') AS q
    FROM people
)
SELECT g.group_id, change, coalesce(q.wa_id, q.user_id, q.input) AS participant_key,
       coalesce(waba_ts(g.timestamp), entry_time, received_at) AS event_at,
       waba_id, phone_number_id, q.wa_id, q.user_id, q.parent_user_id, q.username, q.input,
       g.reason, g.initiated_by, g.join_request_id, g.request_id,
       q.errors[1].code AS error_code, error_details(q.errors[1]) AS error_details,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM typed_people
