-- marts.template_events: one row per change in a message template's life, the template's quality story: status changes (approvals, pauses with their kind, disables, ...), quality-score changes and re-categorisations, from Meta's webhooks and, where no webhook told us, from the change between two Business Manager snapshots. (columns: _marts.yml)
WITH status_webhooks AS (
    SELECT waba_id, template_id, template_name, template_language, event_at, upper(event) AS status,
           upper(other_info_title) AS title, coalesce(rejection_reason, reason) AS reason,
           coalesce(other_info_description, 'disable date ' || disable_date) AS detail
    FROM {{ ref('template_status_events') }}
), statuses AS (
    SELECT waba_id, template_id, template_name, template_language, event_at, status, title, reason, detail, 'webhook' AS source
    FROM status_webhooks
    UNION ALL
    SELECT waba_id, template_id, template_name, template_language, snapshot_at, status, NULL, NULL, NULL, 'snapshot'
    FROM {{ ref('template_snapshots') }} WHERE status IS NOT NULL
), quality AS (
    SELECT waba_id, template_id, template_name, template_language, event_at, upper(new_quality_score) AS score,
           upper(previous_quality_score) AS previous, 'webhook' AS source
    FROM {{ ref('template_quality_events') }}
    UNION ALL
    SELECT waba_id, template_id, template_name, template_language, snapshot_at, quality_score, NULL, 'snapshot'
    FROM {{ ref('template_snapshots') }} WHERE quality_score IS NOT NULL
), categories AS (
    SELECT waba_id, template_id, template_name, template_language, coalesce(category_update_at, event_at) AS event_at,
           upper(new_category) AS category, upper(previous_category) AS previous, 'webhook' AS source
    FROM {{ ref('template_category_events') }} WHERE notice = 'completed'
    UNION ALL
    SELECT waba_id, template_id, template_name, template_language, snapshot_at, category, NULL, 'snapshot'
    FROM {{ ref('template_snapshots') }} WHERE category IS NOT NULL
), statements AS (
    SELECT 'status' AS kind, waba_id, template_id, template_name, template_language, event_at, status AS value, NULL AS previous,
           title, reason, detail, source FROM statuses
    UNION ALL
    SELECT 'quality', waba_id, template_id, template_name, template_language, event_at, score, previous, NULL, NULL, NULL, source FROM quality
    UNION ALL
    SELECT 'category', waba_id, template_id, template_name, template_language, event_at, category, previous, NULL, NULL, NULL, source FROM categories
), ordered AS (
    -- Webhooks before a snapshot at the same instant: the snapshot then only confirms.
    SELECT *, lag(value) OVER (PARTITION BY kind, waba_id, template_name, template_language
                               ORDER BY event_at, source = 'snapshot') AS last_known
    FROM statements
), changes AS (
    -- Every webhook is an event (two pauses in a row are two pauses); a snapshot only where it shows a change
    -- no webhook announced. The first snapshot of a template is its starting point, not a change.
    SELECT * FROM ordered
    WHERE source = 'webhook' OR (last_known IS NOT NULL AND value IS DISTINCT FROM last_known)
), paused AS (
    SELECT *, count(*) FILTER (kind = 'status' AND value = 'PAUSED') OVER (
                  PARTITION BY waba_id, template_name, template_language ORDER BY event_at ROWS UNBOUNDED PRECEDING) AS pauses_so_far
    FROM changes
), notices AS (
    SELECT waba_id, template_id, template_name, template_language, event_at, 'category_notice' AS kind,
           upper(new_category) AS value_from, upper(correct_category) AS value_to, NULL AS pause_kind, NULL AS reason,
           'takes effect ' || strftime(category_update_at, '%Y-%m-%d %H:%M UTC') AS detail, 'webhook' AS source
    FROM {{ ref('template_category_events') }} WHERE notice = 'impending'
), ids AS (
    SELECT waba_id, template_name, template_language, arg_max(template_id, event_at) AS template_id
    FROM statements WHERE template_id IS NOT NULL GROUP BY ALL
)
SELECT e.event_at, e.waba_id, coalesce(e.template_id, i.template_id) AS template_id, e.template_name, e.template_language,
       e.kind, coalesce(e.previous, e.last_known) AS value_from, e.value AS value_to,
       CASE WHEN e.kind = 'status' AND e.value = 'PAUSED'
            THEN coalesce(e.title, CASE WHEN e.pauses_so_far = 1 THEN 'FIRST_PAUSE' ELSE 'SECOND_PAUSE' END)
            WHEN e.title = 'UNPAUSE' THEN 'UNPAUSE' END AS pause_kind,
       e.reason, e.detail, e.source
FROM paused e LEFT JOIN ids i USING (waba_id, template_name, template_language)
UNION ALL
SELECT n.event_at, n.waba_id, coalesce(n.template_id, i.template_id), n.template_name, n.template_language, n.kind,
       n.value_from, n.value_to, n.pause_kind, n.reason, n.detail, n.source
FROM notices n LEFT JOIN ids i USING (waba_id, template_name, template_language)
ORDER BY event_at, waba_id, template_name, template_language, kind
