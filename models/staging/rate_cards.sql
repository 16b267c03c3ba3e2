-- staging.rate_cards: one row per (effective date, market, category, volume band) rate from the
-- landing folder's rate cards; the last-loaded file wins when two give the same band.
-- materialize: table
-- inputs: rate_cards
-- column effective_from: First day the rate applies.
-- column market: Meta's pricing market.
-- column category: Pricing category (lower case).
-- column currency: Rate currency (upper case).
-- column rate: Rate per delivered message.
-- column volume_from: Lower bound of the monthly volume band (0 when none).
-- column volume_to: Upper bound of the band; NULL for open-ended.
SELECT effective_from, market, lower(category) AS category, upper(currency) AS currency, rate,
       coalesce(volume_from, 0) AS volume_from, volume_to
FROM raw.rate_cards
QUALIFY row_number() OVER (PARTITION BY effective_from, market, lower(category), coalesce(volume_from, 0)
                           ORDER BY load_id DESC, line_no DESC) = 1
ORDER BY effective_from, market, category, volume_from
