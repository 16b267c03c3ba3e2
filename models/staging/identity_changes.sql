WITH types AS (
    SELECT value FROM read_csv('{{ reference_csv('webhook_vocabulary.csv') }}', header = true, all_varchar = true)
    WHERE vocabulary = 'system_type'
), system_changes AS (
    SELECT message_id, sent_at AS changed_at, waba_id, phone_number_id,
           coalesce(from_wa_id, system_previous_wa_id) AS previous_wa_id,
           coalesce(CASE WHEN from_user_id IS DISTINCT FROM system_new_user_id THEN from_user_id END,
                    CASE WHEN system_type = 'user_changed_user_id'
                         THEN nullif(regexp_extract(system_body, 'changed from (\S+) to \S+', 1), '') END) AS previous_user_id,
           system_type AS change_type, system_new_wa_id AS new_wa_id, system_new_user_id AS new_user_id,
           system_new_parent_user_id AS new_parent_user_id, identity_hash, system_body, 'system_message' AS source
    FROM {{ ref('inbound_messages') }}
    WHERE message_type = 'system' AND system_type IN (SELECT value FROM types)
), rotations AS (
    SELECT 'user_id_update:' || previous_user_id || '>' || current_user_id, changed_at, waba_id, phone_number_id,
           NULL, previous_user_id, 'user_id_update', wa_id, current_user_id, current_parent_user_id, NULL, detail,
           'user_id_update'
    FROM {{ ref('user_id_updates') }}
)
SELECT message_id, changed_at, waba_id, phone_number_id, coalesce(previous_wa_id, previous_user_id) AS previous_customer_id,
       previous_wa_id, previous_user_id, change_type, new_wa_id, new_user_id, new_parent_user_id, identity_hash,
       system_body, source
FROM (SELECT * FROM system_changes UNION ALL SELECT * FROM rotations)
ORDER BY changed_at, message_id
