-- marts.rate_card: one row per (effective date, market, category, currency, volume band) rate the ledger
-- charges with: the landing folder's rate cards when any were loaded, else the card bundled with waba-insights.
-- column effective_from: Local date (WABA timezone) from which the rate applies, until a later row for the same market and category.
-- column market: Meta pricing market.
-- column category: Pricing category (marketing, utility, authentication, authentication_international, service, ...).
-- column currency: ISO currency of the rate; a WABA is charged in its own currency (accounts.csv).
-- column rate: Price per charged unit (a delivered template under per-message pricing, a conversation before).
-- column volume_from: First monthly unit count (per business portfolio, market and category) the band covers; 0 for the first band.
-- column volume_to: Last unit count the band covers (NULL = no upper end).
-- column source: 'landing' for the user's card, else where the bundled rate comes from ('placeholder' means no published figure was found).
WITH landing AS (
    SELECT effective_from, market, category, currency, rate, volume_from, volume_to, 'landing' AS source
    FROM staging.rate_cards
), bundled AS (
    SELECT effective_from, market, lower(category) AS category, upper(currency) AS currency, rate,
           coalesce(volume_from, 0) AS volume_from, volume_to, source
    FROM read_csv('@reference/rate_card.csv', header = true, auto_detect = false, columns = {
        'effective_from': 'DATE', 'market': 'VARCHAR', 'category': 'VARCHAR', 'currency': 'VARCHAR',
        'rate': 'DECIMAL(18, 6)', 'volume_from': 'BIGINT', 'volume_to': 'BIGINT', 'source': 'VARCHAR'})
)
SELECT * FROM landing
UNION ALL
SELECT * FROM bundled WHERE NOT EXISTS (SELECT 1 FROM landing)
ORDER BY effective_from, market, category, currency, volume_from
