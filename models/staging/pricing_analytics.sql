-- staging.pricing_analytics: one row per Meta pricing-analytics data point: (WABA, period, granularity,
-- country, business phone number, pricing type, pricing category, volume tier) with the delivered-message
-- volume and cost Meta reported. Fetched more than once, the latest fetch wins. Meta's figures are
-- approximate; cost is NULL when Meta omits it (e.g. WABAs on a Solution Partner's credit line) and is
-- in `currency`, the WABA's currency as Meta gave it beside the data (NULL when not asked for).
-- materialize: table
-- inputs: graph_responses
-- column waba_id: WhatsApp Business Account id.
-- column period_start: Start of the data point's period (UTC).
-- column period_end: End of the period (UTC).
-- column granularity: The granularity asked for (from the request's fields parameter, upper case).
-- column country: The country code Meta reported.
-- column phone_number: The business phone number.
-- column pricing_type: Pricing type, as Meta reported it.
-- column pricing_category: Pricing category.
-- column tier: The volume tier, as sent.
-- column volume: Delivered messages.
-- column cost: Cost Meta reported, in currency; NULL when omitted.
-- column currency: The WABA's currency as Meta gave it; NULL when not asked for.
-- column fetched_at: When the response was fetched (UTC).
WITH points AS (
    SELECT load_id, waba_id, fetched_at, response ->> '$.currency' AS currency,
           upper(nullif(regexp_extract(request ->> '$.params.fields', 'granularity\(([A-Za-z_]+)\)', 1), '')) AS granularity,
           unnest(json_extract(response, '$.pricing_analytics.data[*].data_points[*]')) AS point
    FROM raw.graph_responses
    WHERE kind = 'pricing_analytics'
)
SELECT waba_id,
       waba_ts(point ->> '$.start') AS period_start,
       waba_ts(point ->> '$.end') AS period_end,
       granularity,
       point ->> '$.country' AS country,
       point ->> '$.phone_number' AS phone_number,
       lower(point ->> '$.pricing_type') AS pricing_type,
       lower(point ->> '$.pricing_category') AS pricing_category,
       point ->> '$.tier' AS tier,
       try_cast(point ->> '$.volume' AS BIGINT) AS volume,
       try_cast(point ->> '$.cost' AS DECIMAL(18, 6)) AS cost,
       upper(currency) AS currency,
       fetched_at
FROM points
QUALIFY row_number() OVER (
    PARTITION BY waba_id, period_start, period_end, granularity, country, phone_number, pricing_type, pricing_category, tier
    ORDER BY fetched_at DESC, load_id DESC) = 1
ORDER BY waba_id, period_start, country, phone_number, pricing_type, pricing_category, tier
