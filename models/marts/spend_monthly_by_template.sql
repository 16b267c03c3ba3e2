-- marts.spend_monthly_by_template: one row per local month, WABA, template (name and language), category and
-- currency: what each template was sent, delivered and cost.
-- column month: First day of the local month (WABA timezone).
-- column waba_id: WhatsApp Business Account.
-- column template_name: Template name from the send log (NULL: messages with no template in the log).
-- column template_language: Template language.
-- column category: Message category (as in marts.message_ledger.category).
-- column messages: Messages sent.
-- column delivered: Messages delivered (or read), not failed.
-- column failed: Messages that failed.
-- column billable_units: Units charged (see marts.spend_daily).
-- column charge: Sum of charges.
-- column cost_per_delivered: charge / delivered (NULL when nothing was delivered).
-- column currency: Currency of the charge.
SELECT date_trunc('month', (l.sent_at AT TIME ZONE coalesce(a.timezone, 'UTC'))::DATE)::DATE AS month, l.waba_id,
       l.template_name, l.template_language, l.category,
       count(*) AS messages,
       count(*) FILTER (l.failed_at IS NULL AND coalesce(l.delivered_at, l.read_at) IS NOT NULL) AS delivered,
       count(*) FILTER (l.failed_at IS NOT NULL) AS failed,
       coalesce(sum(l.charged_units), 0)::BIGINT AS billable_units,
       coalesce(sum(l.charge), 0)::DECIMAL(18, 6) AS charge,
       (coalesce(sum(l.charge), 0) / nullif(count(*) FILTER (l.failed_at IS NULL AND coalesce(l.delivered_at, l.read_at) IS NOT NULL), 0))::DECIMAL(18, 6) AS cost_per_delivered,
       l.currency
FROM marts.message_ledger l LEFT JOIN staging.accounts a USING (waba_id)
WHERE l.template_name IS NOT NULL OR l.message_type = 'template'
GROUP BY ALL
ORDER BY month, waba_id, template_name, template_language
