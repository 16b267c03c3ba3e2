-- marts.pricing_categories: one row per pricing category Meta's webhooks or our send log can name, with the
-- rate-card category it is priced at, the volume-tier counter it accrues on, and whether it is priced here.
-- column category: Category as the webhook or send log names it (lower case), e.g. marketing_lite.
-- column rate_category: Rate-card category its rate is looked up in (marketing_lite is priced at marketing).
-- column volume_counter: Monthly volume counter it accrues on (authentication and authentication_international share one).
-- column priced: False when Meta prices it some other way we cannot compute (e.g. Meta Business Agent tokens).
-- column unpriced_reason: Why a unit of it is left unpriced, when priced is false.
-- column source: Where the rule comes from.
SELECT lower(category) AS category, nullif(rate_category, '') AS rate_category, nullif(volume_counter, '') AS volume_counter,
       priced, nullif(unpriced_reason, '') AS unpriced_reason, source
FROM read_csv('@reference/pricing_categories.csv', header = true, auto_detect = false, columns = {
    'category': 'VARCHAR', 'rate_category': 'VARCHAR', 'volume_counter': 'VARCHAR', 'priced': 'BOOLEAN',
    'unpriced_reason': 'VARCHAR', 'source': 'VARCHAR'})
ORDER BY category
