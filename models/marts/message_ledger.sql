-- marts.message_ledger: one row per outbound message id, priced under the rules in force at its local send time, beside what Meta's webhooks said about it. (columns: _marts.yml)
-- Month-partitioned (models/dbt_macros/month_partitions.sql). A run that rebuilds some months also rebuilds the months
-- holding a stored row whose person has changed since (new identity data can join an old number to a user id).
{%- set partial = rebuild_month_list() is not none %}
WITH {% if partial -%}
ledger_months AS (
    SELECT unnest([{{ rebuild_month_list() }}]::DATE[]) AS month
    UNION
    SELECT DISTINCT t.local_month FROM {{ this }} t WHERE t.person_id IS DISTINCT FROM {{ person_at('t.customer_id', 't.sent_at') }}
), {% endif -%}
month_messages AS (
    SELECT * FROM {{ ref('priced_messages') }} {% if partial %}WHERE local_month IN (SELECT month FROM ledger_months){% endif %}
), month_units AS (
    SELECT * FROM {{ ref('charged_units') }}
    {% if partial %}WHERE date_trunc('month', local_date)::DATE IN (SELECT month FROM ledger_months){% endif %}
), members AS (
    SELECT message_id, conversation_id FROM {{ ref('conversation_members') }}
), group_units AS (
    -- One group message's participant charges folded into its ledger row.
    SELECT first_message_id AS message_id,
           CASE WHEN bool_or(pricing_type = 'regular') THEN 'regular' ELSE min(pricing_type) END AS pricing_type,
           NULL::BIGINT AS volume_rank, NULL::BIGINT AS volume_from,
           CASE WHEN count(DISTINCT rate) FILTER (pricing_type = 'regular') = 1 THEN min(rate) FILTER (pricing_type = 'regular') END AS rate,
           CASE WHEN count(DISTINCT rate_source) FILTER (pricing_type = 'regular') = 1
                THEN min(rate_source) FILTER (pricing_type = 'regular') END AS rate_source,
           CASE WHEN bool_or(rate_verification = 'unverified' AND pricing_type = 'regular') THEN 'unverified'
                ELSE min(rate_verification) FILTER (pricing_type = 'regular') END AS rate_verification,
           CASE WHEN bool_or(pricing_type = 'regular' AND charge IS NULL) THEN NULL ELSE sum(charge) END AS charge,
           min(unpriced_reason) AS unpriced_reason,
           count(*) AS delivered_participants, count(*) FILTER (pricing_type = 'regular') AS charged_units
    FROM month_units WHERE unit_kind = 'group_delivery'
    GROUP BY first_message_id
), conversation_units AS (
    SELECT unit_id AS conversation_id, first_message_id, pricing_type, rate, rate_source, rate_verification, charge, unpriced_reason
    FROM month_units WHERE unit_kind = 'conversation'
), message_units AS (
    SELECT unit_id AS message_id, pricing_type, volume_rank, volume_from, rate, rate_source, rate_verification, charge,
           unpriced_reason, NULL::BIGINT AS delivered_participants, (pricing_type = 'regular')::BIGINT AS charged_units
    FROM month_units WHERE unit_kind = 'message'
    UNION ALL
    SELECT * FROM group_units
), unconfirmed AS (
    SELECT unit_id AS message_id, pricing_type AS unconfirmed_pricing_type, unconfirmed_charge
    FROM month_units WHERE unit_kind = 'unconfirmed_message'
), priced AS (
    SELECT p.*,
           coalesce(mu.pricing_type, cu.pricing_type, uc.unconfirmed_pricing_type, p.rule_pricing_type) AS pricing_type,
           coalesce(mu.pricing_type, cu.pricing_type) = 'regular' AS billable,
           coalesce(mu.pricing_type = 'regular', cu.pricing_type = 'regular' AND cu.first_message_id = p.message_id, false) AS charged_unit,
           coalesce(mu.charged_units, (cu.pricing_type = 'regular' AND cu.first_message_id = p.message_id)::BIGINT, 0) AS charged_units,
           CASE WHEN p.group_id IS NOT NULL THEN coalesce(mu.delivered_participants, 0) END AS delivered_participants,
           coalesce(mb.conversation_id, p.meta_conversation_id) AS conversation_id,
           mu.volume_rank, mu.volume_from AS volume_band_from, uc.unconfirmed_charge,
           CASE WHEN mu.message_id IS NOT NULL THEN mu.rate WHEN cu.first_message_id = p.message_id THEN cu.rate END AS rate,
           CASE WHEN mu.message_id IS NOT NULL THEN mu.rate_source WHEN cu.first_message_id = p.message_id THEN cu.rate_source END AS rate_source,
           CASE WHEN mu.message_id IS NOT NULL THEN mu.rate_verification
                WHEN cu.first_message_id = p.message_id THEN cu.rate_verification END AS rate_verification,
           CASE WHEN mu.message_id IS NOT NULL THEN mu.unpriced_reason
                WHEN cu.first_message_id = p.message_id THEN cu.unpriced_reason END AS unpriced_reason,
           CASE WHEN mu.message_id IS NOT NULL THEN mu.charge
                WHEN cu.first_message_id = p.message_id THEN cu.charge
                ELSE 0::DECIMAL(18, 6) END AS charge
    FROM month_messages p
    LEFT JOIN message_units mu USING (message_id)
    LEFT JOIN unconfirmed uc USING (message_id)
    LEFT JOIN members mb USING (message_id)
    LEFT JOIN conversation_units cu ON cu.conversation_id = mb.conversation_id
), compared AS (
    SELECT *,
           coalesce(meta_category, template_category, CASE WHEN NOT is_template THEN 'service' END, 'unknown') AS category,
           CASE WHEN meta_pricing_type IS NULL THEN NULL
                -- Meta names a group message's free type and categories with a group prefix (Groups API Pricing).
                WHEN replace(meta_pricing_type, 'free_group_customer_service', 'free_customer_service') <> pricing_type
                     THEN 'pricing_type'
                WHEN is_template AND pricing_type = 'regular' AND regexp_replace(meta_category, '^group_', '') <> template_category
                     AND NOT (meta_category = 'authentication_international' AND template_category = 'authentication')
                     AND NOT (meta_category = 'marketing_lite' AND template_category = 'marketing')
                     THEN 'category' END AS disagreement
    FROM priced
)
SELECT message_id, waba_id, phone_number_id, customer_id, market, sent_at, delivered_at, read_at, failed_at,
       CASE WHEN failed_at IS NOT NULL THEN 'failed' WHEN read_at IS NOT NULL THEN 'read'
            WHEN delivered_at IS NOT NULL THEN 'delivered' WHEN has_status THEN 'sent' ELSE 'no_status' END AS final_status,
       error_code, message_type, template_name, template_language, campaign,
       category,
       template_category, billed_category, regime, pricing_model, pricing_type, coalesce(billable, false) AS billable,
       charged_unit, conversation_id, volume_rank, volume_band_from, rate, rate_source, charge, unconfirmed_charge, currency,
       rate_verification, unpriced_reason,
       in_service_window, in_free_entry_point_window, meta_billable, meta_category, meta_pricing_type,
       CASE WHEN meta_pricing_type IS NOT NULL THEN disagreement IS NULL END AS agrees_with_meta, disagreement,
       group_id, delivered_participants, charged_units,
       {{ person_at('compared.customer_id', 'compared.sent_at') }} AS person_id,
       -- The derived facts every rollup reads from here instead of re-deriving them (one definition each).
       local_sent_date, local_month,
       -- Meta charges on delivery and statuses are unordered: a failed report does not cancel a delivered or read one.
       delivered AS is_delivered,
       -- Business-initiated messages are templates (the send log's type; for a message missing from the log, Meta
       -- pricing it in a template category outside a free entry point window).
       coalesce(message_type = 'template'
                OR (message_type = 'unknown' AND pricing_type IS DISTINCT FROM 'free_entry_point'
                    AND category IN ('marketing', 'marketing_lite', 'utility', 'authentication', 'authentication_international')),
                false) AS is_business_initiated
FROM compared
ORDER BY sent_at, message_id
