-- staging.rate_cards: one row per (effective date, market, category, currency, volume band) rate from the
-- landing folder's rate cards (Meta's list-rate and volume-tier files, or our CSV), with the file it came
-- from; the last-loaded file wins when two give the same band.
-- materialize: table
-- inputs: rate_cards
-- column effective_from: First day the rate applies.
-- column market: Meta's pricing market.
-- column category: Pricing category (lower case).
-- column currency: Rate currency (upper case).
-- column rate: Rate per delivered message.
-- column volume_from: Lower bound of the monthly volume band (0 when none).
-- column volume_to: Upper bound of the band; NULL for open-ended.
-- column source_file: The landing file the rate came from (a Meta-layout file or our generic CSV).
SELECT r.effective_from, r.market, lower(r.category) AS category, upper(r.currency) AS currency, r.rate,
       coalesce(r.volume_from, 0) AS volume_from, r.volume_to, a.file_path AS source_file
FROM raw.rate_cards r LEFT JOIN raw.load_audit a USING (load_id)
QUALIFY row_number() OVER (PARTITION BY r.effective_from, r.market, lower(r.category), upper(r.currency), coalesce(r.volume_from, 0)
                           ORDER BY r.load_id DESC, r.line_no DESC) = 1
ORDER BY effective_from, market, category, currency, volume_from
