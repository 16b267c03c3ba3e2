-- marts.pricing_allowances: one row per free allowance of chargeable units (e.g. (columns: _marts.yml)
SELECT allowance, effective_from, category, free_units, counted_per, confirmed,
       NOT list_contains({{ waba_var('disabled_regimes') }}, allowance) AS enabled, source, description
FROM read_csv('{{ reference_csv('pricing_allowances.csv') }}', header = true, auto_detect = false, columns = {
    'allowance': 'VARCHAR', 'effective_from': 'DATE', 'category': 'VARCHAR', 'free_units': 'INTEGER',
    'counted_per': 'VARCHAR', 'confirmed': 'BOOLEAN', 'source': 'VARCHAR', 'description': 'VARCHAR'})
ORDER BY effective_from, allowance
