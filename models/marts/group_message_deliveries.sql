-- marts.group_message_deliveries: one row per group message (Groups API) and participant it was delivered to (a delivered or read status for that participant), priced as Meta bills it: each delivery of a billable group message is charged at the rate of that participant's market, never volume-tiered (Meta, Groups API Pricing, Oct 22, 2025). (columns: _marts.yml)
SELECT u.first_message_id AS message_id, p.group_id, u.participant_id, u.waba_id, u.phone_number_id, u.market,
       p.sent_at, list_filter(p.group_participants, g -> g.participant_id = u.participant_id)[1].delivered_at AS delivered_at,
       u.billed_category AS category, u.pricing_type,
       CASE WHEN u.pricing_type = 'regular' THEN u.rate END AS rate,
       CASE WHEN u.pricing_type = 'regular' THEN u.rate_source END AS rate_source,
       CASE WHEN u.pricing_type = 'regular' THEN u.rate_verification END AS rate_verification,
       u.charge, u.unpriced_reason, u.currency
FROM {{ ref('charged_units') }} u JOIN {{ ref('priced_messages') }} p ON p.message_id = u.first_message_id
WHERE u.unit_kind = 'group_delivery'
ORDER BY sent_at, message_id, participant_id
