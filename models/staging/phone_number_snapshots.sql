WITH csv AS (
    SELECT snapshot_at, waba_id, phone_number_id, display_phone_number, quality_rating, messaging_limit, status,
           NULL::VARCHAR AS verified_name, NULL::VARCHAR AS name_status, NULL::VARCHAR AS throughput_level,
           'csv' AS source, load_id, line_no
    FROM {{ source('raw', 'phone_number_snapshots') }}
), graph_numbers AS (
    SELECT fetched_at, waba_id, load_id, unnest(json_extract(response, '$.data[*]')) AS n
    FROM {{ source('raw', 'graph_responses') }}
    WHERE kind = 'phone_numbers'
), graph AS (
    SELECT fetched_at AS snapshot_at, waba_id, n ->> '$.id' AS phone_number_id,
           n ->> '$.display_phone_number' AS display_phone_number, n ->> '$.quality_rating' AS quality_rating,
           -- Documented as a string like TIER_2K; anything else is kept as its JSON text.
           coalesce(CASE WHEN json_type(n, '$.whatsapp_business_manager_messaging_limit') = 'VARCHAR'
                         THEN n ->> '$.whatsapp_business_manager_messaging_limit'
                         ELSE json_extract(n, '$.whatsapp_business_manager_messaging_limit')::VARCHAR END,
                    n ->> '$.messaging_limit_tier') AS messaging_limit,
           n ->> '$.status' AS status, n ->> '$.verified_name' AS verified_name,
           upper(n ->> '$.name_status') AS name_status, upper(n ->> '$.throughput.level') AS throughput_level,
           'graph_api' AS source, load_id, 1 AS line_no
    FROM graph_numbers
)
SELECT snapshot_at, waba_id, phone_number_id, display_phone_number, upper(quality_rating) AS quality_rating,
       messaging_limit, upper(status) AS status, verified_name, name_status, throughput_level, source
FROM (SELECT * FROM csv UNION ALL SELECT * FROM graph)
WHERE phone_number_id IS NOT NULL
QUALIFY row_number() OVER (PARTITION BY phone_number_id, snapshot_at ORDER BY load_id DESC, line_no) = 1
ORDER BY snapshot_at, phone_number_id
