-- marts.pricing_allowances: one row per free allowance of chargeable units (e.g. (columns: _marts.yml)
SELECT allowance, effective_from, category, free_units, counted_per, confirmed,
       NOT list_contains({{ waba_var('disabled_regimes') }}, allowance) AS enabled, source, description
FROM {{ ref('allowance_rules') }}
ORDER BY effective_from, allowance
