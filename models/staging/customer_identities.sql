-- staging.customer_identities: one row per (wa_id, business-scoped user id) pair seen together, so a
-- customer known only by user id can be joined to what was recorded under the phone number.
-- materialize: table
-- inputs: webhooks
WITH pairs AS (
    SELECT wa_id, user_id, parent_user_id, seen_at FROM staging.webhook_contacts
    UNION ALL
    SELECT from_wa_id, from_user_id, NULL, sent_at FROM staging.inbound_messages
    -- System messages announce identity changes: their ids straddle the change, so they link nothing.
    WHERE from_wa_id IS NOT NULL AND from_user_id IS NOT NULL AND message_type <> 'system'
)
SELECT wa_id, user_id, any_value(parent_user_id) AS parent_user_id,
       min(seen_at) AS first_seen_at, max(seen_at) AS last_seen_at
FROM pairs
GROUP BY wa_id, user_id
ORDER BY first_seen_at
