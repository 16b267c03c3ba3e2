WITH prefs AS (
    SELECT *, unnest(t.user_preferences) AS p
    FROM (SELECT *, json_transform(value, '{"metadata": {"phone_number_id": "VARCHAR"},
              "contacts": [{"wa_id": "VARCHAR", "user_id": "VARCHAR", "profile": {"name": "VARCHAR", "username": "VARCHAR"}}],
              "user_preferences": [{"wa_id": "VARCHAR", "user_id": "VARCHAR", "parent_user_id": "VARCHAR", "detail": "VARCHAR",
                                    "category": "VARCHAR", "value": "VARCHAR", "timestamp": "VARCHAR"}]}') AS t
          FROM {{ ref('webhook_management_values') }} WHERE field = 'user_preferences')
), matched AS (
    SELECT *, coalesce(list_filter(t.contacts, c -> c.wa_id = p.wa_id OR c.user_id = p.user_id)[1],
                       CASE WHEN len(t.contacts) = 1 THEN t.contacts[1] END) AS contact
    FROM prefs
)
SELECT coalesce(p.wa_id, p.user_id) AS customer_id, p.wa_id, p.user_id, p.parent_user_id,
       contact.profile.name AS contact_name, contact.profile.username AS contact_username,
       waba_id, t.metadata.phone_number_id AS phone_number_id,
       p.category, p.value, p.detail, waba_ts(p.timestamp) AS changed_at,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM matched
