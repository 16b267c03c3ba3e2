-- marts.pricing_categories: one row per pricing category Meta's webhooks or our send log can name, with the rate-card category it is priced at, the volume-tier counter it accrues on, and whether it is priced here. (columns: _marts.yml)
SELECT lower(category) AS category, nullif(rate_category, '') AS rate_category, nullif(volume_counter, '') AS volume_counter,
       priced, nullif(unpriced_reason, '') AS unpriced_reason, source
FROM {{ ref('category_rules') }}
ORDER BY category
