-- marts.phone_number_health_daily: one row per business phone number per UTC day, from the day it was first seen to the last day of data: its quality rating, status, messaging limit and throughput as known at the end of the day, the limit events of the day and what it sent. (columns: _marts.yml)
WITH phones AS (
    SELECT p.*, a.business_portfolio_id FROM {{ ref('phone_numbers') }} p LEFT JOIN {{ ref('accounts') }} a USING (waba_id)
), grid AS (
    SELECT p.phone_number_id, p.digits, p.waba_id, p.business_portfolio_id,
           unnest(generate_series(greatest(c.first_day, p.first_seen_at::DATE), c.last_day, INTERVAL 1 DAY))::DATE AS day
    FROM phones p, {{ ref('growth_calendar') }} c
), events AS (
    SELECT p.phone_number_id, e.*
    FROM {{ ref('phone_number_quality_events') }} e JOIN phones p ON p.digits = regexp_replace(e.display_phone_number, '[^0-9]', '', 'g')
), implied AS (
    -- What a pre-2025-10 quality event says about the number's rating and status.
    SELECT * FROM (VALUES ('FLAGGED', 'RED', 'FLAGGED'), ('UNFLAGGED', 'YELLOW', 'CONNECTED'), ('DOWNGRADE', NULL, 'CONNECTED'))
        t(event, quality_rating, status)
), ratings AS (
    SELECT phone_number_id, snapshot_at AS at, quality_rating, 'snapshot' AS stated_by FROM {{ ref('phone_number_snapshots') }}
    WHERE quality_rating IS NOT NULL
    UNION ALL
    SELECT e.phone_number_id, e.event_at, i.quality_rating, e.event FROM events e JOIN implied i USING (event)
    WHERE i.quality_rating IS NOT NULL
), statuses AS (
    SELECT phone_number_id, snapshot_at AS at, status FROM {{ ref('phone_number_snapshots') }} WHERE status IS NOT NULL
    UNION ALL
    SELECT e.phone_number_id, e.event_at, i.status FROM events e JOIN implied i USING (event)
), limits AS (
    SELECT scope_id AS phone_number_id, stated_at AS at, value, daily_limit, unlimited
    FROM {{ ref('limit_statements') }} WHERE scope = 'phone_number'
), throughput AS (
    SELECT phone_number_id, min(event_at) AS at FROM events WHERE event = 'THROUGHPUT_UPGRADE' GROUP BY ALL
), day_events AS (
    SELECT phone_number_id, event_at::DATE AS day,
           list(event || coalesce(' ' || coalesce(old_limit, '?') || ' -> ' || coalesce(current_limit, max_daily_conversations_per_business), '')
                ORDER BY event_at) AS limit_events
    FROM events GROUP BY ALL
), restriction_sets AS (
    SELECT waba_id, event_at AS at,
           list_transform(coalesce(from_json(restriction_info, '[{"restriction_type": "VARCHAR", "expiration": "VARCHAR"}]'), []),
                          r -> {'restriction_type': r.restriction_type, 'expires_at': waba_ts(r.expiration)}) AS restrictions
    FROM {{ ref('account_update_events') }} WHERE event = 'ACCOUNT_RESTRICTION'
), sent AS (
    SELECT phone_number_id, sent_at::DATE AS day, count(*) AS messages_sent,
           count(*) FILTER (final_status = 'failed') AS failed
    FROM {{ ref('message_ledger') }} GROUP BY ALL
), business_initiated AS (
    SELECT phone_number_id, sent_at::DATE AS day, count(*) AS business_initiated_sent FROM {{ ref('business_initiated_sends') }} GROUP BY ALL
), per_second AS (
    SELECT phone_number_id, day, max(n) AS peak_sends_per_second
    FROM (SELECT phone_number_id, sent_at::DATE AS day, count(*) AS n FROM {{ ref('message_ledger') }}
          GROUP BY phone_number_id, date_trunc('second', sent_at), day)
    GROUP BY ALL
)
SELECT g.day, g.phone_number_id, g.digits AS display_phone_number, g.waba_id, g.business_portfolio_id,
       r.quality_rating, r.stated_by AS quality_stated_by, s.status,
       l.value AS messaging_limit, l.daily_limit, coalesce(l.unlimited, false) AS unlimited,
       CASE WHEN t.at < (g.day + 1)::TIMESTAMPTZ THEN 'HIGH' ELSE 'STANDARD' END AS throughput_level,
       coalesce(de.limit_events, []) AS limit_events,
       coalesce(list_transform(list_filter(rs.restrictions, x -> x.expires_at IS NULL OR x.expires_at >= g.day::TIMESTAMPTZ),
                               x -> x.restriction_type), []) AS restrictions,
       coalesce(m.messages_sent, 0) AS messages_sent, coalesce(b.business_initiated_sent, 0) AS business_initiated_sent,
       coalesce(m.failed, 0) AS failed, coalesce(ps.peak_sends_per_second, 0) AS peak_sends_per_second
FROM grid g
ASOF LEFT JOIN ratings r ON r.phone_number_id = g.phone_number_id AND (g.day + 1)::TIMESTAMPTZ > r.at
ASOF LEFT JOIN statuses s ON s.phone_number_id = g.phone_number_id AND (g.day + 1)::TIMESTAMPTZ > s.at
ASOF LEFT JOIN limits l ON l.phone_number_id = g.phone_number_id AND (g.day + 1)::TIMESTAMPTZ > l.at
ASOF LEFT JOIN restriction_sets rs ON rs.waba_id = g.waba_id AND (g.day + 1)::TIMESTAMPTZ > rs.at
LEFT JOIN throughput t ON t.phone_number_id = g.phone_number_id
LEFT JOIN day_events de ON de.phone_number_id = g.phone_number_id AND de.day = g.day
LEFT JOIN sent m ON m.phone_number_id = g.phone_number_id AND m.day = g.day
LEFT JOIN business_initiated b ON b.phone_number_id = g.phone_number_id AND b.day = g.day
LEFT JOIN per_second ps ON ps.phone_number_id = g.phone_number_id AND ps.day = g.day
ORDER BY g.phone_number_id, g.day
