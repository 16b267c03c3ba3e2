WITH blocks AS (
    SELECT load_id, waba_id, fetched_at, unnest(json_extract(response, '$.data[*]')) AS block
    FROM {{ source('raw', 'graph_responses') }}
    WHERE kind = 'template_analytics'
), points AS (
    SELECT load_id, waba_id, fetched_at, lower(block ->> '$.product_type') AS product_type,
           unnest(json_extract(block, '$.data_points[*]')) AS point
    FROM blocks
), typed AS (
    SELECT *, try(json_transform(point -> '$.clicked', '[{"count": "VARCHAR"}]')) AS clicks,
           try(json_transform(point -> '$.cost', '[{"type": "VARCHAR", "value": "VARCHAR"}]')) AS costs
    FROM points
)
SELECT waba_id,
       point ->> '$.template_id' AS template_id,
       waba_ts(point ->> '$.start') AS period_start,
       waba_ts(point ->> '$.end') AS period_end,
       product_type,
       try_cast(point ->> '$.sent' AS BIGINT) AS sent,
       try_cast(point ->> '$.delivered' AS BIGINT) AS delivered,
       try_cast(point ->> '$.read' AS BIGINT) AS read,
       CASE WHEN clicks IS NOT NULL THEN coalesce(list_sum(list_transform(clicks, c -> try_cast(c.count AS BIGINT))), 0) END AS clicked,
       try_cast(list_filter(costs, c -> c.type = 'amount_spent')[1].value AS DECIMAL(18, 6)) AS cost,
       fetched_at
FROM typed
QUALIFY row_number() OVER (
    PARTITION BY waba_id, template_id, period_start, period_end, product_type ORDER BY fetched_at DESC, load_id DESC) = 1
ORDER BY waba_id, template_id, period_start, product_type
