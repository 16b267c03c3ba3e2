-- _charged_units: one row per unit Meta bills or waives: each delivered message under per-message pricing,
-- each conversation under conversation-based pricing; with its pricing type, the rate-card row that prices
-- it (volume band included) and its charge. Failed messages are never units. A per-message send that is
-- neither failed nor reported delivered is an unconfirmed unit: priced (first band) but not charged, since
-- Meta may have delivered it without the status reaching us; reconciliation uses that price.
WITH message_units AS (
    SELECT message_id AS unit_id, CASE WHEN delivered THEN 'message' ELSE 'unconfirmed_message' END AS unit_kind,
           message_id AS first_message_id, waba_id, business_portfolio_id,
           market, billed_category, currency, local_sent_date AS local_date, sent_at AS billed_at,
           rule_pricing_type AS pricing_type, volume_tier_categories, NULL::INTEGER AS free_tier_units,
           NULL::VARCHAR[] AS free_tier_categories
    FROM _priced_messages WHERE billing_unit = 'message' AND failed_at IS NULL
), conversation_openers AS (
    SELECT c.conversation_id, p.*
    FROM _conversation_members c JOIN _priced_messages p USING (message_id)
    QUALIFY row_number() OVER (PARTITION BY c.conversation_id ORDER BY p.delivered_or_read_at, p.message_id) = 1
), conversation_units AS (
    SELECT conversation_id, 'conversation', message_id, waba_id, business_portfolio_id, market, billed_category, currency,
           local_sent_date, delivered_or_read_at, rule_pricing_type, NULL::VARCHAR[], free_tier_units, free_tier_categories
    FROM conversation_openers
), units AS (
    SELECT * FROM message_units UNION ALL SELECT * FROM conversation_units
), tiered AS (
    SELECT *,
           -- Conversation-based free tier: the first N qualifying conversations of each WABA and local month.
           CASE WHEN pricing_type = 'regular' AND free_tier_units > 0
                     AND (free_tier_categories IS NULL OR list_contains(free_tier_categories, billed_category))
                THEN row_number() OVER (PARTITION BY waba_id, date_trunc('month', local_date),
                                        pricing_type = 'regular' AND free_tier_units > 0
                                        AND (free_tier_categories IS NULL OR list_contains(free_tier_categories, billed_category))
                                        ORDER BY billed_at, unit_id) END AS free_tier_rank
    FROM units
), typed AS (
    SELECT * EXCLUDE (pricing_type, free_tier_rank),
           CASE WHEN free_tier_rank <= free_tier_units THEN 'free_tier' ELSE pricing_type END AS pricing_type
    FROM tiered
), ranked AS (
    -- Volume tiers: charged units of a portfolio, market and category counted from the 1st of the local month.
    SELECT *,
           CASE WHEN pricing_type = 'regular' AND list_contains(volume_tier_categories, billed_category) AND unit_kind = 'message'
                THEN row_number() OVER (PARTITION BY business_portfolio_id, market, billed_category, date_trunc('month', local_date),
                                                     pricing_type = 'regular' AND list_contains(volume_tier_categories, billed_category)
                                                     AND unit_kind = 'message'
                                        ORDER BY billed_at, unit_id) END AS volume_rank
    FROM typed
), card AS (
    -- Where a regime bills service at another category's rate and the card has no service rate, use that rate.
    SELECT * FROM marts.rate_card
    UNION ALL
    SELECT r.* REPLACE ('service' AS category, r.source || ' (' || r.category || ' rate, used for service)' AS source)
    FROM marts.rate_card r
    WHERE r.category IN (SELECT service_rate_category FROM marts.pricing_regimes WHERE service_rate_category IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM marts.rate_card s WHERE s.category = 'service' AND s.market = r.market
                      AND s.currency = r.currency AND s.effective_from = r.effective_from)
), card_dates AS (
    SELECT DISTINCT market, category, currency, effective_from FROM card
), dated AS (
    SELECT u.*, d.effective_from AS rate_effective_from
    FROM ranked u ASOF LEFT JOIN card_dates d
      -- A re-pricing scenario may price every unit with the card in force on one date (rates_as_of).
      ON d.market = u.market AND d.category = u.billed_category AND d.currency = u.currency
     AND coalesce(getvariable('rates_as_of'), u.local_date) >= d.effective_from
)
SELECT u.*, c.rate, c.volume_from, c.volume_to, c.source AS rate_source,
       CASE WHEN u.pricing_type <> 'regular' OR u.unit_kind = 'unconfirmed_message' THEN 0::DECIMAL(18, 6) ELSE c.rate END AS charge,
       CASE WHEN u.pricing_type = 'regular' AND u.unit_kind = 'unconfirmed_message' THEN c.rate END AS unconfirmed_charge
FROM dated u
LEFT JOIN card c
  ON c.market = u.market AND c.category = u.billed_category AND c.currency = u.currency
 AND c.effective_from = u.rate_effective_from
 AND coalesce(u.volume_rank, 1) >= c.volume_from AND (c.volume_to IS NULL OR coalesce(u.volume_rank, 1) <= c.volume_to)
QUALIFY row_number() OVER (PARTITION BY u.unit_kind, u.unit_id ORDER BY c.volume_from DESC NULLS LAST) = 1
