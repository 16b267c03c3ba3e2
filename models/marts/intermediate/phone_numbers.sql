-- intermediate.phone_numbers: one row per business phone number id seen in snapshots, statuses or the send log, with its WABA, business portfolio and display number as digits (phone_number_quality_update names a number only by its display number, so this is how those events find their phone_number_id). (columns: _intermediate.yml)
WITH seen AS (
    SELECT phone_number_id, waba_id, regexp_replace(display_phone_number, '[^0-9]', '', 'g') AS digits, snapshot_at AS seen_at
    FROM {{ ref('phone_number_snapshots') }}
    UNION ALL
    SELECT phone_number_id, waba_id, regexp_replace(display_phone_number, '[^0-9]', '', 'g'), status_at
    FROM {{ ref('message_statuses') }} WHERE phone_number_id IS NOT NULL
    UNION ALL
    SELECT phone_number_id, waba_id, NULL, sent_at FROM {{ ref('message_log') }} WHERE phone_number_id IS NOT NULL
)
SELECT s.phone_number_id,
       arg_max(s.waba_id, s.seen_at) FILTER (s.waba_id IS NOT NULL) AS waba_id,
       arg_max(s.digits, s.seen_at) FILTER (s.digits <> '') AS digits,
       min(s.seen_at) AS first_seen_at
FROM seen s
GROUP BY s.phone_number_id
