-- _conversation_members: one row per delivered message under conversation-based pricing, with the
-- conversation it belongs to: Meta's id when a webhook gave one, else inferred. An inferred conversation
-- opens at the first delivered business message of its category and lasts a fixed 24 hours (72 for a
-- free entry point window) from then; the next delivered message after that opens the next one.
WITH delivered AS (
    SELECT message_id, waba_id, phone_number_id, customer_id, delivered_or_read_at AS event_at, meta_conversation_id,
           CASE WHEN rule_pricing_type = 'free_entry_point' THEN 'free_entry_point' ELSE billed_category END AS conversation_kind,
           CASE WHEN rule_pricing_type = 'free_entry_point' THEN free_entry_point_hours ELSE conversation_hours END AS hours
    FROM _priced_messages
    WHERE billing_unit = 'conversation' AND delivered
), scoped AS (
    -- Meta's ids describe how Meta actually billed; a re-pricing scenario infers its own conversations.
    SELECT * REPLACE (CASE WHEN getvariable('forced_regime') IS NULL THEN meta_conversation_id END AS meta_conversation_id)
    FROM delivered
), inferable AS (
    SELECT *, concat_ws('|', phone_number_id, customer_id, conversation_kind) AS conversation_key
    FROM scoped WHERE meta_conversation_id IS NULL
), opens AS (
    -- One step per conversation a key opens, each found by an as-of join from the previous one's expiry:
    -- set-based over every key at once, never a loop over rows.
    WITH RECURSIVE opened(conversation_key, opened_at, hours) AS (
        SELECT conversation_key, min(event_at), arg_min(hours, event_at) FROM inferable GROUP BY conversation_key
        UNION ALL
        SELECT m.conversation_key, m.event_at, m.hours
        FROM opened o ASOF JOIN inferable m
          ON m.conversation_key = o.conversation_key AND m.event_at >= o.opened_at + to_hours(o.hours)
    )
    SELECT * FROM opened
)
SELECT message_id, meta_conversation_id AS conversation_id, 'meta' AS id_source
FROM scoped WHERE meta_conversation_id IS NOT NULL
UNION ALL
SELECT i.message_id, 'inferred:' || md5(o.conversation_key || '|' || epoch_us(o.opened_at)::VARCHAR) AS conversation_id,
       'inferred' AS id_source
FROM inferable i ASOF JOIN opens o ON i.conversation_key = o.conversation_key AND i.event_at >= o.opened_at
