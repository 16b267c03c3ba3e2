-- One row per conversation-billed delivery and the conversation it belongs to; docs: _intermediate.yml
WITH delivered AS (
    SELECT message_id, waba_id, phone_number_id, customer_id, delivered_or_read_at AS event_at, meta_conversation_id,
           CASE WHEN rule_pricing_type = 'free_entry_point' THEN 'free_entry_point' ELSE billed_category END AS conversation_kind,
           CASE WHEN rule_pricing_type = 'free_entry_point' THEN free_entry_point_hours ELSE conversation_hours END AS hours
    FROM {{ ref('priced_messages') }}
    WHERE billing_unit = 'conversation' AND delivered
), scoped AS (
    -- Meta's ids describe how Meta actually billed; a re-pricing scenario infers its own conversations.
    SELECT * REPLACE (CASE WHEN {{ waba_var('forced_regime') }} IS NULL THEN meta_conversation_id END AS meta_conversation_id)
    FROM delivered
), keyed AS (
    SELECT *, concat_ws('|', phone_number_id, customer_id, conversation_kind) AS conversation_key
    FROM scoped WHERE meta_conversation_id IS NULL
), inferable AS (
    -- Template conversations (and 2022's business- and user-initiated ones) open independently per category.
    SELECT * FROM keyed WHERE conversation_kind <> 'service'
), opens AS (
    {{ conversation_opens('inferable') }}
), open_intervals AS (
    SELECT o.*, k.phone_number_id, k.customer_id,
           'inferred:' || md5(o.conversation_key || '|' || epoch_us(o.opened_at)::VARCHAR) AS conversation_id
    FROM opens o JOIN (SELECT DISTINCT conversation_key, phone_number_id, customer_id FROM inferable) k USING (conversation_key)
), template_members AS (
    SELECT i.message_id, o.conversation_id
    FROM inferable i ASOF JOIN open_intervals o ON i.conversation_key = o.conversation_key AND i.event_at >= o.opened_at
), service_messages AS (
    SELECT * FROM keyed WHERE conversation_kind = 'service'
), covered AS (
    -- A service message delivered while a conversation of any category is open joins it: Meta opens a service
    -- conversation only when none is open (Meta, Conversation-based pricing, Dec 2025 copy).
    SELECT s.message_id, arg_min(o.conversation_id, (o.opened_at, o.conversation_key)) AS conversation_id
    FROM service_messages s JOIN open_intervals o
      ON o.phone_number_id IS NOT DISTINCT FROM s.phone_number_id AND o.customer_id IS NOT DISTINCT FROM s.customer_id
     AND s.event_at >= o.opened_at AND s.event_at < o.opened_at + to_hours(o.hours)
    GROUP BY s.message_id
), service_inferable AS (
    SELECT * FROM service_messages WHERE message_id NOT IN (SELECT message_id FROM covered)
), service_opens AS (
    {{ conversation_opens('service_inferable') }}
)
SELECT message_id, meta_conversation_id AS conversation_id, 'meta' AS id_source
FROM scoped WHERE meta_conversation_id IS NOT NULL
UNION ALL
SELECT message_id, conversation_id, 'inferred' AS id_source FROM template_members
UNION ALL
SELECT message_id, conversation_id, 'inferred' AS id_source FROM covered
UNION ALL
SELECT i.message_id, 'inferred:' || md5(o.conversation_key || '|' || epoch_us(o.opened_at)::VARCHAR) AS conversation_id,
       'inferred' AS id_source
FROM service_inferable i ASOF JOIN service_opens o ON i.conversation_key = o.conversation_key AND i.event_at >= o.opened_at
