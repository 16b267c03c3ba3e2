-- intermediate.growth_calendar: the single row of UTC days the growth marts cover: from the first day anything was sent, snapshotted or announced to the last. (columns: _intermediate.yml)
WITH days AS (
    SELECT min(sent_at)::DATE AS first_day, max(sent_at)::DATE AS last_day FROM {{ ref('message_ledger') }}
    UNION ALL SELECT min(snapshot_at)::DATE, max(snapshot_at)::DATE FROM {{ ref('phone_number_snapshots') }}
    UNION ALL SELECT min(snapshot_at)::DATE, max(snapshot_at)::DATE FROM {{ ref('template_snapshots') }}
    UNION ALL SELECT min(event_at)::DATE, max(event_at)::DATE FROM {{ ref('phone_number_quality_events') }}
    UNION ALL SELECT min(event_at)::DATE, max(event_at)::DATE FROM {{ ref('template_status_events') }}
    UNION ALL SELECT min(event_at)::DATE, max(event_at)::DATE FROM {{ ref('template_quality_events') }}
)
SELECT min(first_day) AS first_day, max(last_day) AS last_day FROM days
