-- marts.spend_daily: one row per local day (WABA timezone), WABA, phone number, market, category, pricing model, pricing type and currency, summing the message ledger. (columns: _marts.yml)
SELECT l.local_sent_date AS day, l.waba_id, l.phone_number_id, l.market,
       l.category, l.pricing_model, l.pricing_type,
       count(*) AS messages,
       count(*) FILTER (l.is_delivered AND l.failed_at IS NULL) AS delivered,
       coalesce(sum(l.charged_units), 0)::BIGINT AS billable_units,
       coalesce(sum(l.charged_units) FILTER (l.charge IS NULL), 0)::BIGINT AS unpriced_units,
       coalesce(sum(l.charge), 0)::DECIMAL(18, 6) AS charge,
       coalesce(sum(l.charged_units) FILTER (l.rate_verification = 'unverified'), 0)::BIGINT AS unverified_units,
       coalesce(sum(l.charge) FILTER (l.rate_verification = 'unverified'), 0)::DECIMAL(18, 6) AS unverified_charge, l.currency
FROM {{ ref('message_ledger') }} l
WHERE {{ in_rebuild_months('l.local_month') }}
GROUP BY ALL
ORDER BY day, waba_id, phone_number_id, market, category, pricing_type
