-- _customer_aliases: one row per (customer id, alias id): an id under which something recorded speaks for
-- the same person, and until when it does.
--   self         the customer id itself, for ever;
--   same_person  a wa_id <-> business-scoped user id pair Meta named together (a consent recorded under
--                the phone number covers the person seen only by user id, and the other way round), up to
--                the pair's valid_to in staging.customer_identities;
--   earlier_id   the id the person had before a number or user-id change, up to that change only: what is
--                recorded under that id afterwards belongs to whoever holds the number now.
-- Links and changes chain (a second number change, the user id of an earlier number), so this is a
-- recursive walk; a change step only ever moves valid_until earlier, which bounds it.
WITH RECURSIVE ids AS (
    SELECT customer_id FROM marts.message_ledger
    UNION SELECT customer_id FROM staging.optin_events
    UNION SELECT customer_id FROM staging.user_preferences
    -- senders of texts: a chat keyword is recorded under them
    UNION SELECT customer_id FROM staging.inbound_messages WHERE message_type = 'text'
    UNION SELECT wa_id FROM staging.customer_identities
    UNION SELECT user_id FROM staging.customer_identities
    UNION SELECT unnest([previous_customer_id, previous_wa_id, previous_user_id, new_wa_id, new_user_id])
          FROM staging.identity_changes
), links AS (
    -- a pair holds only until its valid_to (a number passing to a new owner ends it): a recycled number's
    -- new owner must not inherit what the old owner recorded under the old pair after that
    SELECT wa_id AS id, user_id AS other_id, valid_to FROM staging.customer_identities
    UNION SELECT user_id, wa_id, valid_to FROM staging.customer_identities
), earlier AS (
    -- new id -> the id it replaced, at the change
    SELECT new_wa_id AS id, previous_wa_id AS earlier_id, changed_at FROM staging.identity_changes
    WHERE new_wa_id IS NOT NULL AND previous_wa_id IS NOT NULL AND new_wa_id <> previous_wa_id
    UNION
    SELECT new_user_id, previous_user_id, changed_at FROM staging.identity_changes
    WHERE new_user_id IS NOT NULL AND previous_user_id IS NOT NULL AND new_user_id <> previous_user_id
), steps AS (
    SELECT id, other_id, 'same_person' AS relation, valid_to AS changed_at FROM links
    UNION ALL
    SELECT id, earlier_id, 'earlier_id', changed_at FROM earlier
), aliases (customer_id, alias_id, relation, valid_until) AS (
    SELECT customer_id, customer_id, 'self', 'infinity'::TIMESTAMPTZ FROM ids WHERE customer_id IS NOT NULL
    UNION
    SELECT a.customer_id, s.other_id, s.relation, coalesce(s.changed_at, a.valid_until)
    FROM aliases a JOIN steps s ON s.id = a.alias_id AND (s.changed_at IS NULL OR s.changed_at < a.valid_until)
)
-- Several paths can reach one alias: keep the widest window, and the closest relation on a tie.
SELECT customer_id, alias_id, relation, valid_until
FROM aliases
QUALIFY row_number() OVER (PARTITION BY customer_id, alias_id
                           ORDER BY valid_until DESC, CASE relation WHEN 'self' THEN 0 WHEN 'same_person' THEN 1 ELSE 2 END) = 1
