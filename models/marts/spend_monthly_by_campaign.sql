-- marts.spend_monthly_by_campaign: one row per local month, WABA, campaign (from the send log), category and currency: what each campaign sent, delivered and cost. (columns: _marts.yml)
SELECT l.local_month AS month, l.waba_id,
       l.campaign, l.category,
       count(*) AS messages,
       count(*) FILTER (l.is_delivered AND l.failed_at IS NULL) AS delivered,
       count(*) FILTER (l.failed_at IS NOT NULL) AS failed,
       coalesce(sum(l.charged_units), 0)::BIGINT AS billable_units,
       coalesce(sum(l.charge), 0)::DECIMAL(18, 6) AS charge,
       (coalesce(sum(l.charge), 0) / nullif(count(*) FILTER (l.is_delivered AND l.failed_at IS NULL), 0))::DECIMAL(18, 6) AS cost_per_delivered,
       l.currency
FROM {{ ref('message_ledger') }} l
WHERE {{ in_rebuild_months('l.local_month') }}
GROUP BY ALL
ORDER BY month, waba_id, campaign, category, currency
