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
    FROM {{ ref('call_events') }}
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
