-- marts.market_prefixes: one row per calling-code prefix (country code, or +1 area code) and Meta pricing market, from the date it applies. (columns: _marts.yml)
SELECT prefix, market, country_iso2, country, effective_from, nullif(requires_regime, '') AS requires_regime, source
FROM {{ ref('calling_codes') }}
ORDER BY prefix, effective_from NULLS FIRST
