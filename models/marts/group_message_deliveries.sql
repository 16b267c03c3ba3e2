-- marts.group_message_deliveries: one row per group message (Groups API) and participant it was delivered
-- to (a delivered or read status for that participant), priced as Meta bills it: each delivery of a
-- billable group message is charged at the rate of that participant's market, never volume-tiered (Meta,
-- Groups API Pricing, Oct 22, 2025). The ledger row of the message (marts.message_ledger) carries the sum.
-- column message_id: The group message's id (the ledger row it belongs to).
-- column group_id: The group it went to.
-- column participant_id: The participant it was delivered to (recipient_participant_id: a phone number or a business-scoped user id).
-- column waba_id: WhatsApp Business Account that sent it.
-- column phone_number_id: Business phone number that sent it.
-- column market: Meta pricing market of the participant's number (or user id's country) at the local send date.
-- column sent_at: Send time of the message.
-- column delivered_at: First delivered (else read) status for this participant.
-- column category: Category the rate is looked up in (as marts.message_ledger.billed_category).
-- column pricing_type: regular, free_customer_service (a group's open customer-service window, free service, or the free service allowance) or free_entry_point.
-- column rate: Rate-card price applied (NULL when free or unpriced).
-- column rate_source: Where the rate comes from.
-- column rate_verification: How far the rate's figure is sourced (marts.rate_card.verification).
-- column charge: What this delivery cost, in currency (0 when free; NULL when billable but unpriced).
-- column unpriced_reason: Why a billable delivery has no charge (as marts.message_ledger.unpriced_reason).
-- column currency: Currency of the charge (the WABA's).
SELECT u.first_message_id AS message_id, p.group_id, u.participant_id, u.waba_id, u.phone_number_id, u.market,
       p.sent_at, list_filter(p.group_participants, g -> g.participant_id = u.participant_id)[1].delivered_at AS delivered_at,
       u.billed_category AS category, u.pricing_type,
       CASE WHEN u.pricing_type = 'regular' THEN u.rate END AS rate,
       CASE WHEN u.pricing_type = 'regular' THEN u.rate_source END AS rate_source,
       CASE WHEN u.pricing_type = 'regular' THEN u.rate_verification END AS rate_verification,
       u.charge, u.unpriced_reason, u.currency
FROM _charged_units u JOIN _priced_messages p ON p.message_id = u.first_message_id
WHERE u.unit_kind = 'group_delivery'
ORDER BY sent_at, message_id, participant_id
