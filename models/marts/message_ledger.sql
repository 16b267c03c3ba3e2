-- marts.message_ledger: one row per outbound message id, priced under the rules in force at its local send
-- time, beside what Meta's webhooks said about it. A read without a delivered counts as delivered; Meta
-- charges on delivery and statuses are unordered, so a failed message is charged only when a delivered or
-- read status also arrived. Under conversation-based pricing a conversation's charge sits on the message
-- that opened it. The charge is in the WABA's own currency, never converted. A group message is one row
-- whose charge is the sum of its delivered participants' charges (marts.group_message_deliveries).
-- column message_id: Meta's message id (wamid, or the On-Premises id).
-- column waba_id: WhatsApp Business Account that sent it.
-- column phone_number_id: Business phone number that sent it.
-- column customer_id: Recipient: wa_id, else business-scoped user id.
-- column market: Meta pricing market of the recipient (longest calling-code prefix; a user id's country); for a group message its participants' market when they share one, else 'Multiple' (each participant's is in marts.group_message_deliveries).
-- column sent_at: Send time: the business's send log, else the 'sent' status.
-- column delivered_at: First 'delivered' status (NULL when none was reported).
-- column read_at: First 'read' status.
-- column failed_at: First 'failed' status.
-- column final_status: failed, read, delivered, sent, or no_status (in the send log only). A failed message that was also delivered or read is still charged (see delivered_at, charge).
-- column error_code: Meta's error code on the failed status.
-- column message_type: Type from the send log (template, text, image, ...), 'unknown' when not logged.
-- column template_name: Template name from the send log.
-- column template_language: Template language from the send log.
-- column campaign: Campaign from the send log.
-- column category: Category: the webhook pricing object's, else the send log's, else the template's category at send time, else service for non-templates.
-- column template_category: The template's category by our own records (send log, else template history at send time).
-- column billed_category: Category the rate is looked up in (the webhook's when it names a chargeable category; the regime's legacy category before 2023-06).
-- column regime: Pricing regime in force at its local send date.
-- column pricing_model: 'CBP' (conversation-based) or 'PMP' (per-message).
-- column pricing_type: regular, free_customer_service, free_entry_point or free_tier, by our rules.
-- column billable: True when it is charged, or (CBP) belongs to a charged conversation; false for undelivered messages (failed without any delivered or read status).
-- column charged_unit: True on the row that carries a unit's charge: a billable message (PMP), or the opening message of a billable conversation (CBP).
-- column conversation_id: Meta's conversation id, or the inferred one (CBP); Meta's per-message id under PMP when given.
-- column volume_rank: Position among the portfolio's charged units of this market and category in the local month (volume-tiered categories only).
-- column volume_band_from: First unit count of the rate card's volume band the rate came from (0 = the first band).
-- column rate: Rate-card price applied (NULL when not charged or unpriced; for a group message the one rate its charged participants paid, NULL when they paid different rates).
-- column rate_source: Where the rate comes from ('landing: <file>' = the user's rate card).
-- column rate_verification: How far the rate's figure is sourced (marts.rate_card.verification); 'unverified' rows are priced but flagged (a group message: 'unverified' when any participant's rate is).
-- column charge: What it cost, in currency; 0 when free or not delivered; NULL when billable but unpriced (see unpriced_reason); a group message: the sum over its delivered participants (NULL when any of them is unpriced).
-- column unpriced_reason: Why a billable message has no charge: no_rate_in_currency (no card in the WABA's currency), missing_rate_card_row, or business_agent_token_priced (Meta Business Agent replies, priced per token).
-- column unconfirmed_charge: What it would cost if Meta delivered it without the status reaching us (per-message pricing: sent, not failed, never reported delivered); not in charge.
-- column currency: Currency of the charge (the WABA's).
-- column in_service_window: A customer message to this number arrived within the 24 hours before the send.
-- column in_free_entry_point_window: Sent inside a free entry point window (opened by the reply to an ad or Page-button message).
-- column meta_billable: billable as Meta's first pricing object for it said (NULL when none arrived).
-- column meta_category: Category as Meta's pricing object said.
-- column meta_pricing_type: Pricing type as Meta said (derived from billable and category for conversation-based webhooks).
-- column agrees_with_meta: True when Meta's pricing type (and, for a charged template, category) equals ours; NULL when Meta sent no pricing.
-- column disagreement: What differs when agrees_with_meta is false: 'pricing_type' or 'category'.
-- column group_id: The group a group message (Groups API) went to; NULL for a 1:1 message.
-- column delivered_participants: Group participants it was delivered to (a delivered or read status); NULL for a 1:1 message.
-- column charged_units: Units this row carries the charge of: 1 for a charged 1:1 message or the opening message of a charged conversation, the number of charged participants for a group message, else 0. The spend marts sum it.
-- column person_id: The person the message reached (marts.customer_persons: the customer id's tenure at sent_at): a
-- customer seen by number and by business-scoped user id is one person_id; a number's next owner is another.
WITH members AS (
    SELECT message_id, conversation_id FROM _conversation_members
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
    FROM _charged_units WHERE unit_kind = 'group_delivery'
    GROUP BY first_message_id
), conversation_units AS (
    SELECT unit_id AS conversation_id, first_message_id, pricing_type, rate, rate_source, rate_verification, charge, unpriced_reason
    FROM _charged_units WHERE unit_kind = 'conversation'
), message_units AS (
    SELECT unit_id AS message_id, pricing_type, volume_rank, volume_from, rate, rate_source, rate_verification, charge,
           unpriced_reason, NULL::BIGINT AS delivered_participants, (pricing_type = 'regular')::BIGINT AS charged_units
    FROM _charged_units WHERE unit_kind = 'message'
    UNION ALL
    SELECT * FROM group_units
), unconfirmed AS (
    SELECT unit_id AS message_id, pricing_type AS unconfirmed_pricing_type, unconfirmed_charge
    FROM _charged_units WHERE unit_kind = 'unconfirmed_message'
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
    FROM _priced_messages p
    LEFT JOIN message_units mu USING (message_id)
    LEFT JOIN unconfirmed uc USING (message_id)
    LEFT JOIN members mb USING (message_id)
    LEFT JOIN conversation_units cu ON cu.conversation_id = mb.conversation_id
), compared AS (
    SELECT *,
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
       coalesce(meta_category, template_category, CASE WHEN NOT is_template THEN 'service' END, 'unknown') AS category,
       template_category, billed_category, regime, pricing_model, pricing_type, coalesce(billable, false) AS billable,
       charged_unit, conversation_id, volume_rank, volume_band_from, rate, rate_source, charge, unconfirmed_charge, currency,
       rate_verification, unpriced_reason,
       in_service_window, in_free_entry_point_window, meta_billable, meta_category, meta_pricing_type,
       CASE WHEN meta_pricing_type IS NOT NULL THEN disagreement IS NULL END AS agrees_with_meta, disagreement,
       group_id, delivered_participants, charged_units,
       coalesce((SELECT min(p.person_id) FROM marts.customer_persons p
                 WHERE p.customer_id = compared.customer_id AND (p.valid_from IS NULL OR compared.sent_at >= p.valid_from)
                   AND (p.valid_to IS NULL OR compared.sent_at < p.valid_to)), customer_id) AS person_id
FROM compared
ORDER BY sent_at, message_id
