WITH items AS (
    SELECT *, unnest(json_transform(value, '{"metadata": {"phone_number_id": "VARCHAR"}, "groups": ["JSON"]}').groups) AS item,
           value ->> '$.metadata.phone_number_id' AS phone_number_id
    FROM {{ ref('webhook_management_values') }}
    -- The fields the vocabulary stages here (the four Groups API fields).
    WHERE field IN (SELECT value FROM read_csv('{{ reference_csv('webhook_vocabulary.csv') }}', header = true, all_varchar = true)
                    WHERE vocabulary = 'webhook_field' AND list_contains(string_split(staged_into, ' '), 'group_events'))
), typed AS (
    SELECT *, json_transform(item, '{
        "group_id": "VARCHAR", "type": "VARCHAR", "timestamp": "VARCHAR", "request_id": "VARCHAR",
        "subject": "VARCHAR", "description": "VARCHAR", "invite_link": "VARCHAR", "join_approval_mode": "VARCHAR",
        "reason": "VARCHAR", "initiated_by": "VARCHAR", "join_request_id": "VARCHAR",
        "group_subject": {"text": "VARCHAR", "update_successful": "BOOLEAN"},
        "group_description": {"text": "VARCHAR", "update_successful": "BOOLEAN"},
        "profile_picture": {"update_successful": "BOOLEAN"},
        "added_participants": ["JSON"], "removed_participants": ["JSON"], "failed_participants": ["JSON"],
        "errors": [{"code": "VARCHAR", "title": "VARCHAR", "message": "VARCHAR", "details": "VARCHAR",
                    "error_data": {"details": "VARCHAR"}}]}') AS g
    FROM items
)
SELECT g.group_id, field, g.type AS event_type,
       coalesce(waba_ts(g.timestamp), entry_time, received_at) AS event_at,
       waba_id, phone_number_id, g.request_id,
       coalesce(g.subject, g.group_subject.text) AS subject,
       coalesce(g.description, g.group_description.text) AS description,
       g.invite_link, g.join_approval_mode, g.reason, g.initiated_by, g.join_request_id,
       g.group_subject.update_successful AS subject_update_successful,
       g.group_description.update_successful AS description_update_successful,
       g.profile_picture.update_successful AS picture_update_successful,
       coalesce(len(g.added_participants), 0) AS participants_added,
       coalesce(len(g.removed_participants), 0) AS participants_removed,
       coalesce(len(g.failed_participants), 0) AS participants_failed,
       coalesce(len(g.errors), 0) = 0 AS is_success,
       g.errors[1].code AS error_code, g.errors[1].title AS error_title, error_details(g.errors[1]) AS error_details,
       item AS payload, item::VARCHAR AS payload_text,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM typed
