-- marts.conversations: one row per conversation under conversation-based pricing (before 2025-07-01): Meta's
-- conversation when a webhook named it, else one we inferred (opens at the first delivered business message
-- of its category, lasts 24 hours from then, 72 for a free entry point window). A free entry point
-- conversation closes every other conversation open with that customer when it opens, and none opens until
-- it expires (Meta, Conversation-based pricing, Dec 2025 copy): its messages belong to it.
-- column conversation_id: Meta's conversation id, or 'inferred:<hash>' for one we inferred.
-- column id_source: 'meta' (from the webhook's conversation object) or 'inferred'.
-- column waba_id: WhatsApp Business Account that paid for it.
-- column phone_number_id: Business phone number it was held on.
-- column customer_id: Customer (wa_id, else business-scoped user id).
-- column category: Category it was billed in (marketing, utility, authentication, service, or the legacy business_initiated/user_initiated).
-- column opened_at: Delivery (or read, when no delivery was reported) of its first business message.
-- column expires_at: opened_at plus the regime's conversation length (72 hours for a free entry point window).
-- column market: Meta pricing market of the customer's number when it opened.
-- column regime: Pricing regime in force at its local opening date.
-- column pricing_type: regular, free_entry_point, free_customer_service (free service) or free_tier (within the monthly free allowance).
-- column billable: True when Meta charges for it (pricing_type = 'regular').
-- column rate: Rate-card price per conversation (NULL when the card has no row for its market and category).
-- column rate_source: Where the rate comes from ('landing' = the user's rate card).
-- column charge: What it cost (0 when free; NULL when billable but unpriced).
-- column currency: Currency of the charge (the WABA's).
-- column messages: Delivered business messages in it.
-- column opening_message_id: The message whose delivery opened it (the ledger row that carries its charge).
-- column closed_at: When it ended: expires_at, or earlier when a free entry point conversation with the same customer and number opened while it was open.
WITH conversations AS (
SELECT u.unit_id AS conversation_id, m.id_source, p.waba_id, p.phone_number_id, p.customer_id,
       u.billed_category AS category, u.billed_at AS opened_at,
       u.billed_at + to_hours(CASE WHEN u.pricing_type = 'free_entry_point' THEN p.free_entry_point_hours
                                   ELSE p.conversation_hours END) AS expires_at,
       u.market, p.regime, u.pricing_type, u.pricing_type = 'regular' AS billable, u.rate, u.rate_source, u.charge,
       u.currency, m.messages, u.first_message_id AS opening_message_id
FROM _charged_units u
JOIN _priced_messages p ON p.message_id = u.first_message_id
JOIN (SELECT conversation_id, any_value(id_source) AS id_source, count(*) AS messages
      FROM _conversation_members GROUP BY conversation_id) m ON m.conversation_id = u.unit_id
WHERE u.unit_kind = 'conversation'
), closers AS (
    SELECT c.conversation_id, min(f.opened_at) AS closed_at
    FROM conversations c JOIN conversations f
      ON f.pricing_type = 'free_entry_point' AND f.phone_number_id = c.phone_number_id AND f.customer_id = c.customer_id
     AND f.opened_at > c.opened_at AND f.opened_at < c.expires_at
    GROUP BY c.conversation_id
)
SELECT c.*, coalesce(x.closed_at, c.expires_at) AS closed_at
FROM conversations c LEFT JOIN closers x USING (conversation_id)
ORDER BY opened_at, conversation_id
