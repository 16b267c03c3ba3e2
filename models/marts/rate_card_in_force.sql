-- marts.rate_card_in_force: one row per (card date, market, category, currency, volume band): the rate in force on each date a card changed, for every market the card ever lists, so a finance user reads any date's whole card in one query. (columns: _marts.yml)
WITH card AS (
    SELECT * FROM {{ ref('rate_card') }}
), dates AS (
    SELECT DISTINCT currency, effective_from AS as_of FROM card
), markets AS (
    SELECT DISTINCT currency, market FROM card
), regime_start AS (
    -- The start of the pricing era in force on each date: a regime that brought its own card (conversation-era
    -- categories, per-message categories, the 2026-10 service rate). Rates from before it do not carry into it;
    -- a regime without a card of its own (cbp_2024_11 only made service free) keeps the card it found.
    SELECT d.currency, d.as_of, coalesce(max(r.effective_from), DATE '1900-01-01') AS regime_from
    FROM dates d
    LEFT JOIN (SELECT r.effective_from, d2.currency FROM {{ ref('pricing_regimes') }} r
               JOIN dates d2 ON d2.as_of = r.effective_from) r
           ON r.currency = d.currency AND r.effective_from <= d.as_of
    GROUP BY ALL
), own_since AS (
    SELECT currency, market, min(effective_from) AS first_listed FROM card GROUP BY ALL
), group_on_date AS (
    -- A country's market on a date: its calling-code row with the latest start on or before it (NULL = always).
    SELECT DISTINCT p.market AS later_market, d.as_of, d.currency,
           first(g.market ORDER BY g.effective_from DESC NULLS LAST, g.market) AS earlier_market
    FROM {{ ref('market_prefixes') }} p
    JOIN dates d ON true
    JOIN {{ ref('market_prefixes') }} g
      ON g.country_iso2 = p.country_iso2 AND g.requires_regime IS NULL
     AND (g.effective_from IS NULL OR g.effective_from <= d.as_of)
    WHERE p.effective_from IS NOT NULL AND p.requires_regime IS NULL
    GROUP BY p.market, d.as_of, d.currency, p.country_iso2
), priced_as AS (
    SELECT m.currency, m.market, d.as_of,
           CASE WHEN o.first_listed <= d.as_of THEN m.market
                ELSE coalesce((SELECT min(g.earlier_market) FROM group_on_date g
                               WHERE g.later_market = m.market AND g.as_of = d.as_of AND g.currency = m.currency),
                              m.market) END AS priced_as
    FROM markets m JOIN dates d USING (currency) JOIN own_since o USING (currency, market)
)
SELECT p.as_of, p.market, p.priced_as, c.category, p.currency, c.volume_from, c.volume_to, c.rate,
       c.effective_from AS rate_effective_from, c.verification, c.source
FROM priced_as p
JOIN regime_start s USING (currency, as_of)
JOIN card c ON c.currency = p.currency AND c.market = p.priced_as
           AND c.effective_from <= p.as_of AND c.effective_from >= s.regime_from
QUALIFY c.effective_from = max(c.effective_from) OVER (PARTITION BY p.as_of, p.market, c.category, p.currency)
ORDER BY as_of, market, category, currency, volume_from
