-- staging.calls: one row per call (Calling API), folded from staging.call_events: who called whom, how
-- it went, how long it lasted, and what Meta's Calling API Pricing page (May 21, 2026) makes of it:
-- all user-initiated calls are free; a business-initiated call is charged by duration in six-second
-- pulses (a fractional pulse counts as one); the customer-service window starts or refreshes when a user
-- calls (answered or not) and when a user accepts the business's call. Rates are not applied here
-- (docs/finance.md says what is left out).
-- materialize: table
-- inputs: webhooks
-- column call_id: Meta's call id (wacid...).
-- column waba_id: WhatsApp Business Account id.
-- column phone_number_id: The business phone number's id.
-- column direction: BUSINESS_INITIATED or USER_INITIATED (from the first event that states it).
-- column customer_id: The customer: phone number, else BSUID.
-- column customer_wa_id: The customer's phone number, when Meta sent it.
-- column customer_user_id: The customer's business-scoped user id.
-- column first_event_at: The call's first event (UTC).
-- column connected_at: The connect event (WebRTC answer / user's offer), or call_created for SIP (UTC).
-- column ringing_at: RINGING status (business-initiated calls; UTC).
-- column accepted_at: ACCEPTED status: the user picked up the business's call (UTC).
-- column rejected_at: REJECTED status: the user declined the business's call (UTC).
-- column terminated_at: The terminate event (UTC).
-- column final_status: The terminate event's status (COMPLETED / FAILED); else the last call status seen.
-- column started_at: When the call was picked up (terminate start_time, UTC).
-- column ended_at: When it ended (terminate end_time, UTC).
-- column duration_seconds: Call length in seconds (terminate duration); NULL when never picked up.
-- column is_billable: True for a business-initiated call that was picked up (duration above zero).
-- column billable_pulses: Six-second pulses charged, a fraction counting as one (business-initiated only; else 0).
-- column service_window_opened_at: When the call opened or refreshed the customer-service window: the first event
-- of a user-initiated call, the acceptance of a business-initiated one; NULL otherwise.
-- column recording_media_id: Media id of the call recording, if one was made.
-- column transcript_media_id: Media id of the transcript, if one was made.
-- column biz_opaque_callback_data: The tracking string the business passed with the call.
-- column error_code: An error Meta reported with the call's webhooks.
-- column events: How many call events were staged for the call.
WITH calls AS (
    SELECT call_id,
           first(waba_id ORDER BY event_at, event) AS waba_id,
           first(phone_number_id ORDER BY event_at, event) FILTER (WHERE phone_number_id IS NOT NULL) AS phone_number_id,
           first(direction ORDER BY event_at, event) FILTER (WHERE direction IS NOT NULL) AS direction,
           first(customer_wa_id ORDER BY event_at, event) FILTER (WHERE customer_wa_id IS NOT NULL) AS customer_wa_id,
           first(customer_user_id ORDER BY event_at, event) FILTER (WHERE customer_user_id IS NOT NULL) AS customer_user_id,
           min(event_at) AS first_event_at,
           min(event_at) FILTER (WHERE event IN ('connect', 'call_created')) AS connected_at,
           min(event_at) FILTER (WHERE call_status = 'RINGING') AS ringing_at,
           min(event_at) FILTER (WHERE call_status = 'ACCEPTED') AS accepted_at,
           min(event_at) FILTER (WHERE call_status = 'REJECTED') AS rejected_at,
           min(event_at) FILTER (WHERE event = 'terminate') AS terminated_at,
           coalesce(first(call_status ORDER BY event_at) FILTER (WHERE event = 'terminate'),
                    arg_max(call_status, (event_at, event)) FILTER (WHERE call_status IS NOT NULL)) AS final_status,
           min(started_at) AS started_at, max(ended_at) AS ended_at,
           max(duration_seconds) AS duration_seconds,
           first(recording_media_id ORDER BY event_at) FILTER (WHERE recording_media_id IS NOT NULL) AS recording_media_id,
           first(transcript_media_id ORDER BY event_at) FILTER (WHERE transcript_media_id IS NOT NULL) AS transcript_media_id,
           first(biz_opaque_callback_data ORDER BY event_at) FILTER (WHERE biz_opaque_callback_data IS NOT NULL) AS biz_opaque_callback_data,
           first(error_code ORDER BY event_at) FILTER (WHERE error_code IS NOT NULL) AS error_code,
           count(*) AS events
    FROM staging.call_events
    WHERE call_id IS NOT NULL
    GROUP BY call_id
)
SELECT call_id, waba_id, phone_number_id, direction,
       coalesce(customer_wa_id, customer_user_id) AS customer_id, customer_wa_id, customer_user_id,
       first_event_at, connected_at, ringing_at, accepted_at, rejected_at, terminated_at, final_status,
       started_at, ended_at, duration_seconds,
       direction = 'BUSINESS_INITIATED' AND coalesce(duration_seconds, 0) > 0 AS is_billable,
       CASE WHEN direction = 'BUSINESS_INITIATED' THEN ceil(coalesce(duration_seconds, 0) / 6)::BIGINT ELSE 0 END AS billable_pulses,
       CASE WHEN direction = 'USER_INITIATED' THEN first_event_at
            WHEN direction = 'BUSINESS_INITIATED' THEN accepted_at END AS service_window_opened_at,
       recording_media_id, transcript_media_id, biz_opaque_callback_data, error_code, events
FROM calls
ORDER BY first_event_at, call_id
