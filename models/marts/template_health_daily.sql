-- marts.template_health_daily: one row per message template per UTC day, from the day it was first seen to the last day of data: its status, quality score and category at the end of the day, the day's status changes, quality change and re-categorisation, and how its sends fared (from marts.message_ledger, matched by WABA, name and language). (columns: _marts.yml)
WITH events AS (
    SELECT * FROM {{ ref('template_events') }}
), sends AS (
    SELECT waba_id, template_name, template_language, sent_at::DATE AS day, count(*) AS sent,
           count(*) FILTER (is_delivered AND failed_at IS NULL) AS delivered,
           count(*) FILTER (final_status = 'read') AS read,
           count(*) FILTER (final_status = 'failed') AS failed,
           histogram(error_code) FILTER (final_status = 'failed' AND error_code IS NOT NULL) AS failed_by_error_code,
           arg_max(upper(template_category), sent_at) AS logged_category
    FROM {{ ref('message_ledger') }} WHERE template_name IS NOT NULL
    GROUP BY ALL
), templates AS (
    SELECT waba_id, template_name, template_language, min(first_day) AS first_day FROM (
        SELECT waba_id, template_name, template_language, min(snapshot_at)::DATE AS first_day FROM {{ ref('template_snapshots') }} GROUP BY ALL
        UNION ALL SELECT waba_id, template_name, template_language, min(event_at)::DATE FROM events GROUP BY ALL
        UNION ALL SELECT waba_id, template_name, template_language, min(day) FROM sends GROUP BY ALL
    ) GROUP BY ALL
), grid AS (
    SELECT t.waba_id, t.template_name, t.template_language,
           unnest(generate_series(t.first_day, c.last_day, INTERVAL 1 DAY))::DATE AS day
    FROM templates t, {{ ref('growth_calendar') }} c
), known AS (
    -- Snapshots state the value even where nothing changed; events state the changes between them.
    SELECT 'status' AS kind, waba_id, template_name, template_language, snapshot_at AS at, status AS value FROM {{ ref('template_snapshots') }}
    UNION ALL SELECT 'quality', waba_id, template_name, template_language, snapshot_at, quality_score FROM {{ ref('template_snapshots') }}
    UNION ALL SELECT 'category', waba_id, template_name, template_language, snapshot_at, category FROM {{ ref('template_snapshots') }}
    UNION ALL SELECT kind, waba_id, template_name, template_language, event_at, value_to FROM events WHERE kind <> 'category_notice'
    -- Status webhooks also name the category the template has at that moment.
    UNION ALL SELECT 'category', waba_id, template_name, template_language, event_at, upper(category)
    FROM {{ ref('template_status_events') }}
), status_known AS (SELECT * FROM known WHERE kind = 'status' AND value IS NOT NULL
), quality_known AS (SELECT * FROM known WHERE kind = 'quality' AND value IS NOT NULL
), category_known AS (SELECT * FROM known WHERE kind = 'category' AND value IS NOT NULL
), day_events AS (
    SELECT waba_id, template_name, template_language, event_at::DATE AS day,
           list(value_to || coalesce(' (' || pause_kind || ')', '') ORDER BY event_at) FILTER (kind = 'status') AS status_changes,
           string_agg(coalesce(value_from, '?') || ' -> ' || value_to, ', ' ORDER BY event_at) FILTER (kind = 'quality') AS quality_change,
           string_agg(coalesce(value_from, '?') || ' -> ' || value_to, ', ' ORDER BY event_at) FILTER (kind = 'category') AS recategorised
    FROM events GROUP BY ALL
), ids AS (
    SELECT waba_id, template_name, template_language, arg_max(template_id, event_at) AS template_id FROM (
        SELECT waba_id, template_name, template_language, template_id, snapshot_at AS event_at FROM {{ ref('template_snapshots') }}
        UNION ALL SELECT waba_id, template_name, template_language, template_id, event_at FROM events
    ) WHERE template_id IS NOT NULL GROUP BY ALL
)
SELECT g.day, g.waba_id, i.template_id, g.template_name, g.template_language,
       coalesce(c.value, s.logged_category) AS category, st.value AS status, coalesce(q.value, 'UNKNOWN') AS quality_score,
       coalesce(e.status_changes, []) AS status_changes, e.quality_change, e.recategorised,
       coalesce(s.sent, 0) AS sent, coalesce(s.delivered, 0) AS delivered, coalesce(s.read, 0) AS read,
       coalesce(s.failed, 0) AS failed, coalesce(s.failed_by_error_code, MAP {}) AS failed_by_error_code,
       round(s.read / nullif(s.delivered, 0), 4) AS read_rate, round(s.failed / nullif(s.sent, 0), 4) AS failure_rate
FROM grid g
LEFT JOIN ids i USING (waba_id, template_name, template_language)
LEFT JOIN sends s USING (waba_id, template_name, template_language, day)
LEFT JOIN day_events e USING (waba_id, template_name, template_language, day)
ASOF LEFT JOIN status_known st ON st.waba_id = g.waba_id AND st.template_name = g.template_name
     AND st.template_language IS NOT DISTINCT FROM g.template_language AND (g.day + 1)::TIMESTAMPTZ > st.at
ASOF LEFT JOIN quality_known q ON q.waba_id = g.waba_id AND q.template_name = g.template_name
     AND q.template_language IS NOT DISTINCT FROM g.template_language AND (g.day + 1)::TIMESTAMPTZ > q.at
ASOF LEFT JOIN category_known c ON c.waba_id = g.waba_id AND c.template_name = g.template_name
     AND c.template_language IS NOT DISTINCT FROM g.template_language AND (g.day + 1)::TIMESTAMPTZ > c.at
ORDER BY g.waba_id, g.template_name, g.template_language, g.day
