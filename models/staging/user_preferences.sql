-- staging.user_preferences: one row per marketing-preference change a customer made in WhatsApp
-- (stop / resume, and any newer value), per business phone number.
-- key: customer_id, value, changed_at
-- order: changed_at
-- column customer_id: The customer: phone number, else BSUID.
-- column wa_id: The customer's phone number; omitted by Meta for some username users.
-- column user_id: The customer's business-scoped user id.
-- column parent_user_id: The customer's parent BSUID, when enabled.
-- column contact_name: The customer's profile name from the contacts array; personal data, masked in reports.
-- column contact_username: The customer's username from the contacts array.
-- column waba_id: WhatsApp Business Account id.
-- column phone_number_id: The business phone number the preference applies to.
-- column category: user_preferences[].category (marketing_messages).
-- column value: stop, resume (or a newer value Meta adds).
-- column detail: Meta's description of the change.
-- column changed_at: user_preferences[].timestamp (an integer here; UTC).
-- column received_at: When our endpoint received the delivery (UTC).
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file.
WITH prefs AS (
    SELECT *, unnest(t.user_preferences) AS p
    FROM (SELECT *, json_transform(value, '{"metadata": {"phone_number_id": "VARCHAR"},
              "contacts": [{"wa_id": "VARCHAR", "user_id": "VARCHAR", "profile": {"name": "VARCHAR", "username": "VARCHAR"}}],
              "user_preferences": [{"wa_id": "VARCHAR", "user_id": "VARCHAR", "parent_user_id": "VARCHAR", "detail": "VARCHAR",
                                    "category": "VARCHAR", "value": "VARCHAR", "timestamp": "VARCHAR"}]}') AS t
          FROM _management_values WHERE field = 'user_preferences')
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
