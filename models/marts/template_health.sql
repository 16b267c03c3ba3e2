-- marts.template_health: one row per message template: its state on the last day of data (as_of), its pause, disable and re-categorisation history, recent send outcomes, and an early warning with the reasons. (columns: _marts.yml)
WITH cal AS (
    SELECT last_day AS as_of FROM {{ ref('growth_calendar') }}
), latest AS (
    SELECT * FROM {{ ref('template_health_daily') }} WHERE day = (SELECT as_of FROM cal)
), events AS (
    SELECT * FROM {{ ref('template_events') }}
), history AS (
    SELECT waba_id, template_name, template_language,
           count(*) FILTER (kind = 'status' AND value_to = 'PAUSED') AS pauses,
           min(event_at) FILTER (pause_kind = 'FIRST_PAUSE') AS first_pause_at,
           min(event_at) FILTER (pause_kind = 'SECOND_PAUSE') AS second_pause_at,
           count(*) FILTER (pause_kind = 'RATE_LIMITING_PAUSE') AS rate_limiting_pauses,
           max(event_at) FILTER (kind = 'status' AND value_to = 'PAUSED') AS last_pause_at,
           max(event_at) FILTER (kind = 'status' AND value_to = 'DISABLED') AS disabled_at,
           max(event_at) FILTER (kind = 'quality') AS quality_changed_at,
           max(event_at) FILTER (kind = 'category') AS recategorised_at,
           arg_max(value_from, event_at) FILTER (kind = 'category') AS recategorised_from,
           arg_max(value_to, event_at) FILTER (kind = 'category') AS recategorised_to,
           coalesce(bool_or(kind = 'status' AND value_to = 'FLAGGED'), false) AS flagged,
           coalesce(bool_or(detail LIKE 'disable date %'), false) AS disable_announced
    FROM events GROUP BY ALL
), recent AS (
    SELECT d.waba_id, d.template_name, d.template_language, min(d.day) AS first_seen,
           sum(d.sent) FILTER (d.day > c.as_of - 30)::BIGINT AS sent_30d,
           sum(d.read) FILTER (d.day > c.as_of - 30) / nullif(sum(d.delivered) FILTER (d.day > c.as_of - 30), 0) AS read_rate_30d,
           sum(d.sent) FILTER (d.day > c.as_of - 7) AS sent_7d,
           sum(d.failed) FILTER (d.day > c.as_of - 7) / nullif(sum(d.sent) FILTER (d.day > c.as_of - 7), 0) AS failure_rate_7d,
           sum(d.failed) FILTER (d.day BETWEEN c.as_of - 34 AND c.as_of - 7)
               / nullif(sum(d.sent) FILTER (d.day BETWEEN c.as_of - 34 AND c.as_of - 7), 0) AS failure_rate_prior_28d
    FROM {{ ref('template_health_daily') }} d, cal c GROUP BY ALL
), category_cost AS (
    -- How dear a category is: its average first-band rate across markets on the latest card.
    SELECT upper(category) AS category, avg(rate) AS average_rate
    FROM {{ ref('rate_card') }} WHERE volume_from = 0 AND effective_from = (SELECT max(effective_from) FROM {{ ref('rate_card') }})
    GROUP BY ALL
), judged AS (
    SELECT l.*, h.* EXCLUDE (waba_id, template_name, template_language),
           r.* EXCLUDE (waba_id, template_name, template_language), c.as_of,
           list_value(
               CASE WHEN l.quality_score = 'RED' THEN 'quality_red' END,
               CASE WHEN l.quality_score = 'YELLOW' THEN 'quality_yellow' END,
               CASE WHEN h.last_pause_at > (c.as_of - 29)::TIMESTAMPTZ THEN 'paused_last_30d' END,
               CASE WHEN r.sent_7d >= 20 AND r.failure_rate_7d >= 1.5 * coalesce(r.failure_rate_prior_28d, 0)
                         AND r.failure_rate_7d >= coalesce(r.failure_rate_prior_28d, 0) + 0.02 THEN 'failure_rate_rising' END,
               CASE WHEN h.recategorised_at > (c.as_of - 29)::TIMESTAMPTZ AND new_cost.average_rate > old_cost.average_rate
                    THEN 'recategorised_dearer' END,
               CASE WHEN (h.pauses - h.rate_limiting_pauses >= 2 OR h.flagged OR h.disable_announced)
                         AND l.status IS DISTINCT FROM 'DISABLED' THEN 'approaching_disable' END
           ) AS reasons
    FROM latest l
    CROSS JOIN cal c
    LEFT JOIN history h ON h.waba_id = l.waba_id AND h.template_name = l.template_name
         AND h.template_language IS NOT DISTINCT FROM l.template_language
    LEFT JOIN recent r ON r.waba_id = l.waba_id AND r.template_name = l.template_name
         AND r.template_language IS NOT DISTINCT FROM l.template_language
    LEFT JOIN category_cost old_cost ON old_cost.category = h.recategorised_from
    LEFT JOIN category_cost new_cost ON new_cost.category = h.recategorised_to
)
SELECT as_of, waba_id, template_id, template_name, template_language, category, status, quality_score, first_seen,
       quality_changed_at, coalesce(pauses, 0) AS pauses, first_pause_at, second_pause_at,
       coalesce(rate_limiting_pauses, 0) AS rate_limiting_pauses, last_pause_at, disabled_at, recategorised_at,
       recategorised_from, coalesce(sent_30d, 0) AS sent_30d, round(read_rate_30d, 4) AS read_rate_30d,
       round(failure_rate_7d, 4) AS failure_rate_7d, round(failure_rate_prior_28d, 4) AS failure_rate_prior_28d,
       list_filter(reasons, x -> x IS NOT NULL) AS risk_reasons,
       len(list_filter(reasons, x -> x IS NOT NULL)) > 0
           AND coalesce(status NOT IN ('DISABLED', 'DELETED', 'PENDING_DELETION', 'ARCHIVED', 'REJECTED'), true) AS at_risk
FROM judged
ORDER BY at_risk DESC, waba_id, template_name, template_language
