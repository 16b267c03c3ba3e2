-- marts.consent_timeline: one row per (customer, consent-relevant event), in time order per customer: the
-- opt-ins and opt-outs the business recorded (landing/optins/), the marketing stop / resume the customer chose
-- in WhatsApp (user_preferences webhooks), number and identity changes (system messages) and the wa_id <->
-- business-scoped user id links. An event recorded under another id of the same person appears under every
-- customer id it speaks for: a consent recorded under the phone number also shows for the customer seen only
-- by user id, and what was recorded under a number before it changed shows for the person who had it then,
-- never for its next holder. marts.optin_audit reads this table.
-- column customer_id: Customer as messages address them: wa_id, else business-scoped user id.
-- column event_at: When the event happened (UTC): the opt-in's recorded time, the preference or system message timestamp, or when a link was first seen.
-- column event_type: opt_in, opt_out; marketing_stop, marketing_resume (marketing_<value> for other preference values); user_changed_number, customer_changed_number, customer_identity_changed, user_changed_user_id; id_link.
-- column effect: How the audit reads it: grant (opt-in), revoke (opt-out, marketing stop), restore (marketing resume), reset (a number or identity change: opt-ins recorded before it no longer count), link (informational), none (unknown preference value).
-- column scope: Categories the event is about: all, marketing, utility or authentication (marketing for stop / resume); NULL for changes and links.
-- column source: Where consent was collected (opt-in source, e.g. website_form); 'whatsapp' for preferences the customer set in the app; 'system_message' for changes; 'webhook_contacts' for links.
-- column evidence_ref: Evidence an auditor can ask for: the business's evidence reference for opt-ins and opt-outs, Meta's message id for a system message, the landing file and line for a preference.
-- column recorded_in: Landing file and line the event was loaded from (NULL for links, which are aggregated over many deliveries).
-- column waba_id: WABA the event applies to; NULL for an opt-in recorded for the whole business.
-- column phone_number_id: Business phone number the event applies to (marketing preferences are per number); NULL otherwise.
-- column recorded_under: Id the event was recorded under.
-- column relation: How recorded_under relates to customer_id: self, same_person (a wa_id <-> user id link) or earlier_id (the id the person had before a number or user-id change).
-- column previous_id: For a change: the id before it (the sender of the system message).
-- column new_id: For a change: the new wa_id or user id it announced (NULL for an identity change that keeps the number).
-- column linked_id: For a link: the other id of the pair.
-- column detail: Meta's text: the preference detail or the system message body.
WITH files AS (
    SELECT load_id, file_path FROM raw.load_audit
), consent AS (
    SELECT o.customer_id AS recorded_under, o.event_at, o.event AS event_type,
           CASE o.event WHEN 'opt_in' THEN 'grant' WHEN 'opt_out' THEN 'revoke' ELSE 'none' END AS effect,
           o.scope, o.source, o.evidence_ref, f.file_path || ':' || o._line_no AS recorded_in,
           o.waba_id, NULL::VARCHAR AS phone_number_id, NULL::VARCHAR AS previous_id, NULL::VARCHAR AS new_id,
           NULL::VARCHAR AS linked_id, NULL::VARCHAR AS detail, 'optin:' || o._load_id || ':' || o._line_no AS event_key
    FROM staging.optin_events o LEFT JOIN files f ON f.load_id = o._load_id
), preferences AS (
    SELECT p.customer_id, p.changed_at, 'marketing_' || lower(p.value),
           CASE lower(p.value) WHEN 'stop' THEN 'revoke' WHEN 'resume' THEN 'restore' ELSE 'none' END,
           'marketing', 'whatsapp', f.file_path || ':' || p._line_no, f.file_path || ':' || p._line_no,
           p.waba_id, p.phone_number_id, NULL, NULL, NULL, p.detail,
           'preference:' || p.customer_id || ':' || lower(p.value) || ':' || p.changed_at
    FROM staging.user_preferences p LEFT JOIN files f ON f.load_id = p._load_id
    WHERE p.customer_id IS NOT NULL
), changes AS (
    -- A change touches every id it names, before and after: it resets consent for each of them.
    SELECT unnest(list_distinct(list_filter([c.previous_customer_id, c.previous_wa_id, c.previous_user_id,
                                             c.new_wa_id, c.new_user_id], x -> x IS NOT NULL))),
           c.changed_at, c.change_type, 'reset', NULL, 'system_message', c.message_id,
           f.file_path || ':' || i._line_no, c.waba_id, c.phone_number_id, c.previous_customer_id,
           coalesce(c.new_wa_id, c.new_user_id), NULL, c.system_body, 'change:' || c.message_id
    FROM staging.identity_changes c
    LEFT JOIN staging.inbound_messages i USING (message_id)
    LEFT JOIN files f ON f.load_id = i._load_id
), links AS (
    SELECT unnest([wa_id, user_id]), first_seen_at, 'id_link', 'link', NULL, 'webhook_contacts', NULL, NULL,
           NULL, NULL, NULL, NULL, unnest([user_id, wa_id]), NULL, 'link:' || wa_id || ':' || user_id
    FROM staging.customer_identities
), events AS (
    SELECT * FROM consent
    UNION ALL SELECT * FROM preferences
    UNION ALL SELECT * FROM changes
    UNION ALL SELECT * FROM links
)
SELECT a.customer_id, e.event_at, e.event_type, e.effect, e.scope, e.source, e.evidence_ref, e.recorded_in,
       e.waba_id, e.phone_number_id, e.recorded_under, a.relation, e.previous_id, e.new_id, e.linked_id, e.detail
FROM _customer_aliases a
JOIN events e ON e.recorded_under = a.alias_id
-- An earlier id speaks for the person up to its change; the change itself is part of their history too.
WHERE e.event_at < a.valid_until OR (e.effect = 'reset' AND e.event_at <= a.valid_until)
-- A change naming two ids of the same person is one event for them.
-- Ties (two ids of one relation naming the event) go to the smallest id: two runs pick the same row.
QUALIFY row_number() OVER (PARTITION BY a.customer_id, e.event_key
                           ORDER BY CASE a.relation WHEN 'self' THEN 0 WHEN 'same_person' THEN 1 ELSE 2 END,
                                    a.alias_id, e.recorded_under) = 1
ORDER BY a.customer_id, e.event_at, e.event_type, e.event_key
