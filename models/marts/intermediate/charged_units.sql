-- intermediate.charged_units: one row per unit Meta bills or waives: each delivered message under per-message pricing, each conversation under conversation-based pricing; with its pricing type, the rate-card row that prices it (volume band included), its charge, and why it is unpriced when it is. (columns: _intermediate.yml)
-- Month-partitioned: every count below (free tier, allowance, volume tier) restarts each local month, so the units of
-- the months being rebuilt depend on those months' messages alone.
WITH month_messages AS (
    SELECT * FROM {{ ref('priced_messages') }} WHERE {{ in_rebuild_months('local_month') }}
), message_units AS (
    SELECT message_id AS unit_id, CASE WHEN delivered THEN 'message' ELSE 'unconfirmed_message' END AS unit_kind,
           message_id AS first_message_id, waba_id, phone_number_id, business_portfolio_id,
           market, billed_category, rate_category, volume_counter, category_unpriced_reason, currency,
           local_sent_date AS local_date, sent_at AS billed_at,
           rule_pricing_type AS pricing_type, volume_tier_categories, NULL::INTEGER AS free_tier_units,
           NULL::VARCHAR[] AS free_tier_categories, NULL::VARCHAR AS participant_id
    FROM month_messages WHERE billing_unit = 'message' AND (failed_at IS NULL OR delivered) AND group_id IS NULL
), group_units AS (
    SELECT message_id || '|' || p.participant_id, 'group_delivery', message_id, waba_id, phone_number_id, business_portfolio_id,
           p.market, billed_category, rate_category, volume_counter, category_unpriced_reason, currency,
           local_sent_date, sent_at, rule_pricing_type, volume_tier_categories, NULL::INTEGER, NULL::VARCHAR[], p.participant_id
    FROM (SELECT *, unnest(group_participants) AS p FROM month_messages WHERE billing_unit = 'message' AND group_id IS NOT NULL)
    WHERE p.delivered_at IS NOT NULL
), conversation_openers AS (
    SELECT c.conversation_id, p.*
    FROM {{ ref('conversation_members') }} c JOIN month_messages p USING (message_id)
    QUALIFY row_number() OVER (PARTITION BY c.conversation_id ORDER BY p.delivered_or_read_at, p.message_id) = 1
), conversation_units AS (
    SELECT conversation_id, 'conversation', message_id, waba_id, phone_number_id, business_portfolio_id, market,
           billed_category, rate_category, volume_counter, category_unpriced_reason, currency,
           local_sent_date, delivered_or_read_at, rule_pricing_type, NULL::VARCHAR[], free_tier_units, free_tier_categories,
           NULL::VARCHAR
    FROM conversation_openers
), conversation_windows AS (
    SELECT o.phone_number_id, o.customer_id, o.billed_category, o.delivered_or_read_at AS opened_at
    FROM conversation_openers o
), unconfirmed_conversations AS (
    -- A conversation-era send neither failed nor reported delivered, with no delivered conversation of its
    -- category within 24 hours either side: the conversation it would have opened is an unconfirmed unit.
    SELECT message_id, 'unconfirmed_message', message_id, waba_id, phone_number_id, business_portfolio_id, market,
           billed_category, rate_category, volume_counter, category_unpriced_reason, currency,
           local_sent_date, sent_at, rule_pricing_type, NULL::VARCHAR[], NULL::INTEGER, NULL::VARCHAR[], NULL::VARCHAR
    FROM month_messages p
    WHERE billing_unit = 'conversation' AND failed_at IS NULL AND NOT delivered AND rule_pricing_type = 'regular'
      AND NOT EXISTS (SELECT 1 FROM conversation_windows w
                      WHERE w.phone_number_id IS NOT DISTINCT FROM p.phone_number_id AND w.customer_id IS NOT DISTINCT FROM p.customer_id
                        AND w.billed_category = p.billed_category
                        AND w.opened_at > p.sent_at - INTERVAL 24 HOUR AND w.opened_at < p.sent_at + INTERVAL 24 HOUR)
), units AS (
    SELECT * FROM message_units UNION ALL SELECT * FROM group_units UNION ALL SELECT * FROM conversation_units
    UNION ALL SELECT * FROM unconfirmed_conversations
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
    SELECT *, CASE WHEN unit_kind IN ('message', 'unconfirmed_message', 'group_delivery') AND pricing_type = 'regular'
                   THEN billed_category END AS allowance_category  -- what an allowance is of (none: no allowance applies)
    FROM (SELECT * EXCLUDE (pricing_type, free_tier_rank),
                 CASE WHEN free_tier_rank <= free_tier_units THEN 'free_tier' ELSE pricing_type END AS pricing_type
          FROM tiered)
), allowances AS (
    -- A re-pricing scenario that forces a regime applies the allowances starting with it to every unit.
    SELECT a.* REPLACE (CASE WHEN {{ waba_var('forced_regime') }} IS NULL THEN a.effective_from ELSE DATE '0001-01-01' END AS effective_from)
    FROM {{ ref('pricing_allowances') }} a
    WHERE a.enabled AND ({{ waba_var('forced_regime') }} IS NULL
                         OR a.effective_from = (SELECT effective_from FROM {{ ref('pricing_regimes') }} WHERE regime = {{ waba_var('forced_regime') }}))
), allowance_days AS (
    -- The allowance in force for each category and local day, looked up once per pair and joined back: an ASOF join
    -- sorts its whole left side, and every column of every unit ran a 10M-envelope build out of memory (2GB).
    SELECT k.category, k.local_date, a.free_units, a.allowance
    FROM (SELECT DISTINCT allowance_category AS category, local_date FROM typed) k
    ASOF JOIN allowances a ON a.category = k.category AND k.local_date >= a.effective_from
), allowed AS (
    -- Free allowance (e.g. 1,000 service messages per phone number and local month): the first units are free.
    -- Meta states the pricing type on the 'sent' status, before it knows of delivery, so every send it accepted
    -- (delivered or not yet confirmed; not the failed ones) counts, in send order. A group message counts once per
    -- participant it was delivered to (Meta bills those as that many delivered messages: Groups API Pricing).
    SELECT t.*, a.free_units AS allowance_units,
           CASE WHEN a.allowance IS NOT NULL
                THEN row_number() OVER (PARTITION BY t.phone_number_id, date_trunc('month', t.local_date), a.allowance
                                        ORDER BY t.billed_at, t.unit_id) END AS allowance_rank
    FROM typed t LEFT JOIN allowance_days a
      ON a.category = t.allowance_category AND a.local_date = t.local_date
), allowance_typed AS (
    SELECT * EXCLUDE (pricing_type, allowance_units, allowance_rank, allowance_category),
           CASE WHEN allowance_rank <= allowance_units THEN 'free_customer_service' ELSE pricing_type END AS pricing_type
    FROM allowed
), ranked AS (
    -- Volume tiers: charged units of a portfolio, market and volume counter counted from the 1st of the local
    -- month (authentication and authentication_international share one counter).
    SELECT *,
           CASE WHEN pricing_type = 'regular' AND list_contains(volume_tier_categories, billed_category) AND unit_kind = 'message'
                THEN row_number() OVER (PARTITION BY business_portfolio_id, market, volume_counter, date_trunc('month', local_date),
                                                     pricing_type = 'regular' AND list_contains(volume_tier_categories, billed_category)
                                                     AND unit_kind = 'message'
                                        ORDER BY billed_at, unit_id) END AS volume_rank
    FROM allowance_typed
), card AS (
    -- Where a regime bills service at another category's rate and the card has no service rate, use that rate.
    SELECT * FROM {{ ref('rate_card') }}
    UNION ALL
    SELECT r.* REPLACE ('service' AS category, r.source || ' (' || r.category || ' rate, used for service)' AS source)
    FROM {{ ref('rate_card') }} r
    WHERE r.category IN (SELECT service_rate_category FROM {{ ref('pricing_regimes') }} WHERE service_rate_category IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM {{ ref('rate_card') }} s WHERE s.category = 'service' AND s.market = r.market
                      AND s.currency = r.currency AND s.effective_from = r.effective_from)
), card_dates AS (
    SELECT DISTINCT market, category, currency, effective_from FROM card
), rate_dates AS (
    -- The card in force for each market, category, currency and day, looked up once each (as allowance_days).
    -- A re-pricing scenario may price every unit with the card in force on one date (rates_as_of).
    SELECT k.market, k.rate_category, k.currency, k.as_of, d.effective_from AS rate_effective_from
    FROM (SELECT DISTINCT market, rate_category, currency, coalesce({{ waba_var('rates_as_of') }}, local_date) AS as_of
          FROM ranked) k
    ASOF JOIN card_dates d
      ON d.market = k.market AND d.category = k.rate_category AND d.currency = k.currency AND k.as_of >= d.effective_from
), dated AS (
    SELECT u.*, d.rate_effective_from
    FROM ranked u LEFT JOIN rate_dates d
      ON d.market = u.market AND d.rate_category = u.rate_category AND d.currency = u.currency
     AND d.as_of = coalesce({{ waba_var('rates_as_of') }}, u.local_date)
), band_rows AS (
    -- The card row that prices each market, category, currency, card date and volume rank: of the rows whose band
    -- holds the rank, the one starting highest. Chosen per distinct key, not per unit: picking it per unit kept every
    -- column of every unit in memory and ran a 10M-envelope build out of memory (2GB).
    SELECT k.*, c.rate, c.volume_from, c.volume_to, c.source AS rate_source, c.verification AS rate_verification
    FROM (SELECT DISTINCT market, rate_category, currency, rate_effective_from, coalesce(volume_rank, 1) AS band_rank
          FROM dated) k
    JOIN card c
      ON c.market = k.market AND c.category = k.rate_category AND c.currency = k.currency
     AND c.effective_from = k.rate_effective_from
     AND k.band_rank >= c.volume_from AND (c.volume_to IS NULL OR k.band_rank <= c.volume_to)
    QUALIFY row_number() OVER (PARTITION BY k.market, k.rate_category, k.currency, k.rate_effective_from, k.band_rank
                               ORDER BY c.volume_from DESC NULLS LAST) = 1
), priced AS (
    SELECT u.*, b.rate, b.volume_from, b.volume_to, b.rate_source, b.rate_verification
    FROM dated u
    LEFT JOIN band_rows b
      ON b.market = u.market AND b.rate_category = u.rate_category AND b.currency = u.currency
     AND b.rate_effective_from = u.rate_effective_from AND b.band_rank = coalesce(u.volume_rank, 1)
)
SELECT * EXCLUDE (rate_effective_from),
       CASE WHEN pricing_type <> 'regular' OR unit_kind = 'unconfirmed_message' THEN 0::DECIMAL(18, 6) ELSE rate END AS charge,
       CASE WHEN pricing_type = 'regular' AND unit_kind = 'unconfirmed_message' THEN rate END AS unconfirmed_charge,
       -- Why a billable unit has no price: a category priced outside the card, no card in the WABA's currency, or no row.
       CASE WHEN pricing_type = 'regular' AND rate IS NULL THEN
            CASE WHEN category_unpriced_reason IS NOT NULL THEN category_unpriced_reason
                 WHEN NOT EXISTS (SELECT 1 FROM card_dates d WHERE d.currency = priced.currency AND d.market = priced.market
                                  AND d.category = priced.rate_category) THEN
                      CASE WHEN EXISTS (SELECT 1 FROM card_dates d WHERE d.market = priced.market AND d.category = priced.rate_category)
                           THEN 'no_rate_in_currency' ELSE 'missing_rate_card_row' END
                 ELSE 'missing_rate_card_row' END END AS unpriced_reason
FROM priced
