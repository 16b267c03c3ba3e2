-- marts.optin_audit: one row per business-initiated message (every template send, delivered or not), with the
-- opt-in that allowed it or why none did. Read against marts.consent_timeline as of the send time (an event at
-- the same second as the send counts as before it). When several findings apply, the first in this order wins:
--   1 opted_out         an opt-out covering the category, not followed by an opt-in covering it (an opt-out
--                       wins a tie), or for marketing a 'stop' on the sending number not yet followed by 'resume';
--                       a 'no' follows the person across number and identity changes;
--   2 covered           an opt-in whose scope includes the category, recorded after the last number or identity change;
--   3 identity_changed  such an opt-in exists, but only from before a number or identity change (a 'yes' does not
--                       survive a change: the number may have a new holder);
--   4 out_of_scope      opted in before the send, but only for other categories;
--   5 after_send        no opt-in before the send, but one recorded after it under the id the message went to (or
--                       one linked to it; an opt-in given after changing number is for the new number only);
--   6 missing           no opt-in recorded at all.
-- Opt-ins and opt-outs recorded for one WABA apply to that WABA's messages only; without a WABA, to all. A message
-- whose WABA or number is unknown (an On-Premises status with no send-log row) is held against all of them.
-- column message_id: Meta's message id.
-- column waba_id: WABA that sent it.
-- column phone_number_id: Business phone number that sent it.
-- column customer_id: Recipient: wa_id, else business-scoped user id.
-- column market: Meta pricing market of the recipient.
-- column sent_at: Send time (UTC).
-- column sent_day: Send date in the WABA's timezone (staging.accounts).
-- column category: Category consent is checked for: the template's category by our records, else Meta's (authentication_international counts as authentication, marketing_lite as marketing).
-- column template_name: Template sent.
-- column campaign: Campaign from the send log.
-- column final_status: failed, read, delivered, sent or no_status (marts.message_ledger).
-- column error_code: Meta's error code when it failed (131050: marketing stopped, 131049: ecosystem limit).
-- column consent_status: covered, missing, after_send, opted_out, out_of_scope or identity_changed (precedence above).
-- column optin_at: The opt-in the finding is about: the covering one (covered, opted_out, identity_changed), the latest of another scope (out_of_scope), the first one after the send (after_send).
-- column optin_source: Where that opt-in was collected.
-- column optin_scope: Its scope.
-- column evidence_ref: Its evidence reference.
-- column optin_recorded_under: Id it was recorded under (differs from customer_id when found through a link or an earlier number).
-- column blocking_event: What overrode the opt-in: opt_out or marketing_stop (opted_out), or the change type (identity_changed).
-- column blocking_event_at: When that happened.
-- column blocking_evidence_ref: Its evidence: the opt-out's evidence reference, the preference's landing file and line, or the system message id.
-- column reason: In words, what decided the status.
WITH messages AS (
    SELECT l.message_id, l.waba_id, l.phone_number_id, l.customer_id, l.market, l.sent_at,
           (l.sent_at AT TIME ZONE coalesce(a.timezone, 'UTC'))::DATE AS sent_day,
           CASE WHEN starts_with(c.category, 'marketing') THEN 'marketing'
                WHEN starts_with(c.category, 'authentication') THEN 'authentication'
                ELSE c.category END AS category,
           l.template_name, l.campaign, l.final_status, l.error_code
    FROM marts.message_ledger l
    LEFT JOIN staging.accounts a USING (waba_id)
    CROSS JOIN LATERAL (SELECT coalesce(l.template_category, l.category) AS category) c
    -- A message missing from the send log is a template when Meta priced it as one (as finance decides).
    WHERE l.message_type = 'template'
       OR (l.message_type = 'unknown' AND l.pricing_type IS DISTINCT FROM 'free_entry_point'
           AND l.category IN ('marketing', 'marketing_lite', 'utility', 'authentication', 'authentication_international'))
), wabas AS (
    -- '' stands for an unknown WABA, which every opt-in and opt-out applies to.
    SELECT DISTINCT coalesce(waba_id, '') AS waba_id FROM messages
), categories AS (
    SELECT DISTINCT category FROM messages
), consent AS (
    -- Opt-ins and opt-outs, one row per WABA and message category they cover, so the as-of joins are equi-joins.
    SELECT t.customer_id, w.waba_id, c.category, t.event_at, t.effect, t.event_type, t.source, t.scope,
           t.evidence_ref, t.recorded_under
    FROM marts.consent_timeline t
    JOIN wabas w ON t.waba_id IS NULL OR t.waba_id = w.waba_id OR w.waba_id = ''
    JOIN categories c ON t.scope = 'all' OR t.scope = c.category
    WHERE t.event_type IN ('opt_in', 'opt_out')
), grants AS (
    SELECT * FROM consent WHERE effect = 'grant'
), revokes AS (
    SELECT * FROM consent WHERE effect = 'revoke'
), optins AS (
    -- Opt-ins of any scope, for out_of_scope and after_send.
    SELECT t.customer_id, w.waba_id, t.event_at, t.source, t.scope, t.evidence_ref, t.recorded_under
    FROM marts.consent_timeline t JOIN wabas w ON t.waba_id IS NULL OR t.waba_id = w.waba_id OR w.waba_id = ''
    WHERE t.event_type = 'opt_in'
), preferences AS (
    -- Per business number; under '' (an unknown number) the latest choice on any number.
    SELECT customer_id, unnest([phone_number_id, '']) AS phone_number_id, event_at, effect, event_type, evidence_ref
    FROM marts.consent_timeline WHERE effect IN ('revoke', 'restore') AND event_type LIKE 'marketing%'
), resets AS (
    SELECT customer_id, event_at, event_type, evidence_ref FROM marts.consent_timeline WHERE effect = 'reset'
), joined AS (
    SELECT m.*,
           g.event_at AS grant_at, g.source AS grant_source, g.scope AS grant_scope, g.evidence_ref AS grant_evidence,
           g.recorded_under AS grant_under,
           r.event_at AS revoke_at, r.scope AS revoke_scope, r.evidence_ref AS revoke_evidence,
           p.event_at AS preference_at, p.effect AS preference_effect, p.evidence_ref AS preference_evidence,
           x.event_at AS reset_at, x.event_type AS reset_type, x.evidence_ref AS reset_evidence,
           b.event_at AS before_at, b.source AS before_source, b.scope AS before_scope, b.evidence_ref AS before_evidence,
           b.recorded_under AS before_under,
           n.event_at AS next_at, n.source AS next_source, n.scope AS next_scope, n.evidence_ref AS next_evidence,
           n.recorded_under AS next_under
    FROM messages m
    ASOF LEFT JOIN grants g
      ON g.customer_id = m.customer_id AND g.waba_id = coalesce(m.waba_id, '') AND g.category = m.category AND m.sent_at >= g.event_at
    ASOF LEFT JOIN revokes r
      ON r.customer_id = m.customer_id AND r.waba_id = coalesce(m.waba_id, '') AND r.category = m.category AND m.sent_at >= r.event_at
    ASOF LEFT JOIN preferences p
      ON p.customer_id = m.customer_id AND p.phone_number_id = coalesce(m.phone_number_id, '') AND m.sent_at >= p.event_at
    ASOF LEFT JOIN resets x ON x.customer_id = m.customer_id AND m.sent_at >= x.event_at
    ASOF LEFT JOIN optins b
      ON b.customer_id = m.customer_id AND b.waba_id = coalesce(m.waba_id, '') AND m.sent_at >= b.event_at
    ASOF LEFT JOIN optins n
      ON n.customer_id = m.customer_id AND n.waba_id = coalesce(m.waba_id, '') AND m.sent_at < n.event_at
), decided AS (
    SELECT *,
           revoke_at IS NOT NULL AND (grant_at IS NULL OR revoke_at >= grant_at) AS opted_out,
           category = 'marketing' AND preference_effect = 'revoke' AS stopped
    FROM joined
), classified AS (
    SELECT *,
           CASE WHEN opted_out OR stopped THEN 'opted_out'
                WHEN grant_at IS NOT NULL AND (reset_at IS NULL OR grant_at > reset_at) THEN 'covered'
                WHEN grant_at IS NOT NULL THEN 'identity_changed'
                WHEN before_at IS NOT NULL THEN 'out_of_scope'
                WHEN next_at IS NOT NULL THEN 'after_send'
                ELSE 'missing' END AS consent_status,
           -- With both an opt-out and a stop in force, the later one is named.
           stopped AND (NOT opted_out OR preference_at > revoke_at) AS blocked_by_stop
    FROM decided
)
SELECT message_id, waba_id, phone_number_id, customer_id, market, sent_at, sent_day, category, template_name, campaign,
       final_status, error_code, consent_status,
       CASE WHEN consent_status IN ('covered', 'opted_out', 'identity_changed') THEN grant_at
            WHEN consent_status = 'out_of_scope' THEN before_at WHEN consent_status = 'after_send' THEN next_at END AS optin_at,
       CASE WHEN consent_status IN ('covered', 'opted_out', 'identity_changed') THEN grant_source
            WHEN consent_status = 'out_of_scope' THEN before_source WHEN consent_status = 'after_send' THEN next_source END AS optin_source,
       CASE WHEN consent_status IN ('covered', 'opted_out', 'identity_changed') THEN grant_scope
            WHEN consent_status = 'out_of_scope' THEN before_scope WHEN consent_status = 'after_send' THEN next_scope END AS optin_scope,
       CASE WHEN consent_status IN ('covered', 'opted_out', 'identity_changed') THEN grant_evidence
            WHEN consent_status = 'out_of_scope' THEN before_evidence WHEN consent_status = 'after_send' THEN next_evidence END AS evidence_ref,
       CASE WHEN consent_status IN ('covered', 'opted_out', 'identity_changed') THEN grant_under
            WHEN consent_status = 'out_of_scope' THEN before_under WHEN consent_status = 'after_send' THEN next_under END AS optin_recorded_under,
       CASE WHEN blocked_by_stop THEN 'marketing_stop' WHEN consent_status = 'opted_out' THEN 'opt_out'
            WHEN consent_status = 'identity_changed' THEN reset_type END AS blocking_event,
       CASE WHEN blocked_by_stop THEN preference_at WHEN consent_status = 'opted_out' THEN revoke_at
            WHEN consent_status = 'identity_changed' THEN reset_at END AS blocking_event_at,
       CASE WHEN blocked_by_stop THEN preference_evidence WHEN consent_status = 'opted_out' THEN revoke_evidence
            WHEN consent_status = 'identity_changed' THEN reset_evidence END AS blocking_evidence_ref,
       CASE consent_status
            WHEN 'opted_out' THEN
                 CASE WHEN blocked_by_stop
                      THEN format('the customer stopped marketing messages from this number on {} and had not resumed',
                                  strftime(preference_at, '%Y-%m-%d %H:%M:%S UTC'))
                      ELSE format('opt-out of {} recorded {} (evidence {}) and no opt-in covering {} since',
                                  revoke_scope, strftime(revoke_at, '%Y-%m-%d %H:%M:%S UTC'), revoke_evidence, category) END
            WHEN 'covered' THEN format('opt-in for {} via {} recorded {} (evidence {}) was in force',
                                       grant_scope, grant_source, strftime(grant_at, '%Y-%m-%d %H:%M:%S UTC'), grant_evidence)
            WHEN 'identity_changed' THEN format('the only opt-in covering {} (recorded {}) predates {} on {}; none since',
                                                category, strftime(grant_at, '%Y-%m-%d %H:%M:%S UTC'), reset_type,
                                                strftime(reset_at, '%Y-%m-%d %H:%M:%S UTC'))
            WHEN 'out_of_scope' THEN format('opted in for {} only (recorded {}); no opt-in covers {}',
                                            before_scope, strftime(before_at, '%Y-%m-%d %H:%M:%S UTC'), category)
            WHEN 'after_send' THEN format('no opt-in before the send; the first was recorded {}, {} later',
                                          strftime(next_at, '%Y-%m-%d %H:%M:%S UTC'), next_at - sent_at)
            ELSE 'no opt-in recorded for this customer or any id linked to them' END AS reason
FROM classified
ORDER BY sent_at, message_id
