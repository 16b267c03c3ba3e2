-- marts.market_prefixes: one row per calling-code prefix (country code, or +1 area code) and Meta pricing market, from the date it applies. (columns: _marts.yml)
SELECT prefix, market, country_iso2, country, effective_from, nullif(requires_regime, '') AS requires_regime, source
FROM read_csv('{{ reference_csv('calling_codes.csv') }}', header = true, auto_detect = false, columns = {
    'prefix': 'VARCHAR', 'market': 'VARCHAR', 'country_iso2': 'VARCHAR', 'country': 'VARCHAR',
    'effective_from': 'DATE', 'requires_regime': 'VARCHAR', 'source': 'VARCHAR'})
ORDER BY prefix, effective_from NULLS FIRST
