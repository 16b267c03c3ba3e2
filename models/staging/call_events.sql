WITH v AS (
    SELECT *, json_transform(value, '{
        "metadata": {"display_phone_number": "VARCHAR", "phone_number_id": "VARCHAR"},
        "contacts": [{"wa_id": "VARCHAR", "user_id": "VARCHAR", "parent_user_id": "VARCHAR",
                      "profile": {"name": "VARCHAR", "username": "VARCHAR"}}],
        "calls": ["JSON"], "statuses": ["JSON"],
        "errors": [{"code": "BIGINT", "title": "VARCHAR", "message": "VARCHAR", "details": "VARCHAR",
                    "error_data": {"details": "VARCHAR"}, "href": "VARCHAR"}]}') AS t
    FROM {{ ref('webhook_management_values') }} WHERE field = 'calls'
), items AS (
    SELECT *, unnest(t.calls) AS item, false AS is_status FROM v
    UNION ALL
    SELECT *, unnest(t.statuses), true FROM v
), typed AS (
    SELECT *, json_transform(item, '{
        "id": "VARCHAR", "event": "VARCHAR", "status": "VARCHAR", "timestamp": "VARCHAR", "direction": "VARCHAR",
        "from": "VARCHAR", "from_user_id": "VARCHAR", "from_parent_user_id": "VARCHAR",
        "to": "VARCHAR", "to_user_id": "VARCHAR", "to_parent_user_id": "VARCHAR",
        "recipient_id": "VARCHAR", "recipient_user_id": "VARCHAR", "recipient_parent_user_id": "VARCHAR",
        "start_time": "VARCHAR", "end_time": "VARCHAR", "duration": "BIGINT", "biz_opaque_callback_data": "VARCHAR",
        "call_recording": {"audio": {"id": "VARCHAR"}}, "call_transcript": {"document": {"id": "VARCHAR"}}}') AS c
    FROM items
), sided AS (
    SELECT *,
           -- The customer is the callee of a business-initiated call and the caller of a user-initiated one;
           -- a status always names the customer as recipient.
           CASE WHEN is_status THEN c.recipient_id
                WHEN c.direction = 'USER_INITIATED' THEN c."from" ELSE coalesce(c."to", t.contacts[1].wa_id) END AS cust_wa,
           CASE WHEN is_status THEN c.recipient_user_id
                WHEN c.direction = 'USER_INITIATED' THEN c.from_user_id ELSE c.to_user_id END AS cust_uid,
           CASE WHEN is_status THEN c.recipient_parent_user_id
                WHEN c.direction = 'USER_INITIATED' THEN c.from_parent_user_id ELSE c.to_parent_user_id END AS cust_parent
    FROM typed
)
SELECT c.id AS call_id,
       CASE WHEN is_status THEN 'status' ELSE c.event END AS event,
       c.status AS call_status,
       waba_ts(c.timestamp) AS event_at,
       waba_id,
       t.metadata.phone_number_id AS phone_number_id,
       t.metadata.display_phone_number AS display_phone_number,
       c.direction,
       c."from" AS from_number,
       coalesce(c."to", c.recipient_id) AS to_number,
       cust_wa AS customer_wa_id,
       coalesce(cust_uid, t.contacts[1].user_id) AS customer_user_id,
       coalesce(cust_parent, t.contacts[1].parent_user_id) AS customer_parent_user_id,
       coalesce(cust_wa, cust_uid, t.contacts[1].wa_id, t.contacts[1].user_id) AS customer_id,
       t.contacts[1].profile.name AS contact_name,
       t.contacts[1].profile.username AS contact_username,
       waba_ts(c.start_time) AS started_at,
       waba_ts(c.end_time) AS ended_at,
       c.duration AS duration_seconds,
       c.call_recording.audio.id AS recording_media_id,
       c.call_transcript.document.id AS transcript_media_id,
       c.biz_opaque_callback_data,
       t.errors[1].code AS error_code,
       error_details(t.errors[1]) AS error_details,
       item AS payload,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM sided
