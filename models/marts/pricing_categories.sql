-- marts.pricing_categories: one row per pricing category Meta's webhooks or our send log can name, with the rate-card category it is priced at, the volume-tier counter it accrues on, and whether it is priced here. (columns: _marts.yml)
SELECT lower(category) AS category, nullif(rate_category, '') AS rate_category, nullif(volume_counter, '') AS volume_counter,
       priced, nullif(unpriced_reason, '') AS unpriced_reason, source
FROM read_csv('{{ reference_csv('pricing_categories.csv') }}', header = true, auto_detect = false, columns = {
    'category': 'VARCHAR', 'rate_category': 'VARCHAR', 'volume_counter': 'VARCHAR', 'priced': 'BOOLEAN',
    'unpriced_reason': 'VARCHAR', 'source': 'VARCHAR'})
ORDER BY category
