WITH points AS (
    SELECT load_id, waba_id, fetched_at, response ->> '$.currency' AS currency,
           upper(nullif(regexp_extract(request ->> '$.params.fields', 'granularity\(([A-Za-z_]+)\)', 1), '')) AS granularity,
           unnest(json_extract(response, '$.conversation_analytics.data[*].data_points[*]')) AS point
    FROM {{ source('raw', 'graph_responses') }}
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
