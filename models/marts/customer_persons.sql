-- marts.customer_persons: which person a customer id stands for, and when: one row per (customer id, tenure), the one definition every mart uses to count or match a person (the ledger's, the growth reach's and the compliance marts' person_id). (columns: _marts.yml)
WITH RECURSIVE seen AS (
    -- Every customer id the warehouse records, with when it was first seen.
    SELECT customer_id AS id, min(sent_at) AS seen_at FROM {{ ref('inbound_messages') }} WHERE customer_id IS NOT NULL GROUP BY ALL
    UNION ALL SELECT customer_id, min(status_at) FROM {{ ref('message_statuses') }} WHERE customer_id IS NOT NULL GROUP BY ALL
    UNION ALL SELECT recipient_id, min(sent_at) FROM {{ ref('message_log') }} WHERE recipient_id IS NOT NULL GROUP BY ALL
    UNION ALL SELECT customer_id, min(event_at) FROM {{ ref('optin_events') }} WHERE customer_id IS NOT NULL GROUP BY ALL
    UNION ALL SELECT customer_id, min(changed_at) FROM {{ ref('user_preferences') }} WHERE customer_id IS NOT NULL GROUP BY ALL
    UNION ALL SELECT customer_id, min(first_event_at) FROM {{ ref('calls') }} WHERE customer_id IS NOT NULL GROUP BY ALL
    UNION ALL SELECT unnest([wa_id, user_id]), first_seen_at FROM {{ ref('customer_identities') }}
    UNION ALL SELECT unnest([previous_wa_id, previous_user_id, new_wa_id, new_user_id]), changed_at FROM {{ ref('identity_changes') }}
), ids AS (
    SELECT id, min(seen_at) AS seen_at,
           CASE WHEN regexp_matches(id, '^[A-Za-z]{2}\.') THEN 'user_id' ELSE 'wa_id' END AS id_kind
    FROM seen WHERE id IS NOT NULL GROUP BY id
), moves AS (
    -- A change that names a different new number: the old number's holder moved away.
    SELECT DISTINCT previous_wa_id AS id, changed_at FROM {{ ref('identity_changes') }}
    WHERE previous_wa_id IS NOT NULL AND new_wa_id IS NOT NULL AND new_wa_id <> previous_wa_id
), bounds AS (
    SELECT i.id, i.id_kind, i.seen_at, m.changed_at AS valid_to,
           lag(m.changed_at) OVER (PARTITION BY i.id ORDER BY m.changed_at NULLS LAST) AS valid_from,
           row_number() OVER (PARTITION BY i.id ORDER BY m.changed_at NULLS LAST) AS tenure
    FROM ids i LEFT JOIN (SELECT id, changed_at FROM moves UNION ALL SELECT id, NULL FROM moves GROUP BY id) m
      ON m.id = i.id AND i.id_kind = 'wa_id'
), tenures AS (
    SELECT id, id_kind, tenure, valid_from, valid_to,
           CASE WHEN tenure = 1 THEN id ELSE id || '#' || tenure END AS node,
           -- a later tenure starts with the move; the first carries the id's first sighting
           CASE WHEN tenure > 1 THEN valid_from WHEN valid_to < seen_at THEN valid_to ELSE seen_at END AS node_seen_at
    FROM bounds
), edges AS (
    -- a pair joins the BSUID to the number's tenure in which it was first seen
    SELECT t.node AS a, u.node AS b
    FROM {{ ref('customer_identities') }} c
    JOIN tenures t ON t.id = c.wa_id AND (t.valid_from IS NULL OR c.first_seen_at >= t.valid_from)
                  AND (t.valid_to IS NULL OR c.first_seen_at < t.valid_to)
    JOIN tenures u ON u.id = c.user_id
    UNION ALL
    -- a change joins the ids before it (the BSUID, the number's tenure that ended with it) to the ids after it
    -- (the new BSUID, the new number's tenure from the change): a rotation or a number change of one person
    SELECT p.node, n.node
    FROM {{ ref('identity_changes') }} c, unnest([c.previous_wa_id, c.previous_user_id]) AS b(previous_id),
         unnest([c.new_wa_id, c.new_user_id]) AS f(new_id)
    JOIN tenures p ON p.id = b.previous_id
                  AND (p.valid_from IS NULL OR c.changed_at > p.valid_from) AND (p.valid_to IS NULL OR c.changed_at <= p.valid_to)
    JOIN tenures n ON n.id = f.new_id
                  AND (n.valid_from IS NULL OR c.changed_at >= n.valid_from) AND (n.valid_to IS NULL OR c.changed_at < n.valid_to)
), links AS (
    SELECT a, b FROM edges WHERE a <> b UNION SELECT b, a FROM edges WHERE a <> b
), reach (node, other) AS (
    -- connected components: every node reaches itself and, link by link, every node of its person
    SELECT node, node FROM tenures
    UNION
    SELECT r.node, l.b FROM reach r JOIN links l ON l.a = r.other
), persons AS (
    SELECT r.node, arg_min(t.node, (t.node_seen_at, t.node)) AS person_id, min(t.node_seen_at) AS person_first_seen_at
    FROM reach r JOIN tenures t ON t.node = r.other
    GROUP BY r.node
)
SELECT t.id AS customer_id, t.id_kind, t.tenure, t.valid_from, t.valid_to, p.person_id, p.person_first_seen_at
FROM tenures t JOIN persons p USING (node)
ORDER BY customer_id, tenure
