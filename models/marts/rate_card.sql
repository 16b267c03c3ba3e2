-- marts.rate_card: one row per (effective date, market, category, currency, volume band) rate the ledger
-- charges with: for each currency the landing folder's rate cards cover (Meta's own files or our CSV), those;
-- for every other currency, the card bundled with waba-insights. A market is listed from the date it exists.
-- column effective_from: Local date (WABA timezone) from which the rate applies, until a later row for the same market and category.
-- column market: Meta pricing market.
-- column category: Pricing category (marketing, utility, authentication, authentication_international, service, ...).
-- column currency: ISO currency of the rate; a WABA is charged in its own currency (accounts.csv).
-- column rate: Price per charged unit (a delivered template under per-message pricing, a conversation before).
-- column volume_from: First monthly unit count (per business portfolio, market and category) the band covers; 0 for the first band.
-- column volume_to: Last unit count the band covers (NULL = no upper end).
-- column verification: How far the figure is sourced: landing (the user's card), meta_page (Meta's own page), third_party (a transcription of Meta's card), inferred (a sourced figure moved to the date Meta's change log gives), carried_forward (the previous sourced figure; Meta's change log lists no change that date), unverified (no source found: priced with the proxy the source column names).
-- column source: 'landing: <file>' for the user's card, else where the bundled figure comes from.
WITH landing AS (
    SELECT effective_from, market, category, currency, rate, volume_from, volume_to, 'landing' AS verification,
           'landing: ' || source_file AS source
    FROM staging.rate_cards
), bundled AS (
    SELECT effective_from, market, lower(category) AS category, upper(currency) AS currency, rate,
           coalesce(volume_from, 0) AS volume_from, volume_to, verification, source
    FROM read_csv('@reference/rate_card.csv', header = true, auto_detect = false, columns = {
        'effective_from': 'DATE', 'market': 'VARCHAR', 'category': 'VARCHAR', 'currency': 'VARCHAR',
        'rate': 'DECIMAL(18, 6)', 'volume_from': 'BIGINT', 'volume_to': 'BIGINT', 'verification': 'VARCHAR',
        'source': 'VARCHAR'})
)
SELECT * FROM landing
UNION ALL
SELECT * FROM bundled WHERE currency NOT IN (SELECT currency FROM landing)
ORDER BY effective_from, market, category, currency, volume_from
