-- staging.user_id_updates: one row per BSUID rotation Meta announced on the user_id_update webhook
-- field (user_id.previous -> user_id.current, and the parent BSUID likewise); identity_changes and
-- customer_identities read it so the alias chain carries over the rotation.
-- key: previous_user_id, current_user_id, changed_at
-- order: changed_at
-- column previous_user_id: The BSUID before the change (user_id.previous).
-- column current_user_id: The BSUID after it (user_id.current).
-- column changed_at: user_id_update[].timestamp (UTC), else entry.time, else receipt.
-- column wa_id: The customer's phone number, when Meta could include it.
-- column previous_parent_user_id: parent_user_id.previous, when parent BSUIDs are enabled.
-- column current_parent_user_id: parent_user_id.current.
-- column detail: Meta's human-readable description of the update.
-- column contact_name: The customer's profile name from the contacts array; personal data, masked in reports.
-- column waba_id: WhatsApp Business Account id (entry.id).
-- column phone_number_id: The business phone number's id.
-- column received_at: When our endpoint received the delivery (UTC).
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file.
WITH v AS (
    SELECT *, json_transform(value, '{
        "metadata": {"phone_number_id": "VARCHAR"},
        "contacts": [{"wa_id": "VARCHAR", "profile": {"name": "VARCHAR"}}],
        "user_id_update": [{"wa_id": "VARCHAR", "detail": "VARCHAR", "timestamp": "VARCHAR",
                            "user_id": {"previous": "VARCHAR", "current": "VARCHAR"},
                            "parent_user_id": {"previous": "VARCHAR", "current": "VARCHAR"}}]}') AS t
    FROM _management_values WHERE field = 'user_id_update'
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
