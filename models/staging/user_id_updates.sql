WITH v AS (
    SELECT *, json_transform(value, '{
        "metadata": {"phone_number_id": "VARCHAR"},
        "contacts": [{"wa_id": "VARCHAR", "profile": {"name": "VARCHAR"}}],
        "user_id_update": [{"wa_id": "VARCHAR", "detail": "VARCHAR", "timestamp": "VARCHAR",
                            "user_id": {"previous": "VARCHAR", "current": "VARCHAR"},
                            "parent_user_id": {"previous": "VARCHAR", "current": "VARCHAR"}}]}') AS t
    FROM {{ ref('webhook_management_values') }} WHERE field = 'user_id_update'
), items AS (
    SELECT *, unnest(t.user_id_update) AS u FROM v
)
SELECT u.user_id.previous AS previous_user_id, u.user_id.current AS current_user_id,
       coalesce(waba_ts(u.timestamp), entry_time, received_at) AS changed_at,
       coalesce(u.wa_id, CASE WHEN len(t.contacts) = 1 THEN t.contacts[1].wa_id END) AS wa_id,
       u.parent_user_id.previous AS previous_parent_user_id, u.parent_user_id.current AS current_parent_user_id,
       u.detail,
       coalesce(list_filter(t.contacts, c -> c.wa_id = u.wa_id)[1], CASE WHEN len(t.contacts) = 1 THEN t.contacts[1] END).profile.name AS contact_name,
       waba_id, t.metadata.phone_number_id AS phone_number_id,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM items
