-- staging.template_analytics: one row per (WABA, template, day, product type) from Meta's template analytics:
-- messages sent, delivered and read, button clicks (the sum over buttons; NULL when Meta gave no clicks
-- list) and the amount spent (NULL when Meta omits it, as it does with no spend). Fetched more than
-- once, the latest fetch wins. Reads and clicks are counted only for 7 days after sending.
-- materialize: table
-- inputs: graph_responses
-- column waba_id: WhatsApp Business Account id.
-- column template_id: The template's id (message_template_id, as text).
-- column period_start: Start of the day (UTC).
-- column period_end: End of the day (UTC).
-- column product_type: Product type (lower case).
-- column sent: Messages sent.
-- column delivered: Messages delivered.
-- column read: Messages read (counted for 7 days after sending).
-- column clicked: Button clicks, summed over buttons; NULL when Meta gave no clicks list.
-- column cost: Amount spent; NULL when Meta omits it.
-- column fetched_at: When the response was fetched (UTC).
WITH blocks AS (
    SELECT load_id, waba_id, fetched_at, unnest(json_extract(response, '$.data[*]')) AS block
    FROM raw.graph_responses
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
