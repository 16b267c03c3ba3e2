-- staging.identity_changes: one row per announced change of a customer's number or identity: system
-- messages of every system type webhook_vocabulary.csv lists (user_changed_number, customer_changed_number,
-- customer_identity_changed, the On-Premises user_identity_changed, user_changed_user_id) and the
-- user_id_update webhook's BSUID rotations.
-- materialize: table
-- inputs: webhooks
-- column message_id: The system message's id; for a user_id_update (no message) 'user_id_update:' || previous BSUID || '>' || current BSUID.
-- column changed_at: When the change was announced (UTC).
-- column waba_id: WhatsApp Business Account id.
-- column phone_number_id: The business phone number's id.
-- column previous_customer_id: The customer id before the change (phone number, else BSUID).
-- column previous_wa_id: The number before the change (`from`, or On-Premises system.customer / system.user).
-- column previous_user_id: The BSUID before the change (from_user_id; for user_changed_user_id without it, the
-- old BSUID in the body "... changed from <old> to <new>"; user_id.previous of a user_id_update).
-- column change_type: system.type, or 'user_id_update'.
-- column new_wa_id: The number after the change (system.wa_id / new_wa_id; the current number of a user_id_update).
-- column new_user_id: The BSUID after the change (system.user_id, user_id.current).
-- column new_parent_user_id: The parent BSUID after the change.
-- column identity_hash: The new identity key hash of an identity (security code) change.
-- column system_body: The system message's body, or the user_id_update's detail.
-- column source: system_message or user_id_update.
WITH types AS (
    SELECT value FROM read_csv('@reference/webhook_vocabulary.csv', header = true, all_varchar = true)
    WHERE vocabulary = 'system_type'
), system_changes AS (
    SELECT message_id, sent_at AS changed_at, waba_id, phone_number_id,
           coalesce(from_wa_id, system_previous_wa_id) AS previous_wa_id,
           coalesce(CASE WHEN from_user_id IS DISTINCT FROM system_new_user_id THEN from_user_id END,
                    CASE WHEN system_type = 'user_changed_user_id'
                         THEN nullif(regexp_extract(system_body, 'changed from (\S+) to \S+', 1), '') END) AS previous_user_id,
           system_type AS change_type, system_new_wa_id AS new_wa_id, system_new_user_id AS new_user_id,
           system_new_parent_user_id AS new_parent_user_id, identity_hash, system_body, 'system_message' AS source
    FROM staging.inbound_messages
    WHERE message_type = 'system' AND system_type IN (SELECT value FROM types)
), rotations AS (
    SELECT 'user_id_update:' || previous_user_id || '>' || current_user_id, changed_at, waba_id, phone_number_id,
           NULL, previous_user_id, 'user_id_update', wa_id, current_user_id, current_parent_user_id, NULL, detail,
           'user_id_update'
    FROM staging.user_id_updates
)
SELECT message_id, changed_at, waba_id, phone_number_id, coalesce(previous_wa_id, previous_user_id) AS previous_customer_id,
       previous_wa_id, previous_user_id, change_type, new_wa_id, new_user_id, new_parent_user_id, identity_hash,
       system_body, source
FROM (SELECT * FROM system_changes UNION ALL SELECT * FROM rotations)
ORDER BY changed_at, message_id
