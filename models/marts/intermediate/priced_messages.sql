-- _priced_messages: one row per outbound message with the category it is billed in and the pricing type
-- our rules give it under its regime (the conversation-level free tier is decided in _charged_units).
WITH categorised AS (
    SELECT *,
           coalesce(logged_category, history_category) AS template_category,
           CASE WHEN NOT is_template THEN coalesce(service_category_as, 'service')
                WHEN template_category_as IS NOT NULL THEN template_category_as
                -- Meta bills the category in force at send time; its pricing object says which, when we have one.
                WHEN meta_category IN ('marketing', 'utility', 'authentication', 'authentication_international', 'marketing_lite')
                     THEN meta_category
                ELSE coalesce(logged_category, history_category, 'unknown') END AS billed_category
    FROM _outbound_messages
)
SELECT *,
       CASE billing_unit WHEN 'conversation' THEN 'CBP' WHEN 'message' THEN 'PMP' END AS pricing_model,
       CASE WHEN in_free_entry_point_window THEN 'free_entry_point'
            WHEN NOT is_template AND service_free THEN 'free_customer_service'
            WHEN billing_unit = 'message' AND is_template AND billed_category = 'utility'
                 AND in_service_window AND utility_in_window_free THEN 'free_customer_service'
            ELSE 'regular' END AS rule_pricing_type
FROM categorised
