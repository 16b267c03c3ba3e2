-- intermediate.priced_messages: one row per outbound message with the category it is billed in, the rate-card category and volume counter that category uses, and the pricing type our rules give it under its regime (the conversation-level free tier and the free service allowance are decided in _charged_units). (columns: _intermediate.yml)
WITH billed AS (
    SELECT *,
           coalesce(logged_category, history_category) AS template_category,
           -- Meta Business Agent replies (and other categories priced outside the card) keep their own category.
           CASE WHEN meta_category IN (SELECT category FROM {{ ref('pricing_categories') }} WHERE NOT priced) THEN meta_category
                WHEN NOT is_template THEN coalesce(service_category_as, 'service')
                WHEN in_service_window AND window_template_category_as IS NOT NULL THEN window_template_category_as
                WHEN template_category_as IS NOT NULL THEN template_category_as
                -- Meta bills the category in force at send time; its pricing object says which, when we have one.
                WHEN meta_category IN ('marketing', 'utility', 'authentication', 'authentication_international', 'marketing_lite')
                     THEN meta_category
                -- A group message's pricing object says group_marketing / group_utility (Meta, Groups API Pricing).
                WHEN meta_category IN ('group_marketing', 'group_utility') THEN substr(meta_category, 7)
                ELSE coalesce(logged_category, history_category, 'unknown') END AS billed_category
    FROM {{ ref('outbound_messages') }}
    WHERE {{ in_rebuild_months('local_month') }}
), categorised AS (
    SELECT b.*, coalesce(c.rate_category, b.billed_category) AS rate_category,
           coalesce(c.volume_counter, b.billed_category) AS volume_counter, c.unpriced_reason AS category_unpriced_reason
    FROM billed b LEFT JOIN {{ ref('pricing_categories') }} c ON c.category = b.billed_category
)
SELECT *,
       CASE billing_unit WHEN 'conversation' THEN 'CBP' WHEN 'message' THEN 'PMP' END AS pricing_model,
       CASE WHEN in_free_entry_point_window THEN 'free_entry_point'
            -- Priced outside the card (Meta Business Agent tokens): billable, left unpriced with its reason.
            WHEN category_unpriced_reason IS NOT NULL THEN 'regular'
            WHEN NOT is_template AND service_free THEN 'free_customer_service'
            WHEN billing_unit = 'message' AND is_template AND billed_category = 'utility'
                 AND in_service_window AND utility_in_window_free THEN 'free_customer_service'
            ELSE 'regular' END AS rule_pricing_type
FROM categorised
