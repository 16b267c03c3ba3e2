-- staging.group_events: one row per groups[] item of the four Groups API webhook fields:
-- group_lifecycle_update (group_create / group_delete), group_participants_update (adds, removals, join
-- requests; each participant also in staging.group_participants), group_settings_update (subject,
-- description, picture) and group_status_update (group_suspend / group_suspend_cleared).
-- key: group_id, field, event_type, event_at, payload_text
-- order: event_at
-- column group_id: The group's id.
-- column field: The webhook field (group_lifecycle_update, group_participants_update, group_settings_update, group_status_update).
-- column event_type: groups[].type (group_create, group_delete, group_participants_add, group_participants_remove,
-- group_join_request_created, group_join_request_revoked, group_settings_update, group_suspend, group_suspend_cleared).
-- column event_at: groups[].timestamp (UTC), else entry.time, else receipt.
-- column waba_id: WhatsApp Business Account id (entry.id).
-- column phone_number_id: The business phone number's id (metadata.phone_number_id).
-- column request_id: The id of the business's API request this answers (create, delete, remove, settings).
-- column subject: The group subject (group_create; settings update: group_subject.text).
-- column description: The group description (group_create; settings update: group_description.text).
-- column invite_link: The invite link Meta created with the group.
-- column join_approval_mode: The group's join approval mode at creation.
-- column reason: Why participants were added (e.g. invite_link) or the join request's outcome.
-- column initiated_by: Who removed participants: business or participant (a participant leaving).
-- column join_request_id: The join request's id (join request created / revoked).
-- column subject_update_successful: group_subject.update_successful of a settings update.
-- column description_update_successful: group_description.update_successful of a settings update.
-- column picture_update_successful: profile_picture.update_successful of a settings update.
-- column participants_added: How many added_participants the item lists.
-- column participants_removed: How many removed_participants it lists.
-- column participants_failed: How many failed_participants it lists.
-- column is_success: False when the item carries errors (a failed or partly failed request).
-- column error_code: First error's code (as Meta sent it, text: the pages show it quoted).
-- column error_title: Its title.
-- column error_details: error_data.details, else the message.
-- column payload: The groups[] item, whole, as JSON.
-- column payload_text: The same item as text (part of the key: identical redeliveries collapse).
-- column received_at: When our endpoint received the delivery (UTC).
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file.
WITH items AS (
    SELECT *, unnest(json_transform(value, '{"metadata": {"phone_number_id": "VARCHAR"}, "groups": ["JSON"]}').groups) AS item,
           value ->> '$.metadata.phone_number_id' AS phone_number_id
    FROM _management_values
    -- The fields the vocabulary stages here (the four Groups API fields).
    WHERE field IN (SELECT value FROM read_csv('@reference/webhook_vocabulary.csv', header = true, all_varchar = true)
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
