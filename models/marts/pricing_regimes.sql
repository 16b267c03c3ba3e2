-- marts.pricing_regimes: one row per WhatsApp pricing regime, keyed by the date it took effect (at midnight
-- in each WABA's own timezone). The rules are data: every charge in the ledger is computed from these columns.
-- column regime: Name of the regime, e.g. pmp_2025_07.
-- column effective_from: Local date (WABA timezone) from which the regime applies, until the next enabled regime.
-- column billing_unit: 'conversation' (24-hour conversations, CBP) or 'message' (each delivered template, PMP).
-- column confirmed: False when the rules are reported by providers but not confirmed on Meta's own pages (pmp_2026_10 is confirmed on Meta's pricing-updates page).
-- column enabled: False when switched off for this run (WABA_DISABLED_REGIMES or `waba run --disable-regime`); the previous regime then continues.
-- column free_tier_units: Conversations per WABA per month that are free (0 = no free tier).
-- column free_tier_categories: Categories the free tier applies to.
-- column service_free: True when service (non-template) messages or conversations are free.
-- column utility_in_window_free: True when a utility template delivered inside an open customer-service window is free.
-- column free_entry_point_hours: Length of the free window opened by the reply to a Click-to-WhatsApp ad or Page button.
-- column conversation_hours: Length of a conversation under conversation-based pricing (NULL for per-message pricing).
-- column volume_tier_categories: Categories whose rate falls with the portfolio's monthly volume per market.
-- column template_category_as: Category every template is billed as in this regime (NULL = its own category).
-- column service_category_as: Category non-template messages are billed as (NULL = service).
-- column window_template_category_as: Category a template sent inside an open customer-service window is billed as (2022: the user-initiated conversation; NULL = its own).
-- column service_rate_category: Rate-card category used for service when the card has no service rate (NULL = not charged).
-- column source: Where the rule comes from.
-- column description: The regime in words.
SELECT regime, effective_from, billing_unit, confirmed,
       NOT list_contains(getvariable('disabled_regimes'), regime) AS enabled,
       free_tier_units, string_split(nullif(free_tier_categories, ''), '|') AS free_tier_categories,
       service_free, utility_in_window_free, free_entry_point_hours, conversation_hours,
       string_split(nullif(volume_tier_categories, ''), '|') AS volume_tier_categories,
       nullif(template_category_as, '') AS template_category_as, nullif(service_category_as, '') AS service_category_as,
       nullif(window_template_category_as, '') AS window_template_category_as,
       nullif(service_rate_category, '') AS service_rate_category, source, description
FROM read_csv('@reference/pricing_regimes.csv', header = true, auto_detect = false, columns = {
    'regime': 'VARCHAR', 'effective_from': 'DATE', 'billing_unit': 'VARCHAR', 'confirmed': 'BOOLEAN',
    'free_tier_units': 'INTEGER', 'free_tier_categories': 'VARCHAR', 'service_free': 'BOOLEAN',
    'utility_in_window_free': 'BOOLEAN', 'free_entry_point_hours': 'INTEGER', 'conversation_hours': 'INTEGER',
    'volume_tier_categories': 'VARCHAR', 'template_category_as': 'VARCHAR', 'service_category_as': 'VARCHAR',
    'window_template_category_as': 'VARCHAR',
    'service_rate_category': 'VARCHAR', 'source': 'VARCHAR', 'description': 'VARCHAR'})
ORDER BY effective_from
