-- staging.user_preferences: one row per marketing-preference change a customer made in WhatsApp
-- (stop / resume, and any newer value), per business phone number.
-- key: customer_id, value, changed_at
-- order: changed_at
WITH prefs AS (
    SELECT *, unnest(json_transform(value, '{"metadata": {"phone_number_id": "VARCHAR"},
              "user_preferences": [{"wa_id": "VARCHAR", "user_id": "VARCHAR", "detail": "VARCHAR",
                                    "category": "VARCHAR", "value": "VARCHAR", "timestamp": "VARCHAR"}]}').user_preferences) AS p,
           json_extract_string(value, '$.metadata.phone_number_id') AS phone_number_id
    FROM _management_values WHERE field = 'user_preferences'
)
SELECT coalesce(p.wa_id, p.user_id) AS customer_id, p.wa_id, p.user_id, waba_id, phone_number_id,
       p.category, p.value, p.detail, waba_ts(p.timestamp) AS changed_at,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM prefs
