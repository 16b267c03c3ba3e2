-- staging.call_events: one row per Calling API event Meta sent on the `calls` webhook field: a
-- calls[] item (connect, call_created, terminate, call_recording_available, call_transcription_available)
-- or a call status (statuses[] with RINGING / ACCEPTED / REJECTED). staging.calls folds them into one row per call.
-- key: call_id, event, call_status, event_at
-- order: event_at
-- column call_id: Meta's call id (wacid...).
-- column event: calls[].event; 'status' for a statuses[] item.
-- column call_status: The call status: statuses[].status (RINGING / ACCEPTED / REJECTED) or, on terminate, calls[].status (COMPLETED / FAILED).
-- column event_at: The event's timestamp (UTC).
-- column waba_id: WhatsApp Business Account id (entry.id).
-- column phone_number_id: The business phone number's id (metadata.phone_number_id).
-- column display_phone_number: The business number as digits.
-- column direction: BUSINESS_INITIATED or USER_INITIATED.
-- column from_number: The caller's number (calls[].from).
-- column to_number: The callee's number (calls[].to, or statuses[].recipient_id); may be omitted for a username user.
-- column customer_wa_id: The customer's phone number: the callee of a business-initiated call, the caller of a user-initiated one.
-- column customer_user_id: The customer's BSUID (to_user_id / from_user_id / recipient_user_id, or the contact's user_id).
-- column customer_parent_user_id: The customer's parent BSUID, when enabled.
-- column customer_id: The customer: phone number, else BSUID.
-- column contact_name: The customer's profile name from the contacts array; personal data, masked in reports.
-- column contact_username: The customer's username from the contacts array.
-- column started_at: calls[].start_time on terminate (UTC); only when the call was picked up.
-- column ended_at: calls[].end_time on terminate (UTC); only when the call was picked up.
-- column duration_seconds: calls[].duration on terminate; only when the call was picked up.
-- column recording_media_id: Media id of the recording (call_recording_available).
-- column transcript_media_id: Media id of the transcript document (call_transcription_available).
-- column biz_opaque_callback_data: The tracking string the business passed with the call.
-- column error_code: First value-level error (errors[]) on the same webhook, e.g. of a failed call.
-- column error_details: Its details (error_data.details, else the message).
-- column payload: The calls[] or statuses[] item, whole, as JSON.
-- column received_at: When our endpoint received the delivery (UTC).
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file.
WITH v AS (
    SELECT *, json_transform(value, '{
        "metadata": {"display_phone_number": "VARCHAR", "phone_number_id": "VARCHAR"},
        "contacts": [{"wa_id": "VARCHAR", "user_id": "VARCHAR", "parent_user_id": "VARCHAR",
                      "profile": {"name": "VARCHAR", "username": "VARCHAR"}}],
        "calls": ["JSON"], "statuses": ["JSON"],
        "errors": [{"code": "BIGINT", "title": "VARCHAR", "message": "VARCHAR", "details": "VARCHAR",
                    "error_data": {"details": "VARCHAR"}, "href": "VARCHAR"}]}') AS t
    FROM _management_values WHERE field = 'calls'
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
