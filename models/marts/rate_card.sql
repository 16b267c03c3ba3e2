-- marts.rate_card: one row per (effective date, market, category, currency, volume band) rate the ledger charges with: for each currency the landing folder's rate cards cover (Meta's own files or our CSV), those; for every other currency, the card bundled with waba-insights. (columns: _marts.yml)
WITH landing AS (
    SELECT effective_from, market, category, currency, rate, volume_from, volume_to, 'landing' AS verification,
           'landing: ' || source_file AS source
    FROM {{ ref('rate_cards') }}
), bundled AS (
    SELECT effective_from, market, lower(category) AS category, upper(currency) AS currency, rate,
           coalesce(volume_from, 0) AS volume_from, volume_to, verification, source
    FROM {{ ref('bundled_rates') }}
)
SELECT * FROM landing
UNION ALL
SELECT * FROM bundled WHERE currency NOT IN (SELECT currency FROM landing)
ORDER BY effective_from, market, category, currency, volume_from
