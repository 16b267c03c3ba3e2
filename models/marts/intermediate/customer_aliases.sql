-- intermediate.customer_aliases: one row per (customer id, alias id, window): an id under which something recorded in the window [valid_from, valid_until) speaks for the same person, read from marts.customer_persons (the one definition of who a customer is and when), so compliance matches the person exactly as the ledger and the growth reach count them. (columns: _intermediate.yml)
WITH tenures AS (
    SELECT customer_id, person_id, coalesce(valid_from, '-infinity'::TIMESTAMPTZ) AS valid_from,
           coalesce(valid_to, 'infinity'::TIMESTAMPTZ) AS valid_until
    FROM {{ ref('customer_persons') }}
), replaced AS (
    -- BSUIDs a rotation or a change replaced (a number that was left is a tenure that ended)
    SELECT DISTINCT previous_user_id AS id FROM {{ ref('identity_changes') }}
    WHERE previous_user_id IS NOT NULL AND new_user_id IS NOT NULL AND new_user_id <> previous_user_id
)
SELECT x.customer_id, y.customer_id AS alias_id,
       CASE WHEN y.customer_id = x.customer_id THEN 'self'
            WHEN y.valid_until < 'infinity'::TIMESTAMPTZ OR y.customer_id IN (SELECT id FROM replaced) THEN 'earlier_id'
            ELSE 'same_person' END AS relation,
       greatest(x.valid_from, y.valid_from) AS valid_from, least(x.valid_until, y.valid_until) AS valid_until
FROM tenures x JOIN tenures y USING (person_id)
WHERE greatest(x.valid_from, y.valid_from) < least(x.valid_until, y.valid_until)
  AND (y.customer_id <> x.customer_id OR y.valid_from = x.valid_from)
