-- marts.pricing_allowances: one row per free allowance of chargeable units (e.g. the reported 1,000 free
-- service messages per business phone number and month from 2026-10-01), keyed by the date it starts.
-- Each is switchable on its own, like a regime.
-- column allowance: Name of the allowance, e.g. free_service_2026_10; accepted by `waba run --disable-regime`.
-- column effective_from: Local date (WABA timezone) from which it applies.
-- column category: Pricing category whose delivered units it makes free.
-- column free_units: Units free per counter and local month; the rest are charged. No rollover.
-- column counted_per: What one counter covers: 'phone_number' (a business phone number, 1:1 and group messages together).
-- column confirmed: False when the rule is reported by providers but not on the copy of Meta's page we read.
-- column enabled: False when switched off for this run (WABA_DISABLED_REGIMES or `waba run --disable-regime`).
-- column source: Where the rule comes from.
-- column description: The rule in words.
SELECT allowance, effective_from, category, free_units, counted_per, confirmed,
       NOT list_contains(getvariable('disabled_regimes'), allowance) AS enabled, source, description
FROM read_csv('@reference/pricing_allowances.csv', header = true, auto_detect = false, columns = {
    'allowance': 'VARCHAR', 'effective_from': 'DATE', 'category': 'VARCHAR', 'free_units': 'INTEGER',
    'counted_per': 'VARCHAR', 'confirmed': 'BOOLEAN', 'source': 'VARCHAR', 'description': 'VARCHAR'})
ORDER BY effective_from, allowance
