WITH items AS (
    SELECT *, unnest(json_transform(value, '{"groups": ["JSON"]}').groups) AS item,
           value ->> '$.metadata.phone_number_id' AS phone_number_id
    FROM {{ ref('webhook_management_values') }} WHERE field = 'group_participants_update'
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
