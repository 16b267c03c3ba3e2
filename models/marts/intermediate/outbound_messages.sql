-- intermediate.outbound_messages: one row per outbound message id (from the statuses Meta reported and the business's send log) with its times, what Meta's pricing objects said, the pricing regime in force at its local send time, its market, and whether a customer-service or free entry point window was open at send. (columns: _intermediate.yml)
-- Month-partitioned (models/dbt_macros/month_partitions.sql): a run that rebuilds some months reads only the messages
-- with an event since a few days before the first of them, which are all the messages those months can hold.
{%- set partial = rebuild_month_list() is not none %}
WITH {% if partial -%}
candidates AS (
    SELECT message_id FROM {{ ref('message_statuses') }} WHERE status_at >= {{ rebuild_lookback_start() }}
    UNION
    SELECT message_id FROM {{ ref('message_log') }} WHERE sent_at >= {{ rebuild_lookback_start() }}
), {% endif -%}
statuses AS (
    SELECT message_id,
           min(status_at) FILTER (status = 'sent') AS sent_status_at,
           min(status_at) FILTER (status = 'delivered') AS delivered_at,
           min(status_at) FILTER (status = 'read') AS read_at,
           min(status_at) FILTER (status = 'failed') AS failed_at,
           min(status_at) AS first_status_at,
           arg_min(error_code, status_at) FILTER (status = 'failed') AS error_code,
           arg_min(waba_id, status_at) FILTER (waba_id IS NOT NULL) AS waba_id,
           arg_min(phone_number_id, status_at) FILTER (phone_number_id IS NOT NULL) AS phone_number_id,
           arg_min(customer_id, status_at) FILTER (customer_id IS NOT NULL) AS customer_id,
           arg_min(pricing_billable, status_at) FILTER (pricing_billable IS NOT NULL) AS meta_billable,
           arg_min(lower(pricing_category), status_at) FILTER (pricing_category IS NOT NULL) AS meta_category,
           arg_min(lower(pricing_type), status_at) FILTER (pricing_type IS NOT NULL) AS meta_type,
           arg_min(upper(pricing_model), status_at) FILTER (pricing_model IS NOT NULL) AS meta_pricing_model,
           arg_min(conversation_id, status_at) FILTER (conversation_id IS NOT NULL) AS meta_conversation_id,
           arg_min(lower(conversation_category), status_at) FILTER (conversation_category IS NOT NULL) AS meta_conversation_category,
           arg_min(conversation_expires_at, status_at) FILTER (conversation_expires_at IS NOT NULL) AS meta_conversation_expires_at,
           arg_min(group_id, status_at) FILTER (group_id IS NOT NULL) AS group_id
    FROM {{ ref('message_statuses') }}
    -- On-Premises reported a customer deleting their own message as a status on the inbound id: not outbound.
    WHERE message_id NOT IN (SELECT message_id FROM {{ ref('inbound_messages') }})
      {% if partial %}AND message_id IN (SELECT message_id FROM candidates){% endif %}
    GROUP BY message_id
), joined AS (
    SELECT coalesce(s.message_id, l.message_id) AS message_id,
           coalesce(s.waba_id, l.waba_id) AS waba_id,
           coalesce(s.phone_number_id, l.phone_number_id) AS phone_number_id,
           coalesce(s.customer_id, l.recipient_id) AS customer_id,
           coalesce(l.sent_at, s.sent_status_at, s.first_status_at) AS sent_at,
           s.delivered_at, s.read_at, s.failed_at, s.error_code,
           coalesce(l.message_type, 'unknown') AS message_type,
           coalesce(l.message_type = 'template',
                    s.meta_category IN ('marketing', 'utility', 'authentication', 'authentication_international', 'marketing_lite',
                                        'group_marketing', 'group_utility')
                    AND s.meta_type IS DISTINCT FROM 'free_entry_point',
                    false) AS is_template,
           l.template_name, l.template_language, l.template_category AS logged_category, l.campaign,
           s.meta_billable, s.meta_category, s.meta_pricing_model, s.meta_conversation_id,
           s.meta_conversation_category, s.meta_conversation_expires_at,
           -- Conversation-based webhooks carry no pricing type: derive the one Meta's analytics would show.
           CASE WHEN s.meta_type IS NOT NULL THEN s.meta_type
                WHEN s.meta_billable IS NULL THEN NULL
                WHEN coalesce(s.meta_category, s.meta_conversation_category) = 'referral_conversion' THEN 'free_entry_point'
                WHEN s.meta_billable THEN 'regular'
                WHEN coalesce(s.meta_category, s.meta_conversation_category) = 'service' THEN 'free_customer_service'
                ELSE 'free_tier' END AS meta_pricing_type,
           l.message_id IS NOT NULL AS in_send_log,
           s.message_id IS NOT NULL AS has_status,
           s.group_id
    FROM statuses s FULL OUTER JOIN (
        SELECT * FROM {{ ref('message_log') }}
        {% if partial %}WHERE message_id IN (SELECT message_id FROM candidates){% endif %}
    ) l USING (message_id)
), customer_numbers AS (
    -- On-Premises bodies name no business number: attribute them to the number the customer's other messages used.
    SELECT customer_id, arg_max(phone_number_id, sent_at) AS phone_number_id, arg_max(waba_id, sent_at) AS waba_id
    FROM joined WHERE phone_number_id IS NOT NULL AND waba_id IS NOT NULL GROUP BY customer_id
), attributed AS (
    SELECT j.* REPLACE (coalesce(j.waba_id, n.waba_id) AS waba_id, coalesce(j.phone_number_id, n.phone_number_id) AS phone_number_id)
    FROM joined j LEFT JOIN customer_numbers n USING (customer_id)
), located AS (
    -- A WABA missing from staging.accounts is its own portfolio, in UTC, billed in USD (as staging.accounts defaults).
    SELECT j.*, coalesce(a.business_portfolio_id, j.waba_id) AS business_portfolio_id,
           coalesce(a.timezone, 'UTC') AS timezone, coalesce(a.currency, 'USD') AS currency,
           (j.sent_at AT TIME ZONE coalesce(a.timezone, 'UTC'))::DATE AS local_sent_date,
           date_trunc('month', (j.sent_at AT TIME ZONE coalesce(a.timezone, 'UTC'))::DATE)::DATE AS local_month
    FROM attributed j LEFT JOIN {{ ref('accounts') }} a USING (waba_id)
), template_history AS (
    -- What each template's category was known to be, and since when, from snapshots and category notices.
    SELECT waba_id, template_name, template_language, lower(category) AS category, snapshot_at AS known_at
    FROM {{ ref('template_snapshots') }}
    UNION ALL
    SELECT waba_id, template_name, template_language, lower(new_category), coalesce(category_update_at, event_at)
    FROM {{ ref('template_category_events') }} WHERE notice = 'completed'
    UNION ALL
    SELECT waba_id, template_name, template_language, lower(arg_min(previous_category, event_at)), '-infinity'::TIMESTAMPTZ
    FROM {{ ref('template_category_events') }} WHERE notice = 'completed' GROUP BY ALL
), in_months AS (
    SELECT * FROM located WHERE {{ in_rebuild_months('local_month') }}
), history_categories AS (
    -- Each as-of lookup here joins only the keys it needs, then its answer joins back by message id: DuckDB's ASOF
    -- join sorts its whole left side, and sorting every column of every message ran a 10M-envelope build out of
    -- memory (2GB) where the keys alone fit.
    SELECT o.message_id, h.category AS history_category
    FROM (SELECT message_id, waba_id, template_name, template_language, sent_at FROM in_months) o
    ASOF JOIN template_history h
      ON o.waba_id = h.waba_id AND o.template_name = h.template_name
     AND o.template_language IS NOT DISTINCT FROM h.template_language AND o.sent_at >= h.known_at
), categorised AS (
    SELECT o.*, h.history_category FROM in_months o LEFT JOIN history_categories h USING (message_id)
), participants AS (
    -- Each group message's participants Meta reported a status for: delivered when a delivered or read arrived.
    SELECT message_id, recipient_participant_id AS participant_id,
           min(status_at) FILTER (status IN ('delivered', 'read')) AS delivered_at,
           min(status_at) FILTER (status = 'failed') AS failed_at
    FROM {{ ref('message_statuses') }}
    WHERE group_id IS NOT NULL AND recipient_participant_id IS NOT NULL
      {% if partial %}AND message_id IN (SELECT message_id FROM candidates){% endif %}
    GROUP BY ALL
), recipients AS (
    -- Whose market prices a message: its customer, or each participant of a group message.
    SELECT message_id, customer_id AS recipient_id, local_sent_date FROM located WHERE group_id IS NULL
    UNION ALL
    SELECT p.message_id, p.participant_id, o.local_sent_date FROM participants p JOIN located o USING (message_id)
), customer_markets AS (
    -- Every prefix row a recipient's number (or user id's country) could match; the longest in force wins.
    SELECT c.recipient_id, p.market, p.effective_from, p.requires_regime, length(p.prefix) AS prefix_length
    FROM (SELECT DISTINCT recipient_id FROM recipients) c
    JOIN (SELECT * FROM {{ ref('market_prefixes') }}) p
      ON CASE WHEN regexp_matches(c.recipient_id, '^[A-Za-z]{2}\.')
              THEN upper(left(c.recipient_id, 2)) = p.country_iso2
              ELSE starts_with(regexp_replace(c.recipient_id, '[^0-9]', '', 'g'), p.prefix) END
), regimes AS (
    -- A re-pricing scenario forces one regime onto every message, whatever its date.
    SELECT * REPLACE (CASE WHEN {{ waba_var('forced_regime') }} IS NULL THEN effective_from ELSE DATE '0001-01-01' END AS effective_from)
    FROM {{ ref('pricing_regimes') }}
    WHERE ({{ waba_var('forced_regime') }} IS NULL AND enabled) OR regime = {{ waba_var('forced_regime') }}
), customer_messages AS (
    -- A member's message in a group opens the window between the business and the whole group, not that member.
    SELECT coalesce(i.group_id, i.customer_id) AS customer_id, coalesce(i.phone_number_id, n.phone_number_id) AS phone_number_id,
           i.sent_at, i.message_type,
           coalesce(i.referral_source_type, i.referral_ctwa_clid, i.referral_source_id) IS NOT NULL AS is_referral
    FROM {{ ref('inbound_messages') }} i LEFT JOIN customer_numbers n ON n.customer_id = coalesce(i.group_id, i.customer_id)
    WHERE i.customer_id IS NOT NULL
), inbound AS (
    -- Customer messages that open or refresh a customer-service window (system notices do not).
    SELECT customer_id, phone_number_id, sent_at AS inbound_at FROM customer_messages WHERE message_type <> 'system'
), referrals AS (
    SELECT customer_id, phone_number_id, sent_at AS referral_at FROM customer_messages WHERE is_referral
), replies AS (
    SELECT customer_id, phone_number_id, sent_at, coalesce(delivered_at, read_at, sent_at) AS delivered_or_sent_at FROM located
    WHERE (failed_at IS NULL OR coalesce(delivered_at, read_at) IS NOT NULL) AND customer_id IS NOT NULL
), recipient_markets AS (
    SELECT o.message_id, o.recipient_id,
           arg_max(c.market, c.prefix_length * 1000000 + coalesce(date_diff('day', DATE '2000-01-01', c.effective_from), 0)) AS market
    FROM recipients o JOIN customer_markets c USING (recipient_id)
    WHERE (c.effective_from IS NULL OR c.effective_from <= o.local_sent_date OR c.requires_regime = {{ waba_var('forced_regime') }})
      AND (c.requires_regime IS NULL OR c.requires_regime IN (SELECT regime FROM regimes))
    GROUP BY o.message_id, o.recipient_id
), free_entry_windows AS (
    -- The business's first reply within 24 h of an ad or Page-button message opens a free entry point window, "as
    -- soon as your message is delivered" (Meta, conversation-based pricing; domain file 4.2): the reply is in it, and
    -- it lasts from the reply's delivery (its send, while no delivery was reported).
    SELECT DISTINCT r.customer_id, r.phone_number_id, o.sent_at AS reply_sent_at, o.delivered_or_sent_at AS opened_at
    FROM referrals r ASOF JOIN replies o
      ON o.customer_id = r.customer_id AND o.phone_number_id = r.phone_number_id AND o.sent_at >= r.referral_at
    WHERE o.sent_at < r.referral_at + INTERVAL 24 HOUR
), message_keys AS (
    SELECT message_id, customer_id, phone_number_id, sent_at FROM categorised
), day_regimes AS (
    SELECT d.local_sent_date, g.*
    FROM (SELECT DISTINCT local_sent_date FROM categorised) d ASOF JOIN regimes g ON d.local_sent_date >= g.effective_from
), last_inbound AS (
    SELECT k.message_id, i.inbound_at
    FROM message_keys k ASOF JOIN inbound i
      ON k.customer_id = i.customer_id AND k.phone_number_id = i.phone_number_id AND k.sent_at >= i.inbound_at
), entry_windows AS (
    SELECT k.message_id, f.opened_at
    FROM message_keys k ASOF JOIN free_entry_windows f
      ON k.customer_id = f.customer_id AND k.phone_number_id = f.phone_number_id AND k.sent_at >= f.reply_sent_at
)
SELECT m.*,
       g.regime, g.billing_unit, g.free_tier_units, g.free_tier_categories, g.service_free, g.utility_in_window_free,
       g.free_entry_point_hours, g.conversation_hours, g.volume_tier_categories, g.template_category_as,
       g.service_category_as, g.window_template_category_as, g.service_rate_category,
       -- A group message's own market is its participants' when they share one (each is priced at its own).
       coalesce(mk.market, CASE WHEN m.group_id IS NOT NULL THEN 'Multiple' END, 'Other') AS market,
       gp.group_participants,
       -- Only whether the customer's latest message is under 24 h old: which one it was would change with an inbound
       -- any time before (a month's rows would then depend on months before it; pipelines/mart_months.py plans 24 h).
       coalesce(m.sent_at < i.inbound_at + INTERVAL 24 HOUR, false) AS in_service_window,
       -- When the free entry point window the message went out in opened (none: it went out in none).
       CASE WHEN m.sent_at < f.opened_at + to_hours(g.free_entry_point_hours) THEN f.opened_at END AS free_entry_point_opened_at,
       coalesce(m.sent_at < f.opened_at + to_hours(g.free_entry_point_hours), false) AS in_free_entry_point_window,
       -- Meta charges on delivery and statuses are unordered: a failed report does not cancel a delivered or read one.
       coalesce(delivered_at, read_at) IS NOT NULL AS delivered,
       coalesce(delivered_at, read_at) AS delivered_or_read_at
FROM categorised m
LEFT JOIN day_regimes g ON g.local_sent_date = m.local_sent_date
LEFT JOIN (
    SELECT message_id, CASE WHEN count(DISTINCT market) = 1 THEN min(market) END AS market
    FROM recipient_markets GROUP BY message_id
) mk USING (message_id)
LEFT JOIN (
    SELECT p.message_id,
           list({'participant_id': p.participant_id, 'market': coalesce(r.market, 'Other'), 'delivered_at': p.delivered_at,
                 'failed_at': p.failed_at} ORDER BY p.participant_id) AS group_participants
    FROM participants p LEFT JOIN recipient_markets r ON r.message_id = p.message_id AND r.recipient_id = p.participant_id
    GROUP BY p.message_id
) gp USING (message_id)
LEFT JOIN last_inbound i USING (message_id)
LEFT JOIN entry_windows f USING (message_id)
