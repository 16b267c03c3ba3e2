-- marts.conversations: one row per conversation under conversation-based pricing (before 2025-07-01): Meta's conversation when a webhook named it, else one we inferred (opens at the first delivered business message of its category, lasts 24 hours from then, 72 for a free entry point window). (columns: _marts.yml)
WITH conversations AS (
SELECT u.unit_id AS conversation_id, m.id_source, p.waba_id, p.phone_number_id, p.customer_id,
       u.billed_category AS category, u.billed_at AS opened_at,
       u.billed_at + to_hours(CASE WHEN u.pricing_type = 'free_entry_point' THEN p.free_entry_point_hours
                                   ELSE p.conversation_hours END) AS expires_at,
       u.market, p.regime, u.pricing_type, u.pricing_type = 'regular' AS billable, u.rate, u.rate_source, u.charge,
       u.currency, m.messages, u.first_message_id AS opening_message_id
FROM {{ ref('charged_units') }} u
JOIN {{ ref('priced_messages') }} p ON p.message_id = u.first_message_id
JOIN (SELECT conversation_id, any_value(id_source) AS id_source, count(*) AS messages
      FROM {{ ref('conversation_members') }} GROUP BY conversation_id) m ON m.conversation_id = u.unit_id
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
