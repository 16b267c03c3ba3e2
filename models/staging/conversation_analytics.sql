-- staging.conversation_analytics: one row per Meta conversation-analytics data point (conversation-based
-- pricing, before 2025-07-01): (WABA, period, granularity, country, business phone number, conversation
-- type, direction, category) with the conversation count and cost Meta reported. Fetched more than once,
-- the latest fetch wins. Cost is NULL when Meta omits it, and is in `currency` (NULL when not given).
-- materialize: table
-- inputs: graph_responses
-- column waba_id: WhatsApp Business Account id.
-- column period_start: Start of the data point's period (UTC).
-- column period_end: End of the period (UTC).
-- column granularity: The granularity asked for (from the request's fields parameter, upper case).
-- column country: The country code Meta reported.
-- column phone_number: The business phone number.
-- column conversation_type: Conversation type, as Meta reported it.
-- column conversation_direction: BUSINESS_INITIATED or USER_INITIATED.
-- column conversation_category: Conversation category.
-- column conversations: Conversation count.
-- column cost: Cost Meta reported; NULL when omitted.
-- column currency: The currency Meta gave beside the data; NULL when not given.
-- column fetched_at: When the response was fetched (UTC).
WITH points AS (
    SELECT load_id, waba_id, fetched_at, response ->> '$.currency' AS currency,
           upper(nullif(regexp_extract(request ->> '$.params.fields', 'granularity\(([A-Za-z_]+)\)', 1), '')) AS granularity,
           unnest(json_extract(response, '$.conversation_analytics.data[*].data_points[*]')) AS point
    FROM raw.graph_responses
    WHERE kind = 'conversation_analytics'
)
SELECT waba_id,
       waba_ts(point ->> '$.start') AS period_start,
       waba_ts(point ->> '$.end') AS period_end,
       granularity,
       point ->> '$.country' AS country,
       point ->> '$.phone_number' AS phone_number,
       lower(point ->> '$.conversation_type') AS conversation_type,
       lower(point ->> '$.conversation_direction') AS conversation_direction,
       lower(point ->> '$.conversation_category') AS conversation_category,
       try_cast(point ->> '$.conversation' AS BIGINT) AS conversations,
       try_cast(point ->> '$.cost' AS DECIMAL(18, 6)) AS cost,
       upper(currency) AS currency,
       fetched_at
FROM points
QUALIFY row_number() OVER (
    PARTITION BY waba_id, period_start, period_end, granularity, country, phone_number, conversation_type,
                 conversation_direction, conversation_category
    ORDER BY fetched_at DESC, load_id DESC) = 1
ORDER BY waba_id, period_start, country, phone_number, conversation_type, conversation_direction, conversation_category
