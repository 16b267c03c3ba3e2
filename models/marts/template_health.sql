-- marts.template_health: one row per message template: its state on the last day of data (as_of), its pause,
-- disable and re-categorisation history, recent send outcomes, and an early warning with the reasons. "Recent"
-- is counted back from as_of, not from the wall clock, so a rebuild on the same files gives the same answer.
-- column as_of: Last UTC day of data the state refers to.
-- column waba_id: WhatsApp Business Account.
-- column template_id: Meta's template id.
-- column template_name: Template name.
-- column template_language: Template language.
-- column category: Current category.
-- column status: Current status.
-- column quality_score: Current quality score (GREEN, YELLOW, RED, UNKNOWN).
-- column first_seen: First day any source named the template.
-- column quality_changed_at: When the quality score last changed.
-- column pauses: Pauses over the template's life (all kinds).
-- column first_pause_at: Time of its FIRST_PAUSE.
-- column second_pause_at: Time of its SECOND_PAUSE.
-- column rate_limiting_pauses: Pauses for rate limiting (RATE_LIMITING_PAUSE), which are not about quality.
-- column last_pause_at: Time of the latest pause of any kind.
-- column disabled_at: When it was (last) disabled.
-- column recategorised_at: When its category last changed.
-- column recategorised_from: The category it had before that.
-- column sent_30d: Messages sent with it in the 30 days to as_of.
-- column read_rate_30d: read / delivered over those 30 days.
-- column failure_rate_7d: failed / sent in the 7 days to as_of.
-- column failure_rate_prior_28d: failed / sent in the 28 days before those 7.
-- column risk_reasons: Why it is at risk: quality_red, quality_yellow, paused_last_30d, failure_rate_rising (7-day failure rate at least 1.5 times the prior 28 days' and 2 points higher, on at least 20 sends), recategorised_dearer (in the last 30 days, to a category with a higher average rate on the latest rate card), approaching_disable (two quality pauses already, flagged, or a disable date announced: Meta disables a template on its third quality pause).
-- column at_risk: True when there is any reason and the template can still be sent or recovered (not DISABLED, DELETED, PENDING_DELETION, ARCHIVED or REJECTED).
WITH cal AS (
    SELECT last_day AS as_of FROM _growth_calendar
), latest AS (
    SELECT * FROM marts.template_health_daily WHERE day = (SELECT as_of FROM cal)
), events AS (
    SELECT * FROM marts.template_events
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
    FROM marts.template_health_daily d, cal c GROUP BY ALL
), category_cost AS (
    -- How dear a category is: its average first-band rate across markets on the latest card.
    SELECT upper(category) AS category, avg(rate) AS average_rate
    FROM marts.rate_card WHERE volume_from = 0 AND effective_from = (SELECT max(effective_from) FROM marts.rate_card)
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
