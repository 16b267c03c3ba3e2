SELECT * EXCLUDE (is_documented_field) FROM {{ ref('other_webhook_events') }} WHERE NOT is_documented_field
