-- staging.customer_identities: the identity map: one row per (wa_id, business-scoped user id) pair Meta
-- named together, so a customer known only by BSUID is joined to what was recorded under the phone
-- number, with the window in which the pair held. Pairs come from contacts on messages, statuses,
-- user_preferences and calls webhooks, from message senders, from the new ids a user_changed_user_id or
-- user_changed_number system message names together, and from user_id_update (the current BSUID with the
-- number). A BSUID-only sighting (no wa_id) forms no pair: it links nothing by itself, but its username and
-- parent BSUID fill the pair of that BSUID. Several BSUIDs of one person (a rotation) are chained by
-- staging.identity_changes, not here.
-- A number that moves to a new owner is never merged with the old owner: a pair ends (valid_to) at the first
-- change that retires its number or its BSUID, and the new owner's pair (same number, new BSUID) is its own
-- row, valid from when it was first seen.
-- materialize: table
-- inputs: webhooks
-- column wa_id: The customer's phone number.
-- column user_id: The customer's business-scoped user id (BSUID) seen with it.
-- column parent_user_id: The parent BSUID, when the business enabled parent BSUIDs (latest seen for this BSUID).
-- column username: The customer's WhatsApp username, latest seen for this BSUID (BSUID-only sightings included).
-- column first_seen_at: First time the pair was seen (UTC).
-- column last_seen_at: Last time the pair was seen (UTC).
-- column valid_from: Start of the window in which the pair identifies one person (= first_seen_at).
-- column valid_to: When the pair stopped holding: the first later number change, BSUID change or rotation
-- that retired its number or its BSUID; NULL while it holds.
-- column link_sources: Where the pair was seen: contact, message, system_message, user_id_update (sorted).
WITH pairs AS (
    SELECT wa_id, user_id, seen_at, 'contact' AS source FROM staging.webhook_contacts
    WHERE wa_id IS NOT NULL AND user_id IS NOT NULL
    UNION ALL
    SELECT from_wa_id, from_user_id, sent_at, 'message' FROM staging.inbound_messages
    -- System messages announce identity changes: their sender ids straddle the change, so they link nothing.
    WHERE from_wa_id IS NOT NULL AND from_user_id IS NOT NULL AND message_type <> 'system'
    UNION ALL
    -- The ids after a change belong together (user_changed_user_id names the new number and BSUID; a
    -- user_id_update the current number and new BSUID).
    SELECT new_wa_id, new_user_id, changed_at, source FROM staging.identity_changes
    WHERE new_wa_id IS NOT NULL AND new_user_id IS NOT NULL
), profile AS (
    -- Latest username and parent BSUID per BSUID, wherever it was seen (BSUID-only contacts included).
    SELECT user_id,
           arg_max(username, (seen_at, _load_id, _line_no)) FILTER (WHERE username IS NOT NULL) AS username,
           arg_max(parent_user_id, (seen_at, _load_id, _line_no)) FILTER (WHERE parent_user_id IS NOT NULL) AS parent_user_id
    FROM staging.webhook_contacts GROUP BY user_id
), linked AS (
    SELECT wa_id, user_id, min(seen_at) AS first_seen_at, max(seen_at) AS last_seen_at,
           list_sort(list_distinct(list(source))) AS link_sources
    FROM pairs GROUP BY wa_id, user_id
), retired AS (
    -- A change retires the number it moved away from and the BSUID it replaced.
    SELECT previous_wa_id AS id, changed_at FROM staging.identity_changes
    WHERE previous_wa_id IS NOT NULL AND new_wa_id IS NOT NULL AND new_wa_id <> previous_wa_id
    UNION ALL
    SELECT previous_user_id, changed_at FROM staging.identity_changes
    WHERE previous_user_id IS NOT NULL AND new_user_id IS NOT NULL AND new_user_id <> previous_user_id
)
SELECT l.wa_id, l.user_id, p.parent_user_id, p.username, l.first_seen_at, l.last_seen_at,
       l.first_seen_at AS valid_from,
       (SELECT min(r.changed_at) FROM retired r WHERE r.id IN (l.wa_id, l.user_id) AND r.changed_at > l.first_seen_at) AS valid_to,
       l.link_sources
FROM linked l LEFT JOIN profile p USING (user_id)
ORDER BY first_seen_at, wa_id, user_id
