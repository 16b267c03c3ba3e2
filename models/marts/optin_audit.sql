-- marts.optin_audit: one row per business-initiated message (every template send, delivered or not), with the consent that allowed it or why none did. (columns: _marts.yml)
-- Month-partitioned (models/dbt_macros/month_partitions.sql): a row's month is its ledger row's local_month. A run that
-- rebuilds some months reads only their ledger rows, and every consent event (an opt-in after the send decides
-- after_send, an opt-out years before decides opted_out: the timeline is small and read whole); it also rebuilds the
-- months holding a stored row whose person the ledger has changed since (message_ledger.sql re-checks them).
-- It rebuilds by customer, in every month, what new identity data reaches (bookkeeping.customer_plan).
{%- set partial = rebuild_month_list() is not none %}
{%- set customers = rebuild_customers() %}
WITH {% if partial -%}
audit_months AS (
    SELECT unnest([{{ rebuild_month_list() }}]::DATE[]) AS month
    UNION
    SELECT DISTINCT l.local_month FROM {{ ref('message_ledger') }} l JOIN {{ this }} t USING (message_id)
    WHERE t.person_id IS DISTINCT FROM l.person_id
    {%- if customers is not none %} AND (l.customer_id IS NULL OR l.customer_id NOT IN ({{ customers }})){% endif %}
), {% endif -%}
settings AS (
    SELECT coalesce({{ waba_var('consent_scope') }}, 'portfolio') AS consent_scope
), portfolios AS (
    SELECT waba_id, coalesce(min(business_portfolio_id), waba_id) AS portfolio_id FROM {{ ref('accounts') }} GROUP BY waba_id
), messages AS (
    SELECT l.message_id, l.waba_id, l.phone_number_id, l.customer_id, l.market, l.sent_at,
           l.local_sent_date AS sent_day,
           CASE WHEN starts_with(c.category, 'marketing') THEN 'marketing'
                WHEN starts_with(c.category, 'authentication') THEN 'authentication'
                ELSE c.category END AS category,
           l.template_name, l.campaign, l.final_status, l.error_code, l.in_service_window,
           coalesce(l.waba_id, '') || '/' || coalesce(l.phone_number_id, '') AS sender, l.person_id
    FROM {{ ref('message_ledger') }} l
    CROSS JOIN LATERAL (SELECT coalesce(l.template_category, l.category) AS category) c
    -- Business-initiated messages need an opt-in (the ledger's definition: templates, logged or as Meta priced them).
    WHERE l.is_business_initiated {% if partial %}AND (l.local_month IN (SELECT month FROM audit_months){% if customers is not none %} OR l.customer_id IN ({{ customers }}){% endif %}){% endif %}
), senders AS (
    -- '' stands for an unknown WABA or number, which every consent record applies to.
    SELECT DISTINCT m.sender, coalesce(m.waba_id, '') AS waba_id, coalesce(m.phone_number_id, '') AS phone_number_id,
           coalesce(p.portfolio_id, m.waba_id, '') AS portfolio_id
    FROM messages m LEFT JOIN portfolios p USING (waba_id)
), categories AS (
    SELECT DISTINCT category FROM messages WHERE category IS NOT NULL
), events AS (
    SELECT t.*, coalesce(p.portfolio_id, t.waba_id) AS portfolio_id
    FROM {{ ref('consent_timeline') }} t LEFT JOIN portfolios p USING (waba_id)
    WHERE t.effect IN ('grant', 'revoke', 'restore', 'stop', 'resume', 'number_passed', 'identity_signal')
), applied AS (
    -- Each consent record, once per sender it applies to: opt-ins as recorded, opt-outs and stops by consent_scope.
    SELECT e.*, s.sender
    FROM events e JOIN senders s ON
         s.waba_id = '' OR (e.waba_id IS NULL AND e.phone_number_id IS NULL)
         OR CASE WHEN e.effect = 'grant' THEN s.waba_id = e.waba_id
                 WHEN (SELECT consent_scope FROM settings) = 'portfolio'
                      THEN s.portfolio_id = e.portfolio_id OR (e.waba_id IS NULL AND s.phone_number_id = e.phone_number_id)
                 WHEN (SELECT consent_scope FROM settings) = 'waba'
                      THEN s.waba_id = e.waba_id OR (e.waba_id IS NULL AND s.phone_number_id = e.phone_number_id)
                 ELSE coalesce(s.phone_number_id = e.phone_number_id, s.waba_id = e.waba_id) END
    WHERE e.effect IN ('grant', 'revoke', 'restore', 'stop', 'resume')
), by_category AS (
    SELECT a.*, c.category FROM applied a JOIN categories c ON a.scope = 'all' OR a.scope = c.category
    WHERE a.effect IN ('grant', 'revoke', 'restore')
), grants AS (
    -- One row per as-of key and time, so every as-of join below picks one row (two runs, the same marts).
    SELECT * FROM by_category WHERE effect = 'grant'
    QUALIFY row_number() OVER (PARTITION BY customer_id, sender, category, event_at
                               ORDER BY evidence_ref, recorded_under, source, scope, recorded_in) = 1
), optouts AS (
    -- An opt-out wins a tie with a resume keyword.
    SELECT * FROM by_category WHERE effect IN ('revoke', 'restore')
    QUALIFY row_number() OVER (PARTITION BY customer_id, sender, category, event_at
                               ORDER BY effect = 'revoke' DESC, evidence_ref, recorded_under, source, recorded_in) = 1
), stops AS (
    -- A stop wins a tie with a resume.
    SELECT * FROM applied WHERE effect IN ('stop', 'resume')
    QUALIFY row_number() OVER (PARTITION BY customer_id, sender, event_at
                               ORDER BY effect = 'stop' DESC, source, evidence_ref, recorded_under, recorded_in) = 1
), any_optins AS (
    SELECT * FROM applied WHERE effect = 'grant'
    QUALIFY row_number() OVER (PARTITION BY customer_id, sender, event_at
                               ORDER BY scope, evidence_ref, recorded_under, source, recorded_in) = 1
), passes AS (
    SELECT * FROM events WHERE effect = 'number_passed'
    QUALIFY row_number() OVER (PARTITION BY customer_id, event_at ORDER BY evidence_ref, event_type) = 1
), signals AS (
    SELECT * FROM events WHERE effect = 'identity_signal'
    QUALIFY row_number() OVER (PARTITION BY customer_id, event_at ORDER BY event_type, evidence_ref, recorded_under) = 1
), joined AS (
    SELECT m.*,
           g.event_at AS grant_at, g.source AS grant_source, g.scope AS grant_scope, g.evidence_ref AS grant_evidence,
           g.recorded_under AS grant_under, g.wording AS grant_wording, g.business_name AS grant_business,
           r.event_at AS optout_at, r.effect AS optout_effect, r.scope AS optout_scope, r.source AS optout_source,
           r.evidence_ref AS optout_evidence, r.waba_id AS optout_waba, r.phone_number_id AS optout_phone,
           p.event_at AS stop_at, p.effect AS stop_effect, p.source AS stop_source, p.evidence_ref AS stop_evidence,
           p.phone_number_id AS stop_phone,
           x.event_at AS pass_at, x.event_type AS pass_type, x.evidence_ref AS pass_evidence,
           y.event_at AS signal_at, y.event_type AS signal_type, y.evidence_ref AS signal_evidence,
           b.event_at AS before_at, b.source AS before_source, b.scope AS before_scope, b.evidence_ref AS before_evidence,
           b.recorded_under AS before_under, b.wording AS before_wording, b.business_name AS before_business,
           n.event_at AS next_at, n.source AS next_source, n.scope AS next_scope, n.evidence_ref AS next_evidence,
           n.recorded_under AS next_under, n.wording AS next_wording, n.business_name AS next_business
    FROM messages m
    ASOF LEFT JOIN grants g
      ON g.customer_id = m.customer_id AND g.sender = m.sender AND g.category = m.category AND m.sent_at >= g.event_at
    ASOF LEFT JOIN optouts r
      ON r.customer_id = m.customer_id AND r.sender = m.sender AND r.category = m.category AND m.sent_at >= r.event_at
    ASOF LEFT JOIN stops p ON p.customer_id = m.customer_id AND p.sender = m.sender AND m.sent_at >= p.event_at
    ASOF LEFT JOIN passes x ON x.customer_id = m.customer_id AND m.sent_at >= x.event_at
    ASOF LEFT JOIN signals y ON y.customer_id = m.customer_id AND m.sent_at >= y.event_at
    ASOF LEFT JOIN any_optins b ON b.customer_id = m.customer_id AND b.sender = m.sender AND m.sent_at >= b.event_at
    ASOF LEFT JOIN grants n
      ON n.customer_id = m.customer_id AND n.sender = m.sender AND n.category = m.category AND m.sent_at < n.event_at
), holder AS (
    -- What came before the number passed on is the previous holder's.
    SELECT *, coalesce(grant_at > pass_at, grant_at IS NOT NULL) AS own_grant FROM joined
), decided AS (
    SELECT *,
           coalesce(optout_effect = 'revoke' AND coalesce(optout_at > pass_at, true)
                    AND (NOT own_grant OR optout_at >= grant_at), false) AS opted_out,
           coalesce(category = 'marketing' AND stop_effect = 'stop' AND coalesce(stop_at > pass_at, true), false) AS stopped,
           coalesce(own_grant AND signal_at > grant_at, false) AS review,
           coalesce(before_at > pass_at, before_at IS NOT NULL) AS own_before
    FROM holder
), classified AS (
    SELECT *,
           CASE WHEN opted_out THEN 'opted_out'
                WHEN stopped THEN 'marketing_stopped'
                WHEN grant_at IS NOT NULL AND NOT own_grant THEN 'number_reassigned'
                WHEN review THEN 'covered_identity_changed'
                WHEN own_grant THEN 'covered'
                WHEN in_service_window THEN 'user_initiated_window'
                WHEN own_before THEN 'out_of_scope'
                WHEN next_at IS NOT NULL THEN 'after_send'
                ELSE 'missing' END AS consent_status
    FROM decided
), shown AS (
    -- The opt-in each status is about.
    SELECT *,
           CASE WHEN consent_status IN ('covered', 'covered_identity_changed', 'number_reassigned')
                  OR (consent_status IN ('opted_out', 'marketing_stopped') AND own_grant) THEN 'grant'
                WHEN consent_status = 'out_of_scope' THEN 'before'
                WHEN consent_status = 'after_send' THEN 'next' END AS optin_kind
    FROM classified
)
SELECT message_id, waba_id, phone_number_id, customer_id, market, sent_at, sent_day, category, template_name, campaign,
       final_status, error_code, consent_status,
       consent_status IN ('covered', 'covered_identity_changed', 'user_initiated_window') AS permitted,
       (SELECT consent_scope FROM settings) AS consent_scope, in_service_window,
       CASE optin_kind WHEN 'grant' THEN grant_at WHEN 'before' THEN before_at WHEN 'next' THEN next_at END AS optin_at,
       CASE optin_kind WHEN 'grant' THEN grant_source WHEN 'before' THEN before_source WHEN 'next' THEN next_source END AS optin_source,
       CASE optin_kind WHEN 'grant' THEN grant_scope WHEN 'before' THEN before_scope WHEN 'next' THEN next_scope END AS optin_scope,
       CASE optin_kind WHEN 'grant' THEN grant_evidence WHEN 'before' THEN before_evidence WHEN 'next' THEN next_evidence END AS evidence_ref,
       CASE optin_kind WHEN 'grant' THEN grant_under WHEN 'before' THEN before_under WHEN 'next' THEN next_under END AS optin_recorded_under,
       CASE optin_kind WHEN 'grant' THEN grant_wording WHEN 'before' THEN before_wording WHEN 'next' THEN next_wording END AS optin_wording,
       CASE optin_kind WHEN 'grant' THEN grant_business WHEN 'before' THEN before_business WHEN 'next' THEN next_business END AS optin_business_name,
       CASE consent_status WHEN 'opted_out' THEN 'opt_out'
            WHEN 'marketing_stopped' THEN CASE stop_source WHEN 'error_131050' THEN 'error_131050' ELSE 'marketing_stop' END
            WHEN 'number_reassigned' THEN pass_type END AS blocking_event,
       CASE consent_status WHEN 'opted_out' THEN optout_at WHEN 'marketing_stopped' THEN stop_at
            WHEN 'number_reassigned' THEN pass_at END AS blocking_event_at,
       CASE consent_status WHEN 'opted_out' THEN optout_evidence WHEN 'marketing_stopped' THEN stop_evidence
            WHEN 'number_reassigned' THEN pass_evidence END AS blocking_evidence_ref,
       CASE WHEN consent_status = 'covered_identity_changed' THEN signal_type END AS review_event,
       CASE WHEN consent_status = 'covered_identity_changed' THEN signal_at END AS review_event_at,
       CASE WHEN consent_status = 'covered_identity_changed' THEN signal_evidence END AS review_evidence_ref,
       CASE consent_status
            -- Evidence that can be a wamid (a chat message, a failed message) stays in its own column, so masking it
            -- there masks it everywhere.
            WHEN 'opted_out' THEN format('opt-out of {} ({}{}) recorded {} (evidence in blocking_evidence_ref) under {} scope and no opt-in covering {} since',
                                         optout_scope, optout_source,
                                         CASE WHEN optout_waba IS NULL THEN ', whole business' ELSE ', WABA ' || optout_waba END,
                                         strftime(optout_at, '%Y-%m-%d %H:%M:%S UTC'),
                                         (SELECT consent_scope FROM settings), category)
            WHEN 'marketing_stopped' THEN
                 CASE WHEN stop_source = 'error_131050'
                      THEN format('Meta failed a marketing message to this customer with 131050 (user stopped marketing) sent {} from number {} (message in blocking_evidence_ref) and no resume since',
                                  strftime(stop_at, '%Y-%m-%d %H:%M:%S UTC'), stop_phone)
                      ELSE format('the customer stopped marketing messages on number {} on {} and had not resumed',
                                  stop_phone, strftime(stop_at, '%Y-%m-%d %H:%M:%S UTC')) END
            WHEN 'number_reassigned' THEN format('the opt-in (recorded {}) was given by the previous holder: the number passed on with {} on {}',
                                                 strftime(grant_at, '%Y-%m-%d %H:%M:%S UTC'), pass_type,
                                                 strftime(pass_at, '%Y-%m-%d %H:%M:%S UTC'))
            WHEN 'covered_identity_changed' THEN format('opt-in for {} via {} recorded {} (evidence {}) was in force; {} on {} since: re-verify the customer',
                                                        grant_scope, grant_source, strftime(grant_at, '%Y-%m-%d %H:%M:%S UTC'),
                                                        grant_evidence, signal_type, strftime(signal_at, '%Y-%m-%d %H:%M:%S UTC'))
            WHEN 'covered' THEN format('opt-in for {} via {} recorded {} (evidence {}) was in force',
                                       grant_scope, grant_source, strftime(grant_at, '%Y-%m-%d %H:%M:%S UTC'), grant_evidence)
            WHEN 'user_initiated_window' THEN 'no opt-in covers it, but the customer had written to this number within the 24 hours before: a reply inside their customer-service window'
            WHEN 'out_of_scope' THEN format('opted in for {} only (recorded {}); no opt-in covers {}',
                                            before_scope, strftime(before_at, '%Y-%m-%d %H:%M:%S UTC'), category)
            WHEN 'after_send' THEN format('no opt-in covering {} before the send; the first was recorded {}, {} later',
                                          category, strftime(next_at, '%Y-%m-%d %H:%M:%S UTC'), next_at - sent_at)
            ELSE format('no opt-in covering {} recorded for this customer or any id linked to them', category) END AS reason,
       person_id
FROM shown
ORDER BY sent_at, message_id
