-- marts.market_prefixes: one row per calling-code prefix (country code, or +1 area code) and Meta pricing
-- market, from the date it applies. A number's market is the one of its longest matching prefix.
-- column prefix: Leading digits of an international number without '+', e.g. '55', '1809'.
-- column market: Meta's pricing market, as named on rate cards (e.g. 'Rest of Latin America').
-- column country_iso2: ISO 3166 country code; a business-scoped user id starts with it (e.g. 'BR.').
-- column country: Country name.
-- column effective_from: Local date from which this row applies (NULL = always).
-- column requires_regime: The row applies only while this pricing regime is enabled (NULL = always).
-- column source: Where the mapping comes from.
SELECT prefix, market, country_iso2, country, effective_from, nullif(requires_regime, '') AS requires_regime, source
FROM read_csv('@reference/calling_codes.csv', header = true, auto_detect = false, columns = {
    'prefix': 'VARCHAR', 'market': 'VARCHAR', 'country_iso2': 'VARCHAR', 'country': 'VARCHAR',
    'effective_from': 'DATE', 'requires_regime': 'VARCHAR', 'source': 'VARCHAR'})
ORDER BY prefix, effective_from NULLS FIRST
