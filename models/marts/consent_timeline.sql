-- marts.consent_timeline: one row per (customer, consent-relevant event), in time order per customer: the opt-ins and opt-outs the business recorded (landing/optins/), opt-outs and resumes the customer wrote in the chat (an inbound text that is exactly a keyword of the chat keyword list), the marketing stop / resume the customer chose in WhatsApp (user_preferences webhooks), Meta's 131050 failures (proof that a marketing stop was in force), number and identity changes (system messages) and the wa_id <-> business-scoped user id links. (columns: _marts.yml)
WITH files AS (
    SELECT load_id, file_path FROM {{ source('raw', 'load_audit') }}
), consent AS (
    SELECT o.customer_id AS recorded_under, o.event_at, o.event AS event_type,
           CASE o.event WHEN 'opt_in' THEN 'grant' WHEN 'opt_out' THEN 'revoke' ELSE 'none' END AS effect,
           o.scope, o.source, o.evidence_ref, f.file_path || ':' || o._line_no AS recorded_in,
           o.waba_id, NULL::VARCHAR AS phone_number_id, NULL::VARCHAR AS previous_id, NULL::VARCHAR AS new_id,
           NULL::VARCHAR AS linked_id, NULL::VARCHAR AS detail, o.wording, o.business_name,
           'optin:' || o._load_id || ':' || o._line_no AS event_key
    FROM {{ ref('optin_events') }} o LEFT JOIN files f ON f.load_id = o._load_id
), chat AS (
    -- A keyword is the whole message: "STOP" is an opt-out, "please stop the delivery" is not.
    SELECT i.customer_id, i.sent_at, CASE k.action WHEN 'opt_out' THEN 'opt_out' ELSE 'opt_out_resume' END,
           CASE k.action WHEN 'opt_out' THEN 'revoke' ELSE 'restore' END, 'all', 'chat_keyword', i.message_id,
           f.file_path || ':' || i._line_no, i.waba_id, i.phone_number_id, NULL, NULL, NULL, i.text_body, NULL, NULL,
           'chat:' || i.message_id
    FROM {{ ref('inbound_messages') }} i
    JOIN {{ ref('chat_keywords_in_force') }} k ON k.normalised = waba_normalised_text(i.text_body)
    LEFT JOIN files f ON f.load_id = i._load_id
    WHERE i.message_type = 'text' AND i.customer_id IS NOT NULL
    -- a keyword in both lists' actions (never in the bundled one) counts as an opt-out
    QUALIFY row_number() OVER (PARTITION BY i.message_id ORDER BY k.action = 'opt_out' DESC) = 1
), preferences AS (
    SELECT p.customer_id, p.changed_at, 'marketing_' || lower(p.value),
           CASE lower(p.value) WHEN 'stop' THEN 'stop' WHEN 'resume' THEN 'resume' ELSE 'none' END,
           'marketing', 'whatsapp', f.file_path || ':' || p._line_no, f.file_path || ':' || p._line_no,
           p.waba_id, p.phone_number_id, NULL, NULL, NULL, p.detail, NULL, NULL,
           'preference:' || p.customer_id || ':' || lower(p.value) || ':' || p.changed_at || ':' || coalesce(p.phone_number_id, '')
    FROM {{ ref('user_preferences') }} p LEFT JOIN files f ON f.load_id = p._load_id
    WHERE p.customer_id IS NOT NULL
), stop_failures AS (
    -- Meta fails a marketing template with 131050 only when the customer has stopped marketing messages: the stop
    -- was in force when it was sent, whether or not a user_preferences webhook reached us.
    SELECT customer_id, sent_at, 'marketing_stop', 'stop', 'marketing', 'error_131050', message_id, NULL,
           waba_id, phone_number_id, NULL, NULL, NULL, 'Meta error 131050: the user stopped marketing messages',
           NULL, NULL, 'failure:' || message_id
    FROM {{ ref('message_ledger') }}
    WHERE final_status = 'failed' AND error_code = 131050 AND customer_id IS NOT NULL
), changes AS (
    -- A change touches every id it names, before and after.
    SELECT unnest(list_distinct(list_filter([c.previous_customer_id, c.previous_wa_id, c.previous_user_id,
                                             c.new_wa_id, c.new_user_id], x -> x IS NOT NULL))),
           c.changed_at, c.change_type, 'change', NULL, 'system_message', c.message_id,
           f.file_path || ':' || i._line_no, c.waba_id, c.phone_number_id, c.previous_customer_id,
           coalesce(c.new_wa_id, c.new_user_id), NULL, c.system_body, NULL, NULL, 'change:' || c.message_id
    FROM {{ ref('identity_changes') }} c
    LEFT JOIN {{ ref('inbound_messages') }} i USING (message_id)
    LEFT JOIN files f ON f.load_id = i._load_id
), links AS (
    SELECT unnest([wa_id, user_id]), first_seen_at, 'id_link', 'link', NULL, 'webhook_contacts', NULL, NULL,
           NULL, NULL, NULL, NULL, unnest([user_id, wa_id]), NULL, NULL, NULL, 'link:' || wa_id || ':' || user_id
    FROM {{ ref('customer_identities') }}
), events AS (
    SELECT * FROM consent
    UNION ALL SELECT * FROM chat
    UNION ALL SELECT * FROM preferences
    UNION ALL SELECT * FROM stop_failures
    UNION ALL SELECT * FROM changes
    UNION ALL SELECT * FROM links
)
SELECT a.customer_id, e.event_at, e.event_type,
       CASE WHEN e.effect <> 'change' THEN e.effect
            -- The number's holder announced a move to another number: the number itself has passed on.
            WHEN e.event_type IN ('user_changed_number', 'customer_changed_number') AND a.relation = 'self'
                 AND a.customer_id = e.previous_id AND a.customer_id IS DISTINCT FROM e.new_id THEN 'number_passed'
            ELSE 'identity_signal' END AS effect,
       e.scope, e.source, e.evidence_ref, e.recorded_in, e.waba_id, e.phone_number_id, e.recorded_under, a.relation,
       e.previous_id, e.new_id, e.linked_id, e.detail, e.wording, e.business_name
FROM {{ ref('customer_aliases') }} a
JOIN events e ON e.recorded_under = a.alias_id
-- An alias speaks for the person within its window (marts.customer_persons): an earlier id up to its change (the
-- change itself is part of their history too), a number's next tenure only from when it passed on.
WHERE e.event_at >= a.valid_from AND (e.event_at < a.valid_until OR (e.effect = 'change' AND e.event_at <= a.valid_until))
-- A change naming two ids of the same person is one event for them.
-- Ties (two ids of one relation naming the event) go to the smallest id: two runs pick the same row.
QUALIFY row_number() OVER (PARTITION BY a.customer_id, e.event_key
                           ORDER BY CASE a.relation WHEN 'self' THEN 0 WHEN 'same_person' THEN 1 ELSE 2 END,
                                    e.recorded_under) = 1
ORDER BY a.customer_id, e.event_at, e.event_type, e.recorded_under, e.evidence_ref, e.recorded_in, e.waba_id,
         e.phone_number_id, e.source, e.scope, e.event_key
