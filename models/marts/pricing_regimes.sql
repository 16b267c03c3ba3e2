-- marts.pricing_regimes: one row per WhatsApp pricing regime, keyed by the date it took effect (at midnight in each WABA's own timezone). (columns: _marts.yml)
SELECT regime, effective_from, billing_unit, confirmed,
       NOT list_contains({{ waba_var('disabled_regimes') }}, regime) AS enabled,
       free_tier_units, string_split(nullif(free_tier_categories, ''), '|') AS free_tier_categories,
       service_free, utility_in_window_free, free_entry_point_hours, conversation_hours,
       string_split(nullif(volume_tier_categories, ''), '|') AS volume_tier_categories,
       nullif(template_category_as, '') AS template_category_as, nullif(service_category_as, '') AS service_category_as,
       nullif(window_template_category_as, '') AS window_template_category_as,
       nullif(service_rate_category, '') AS service_rate_category, source, description
FROM {{ ref('regime_rules') }}
ORDER BY effective_from
