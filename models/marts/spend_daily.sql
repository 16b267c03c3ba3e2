-- marts.spend_daily: one row per local day (WABA timezone), WABA, phone number, market, category, pricing
-- model, pricing type and currency, summing the message ledger.
-- column day: Local date of the send in the WABA's timezone.
-- column waba_id: WhatsApp Business Account.
-- column phone_number_id: Business phone number.
-- column market: Meta pricing market of the recipients.
-- column category: Message category (as in marts.message_ledger.category).
-- column pricing_model: 'CBP' or 'PMP'.
-- column pricing_type: regular, free_customer_service, free_entry_point or free_tier.
-- column messages: Outbound messages sent.
-- column delivered: Messages delivered (or read without a delivered status), not failed.
-- column billable_units: Units charged: billable messages (PMP), billable conversations opened (CBP) and charged group deliveries (marts.message_ledger.charged_units).
-- column unpriced_units: Billable units the rate card had no rate for (their charge is unknown, not zero).
-- column charge: Sum of charges.
-- column unverified_units: Charged units priced from a bundled rate-card row marked unverified (no source found for its figure).
-- column unverified_charge: Part of charge that rests on unverified rate-card rows.
-- column currency: Currency of the charge (rows never mix currencies).
SELECT (l.sent_at AT TIME ZONE coalesce(a.timezone, 'UTC'))::DATE AS day, l.waba_id, l.phone_number_id, l.market,
       l.category, l.pricing_model, l.pricing_type,
       count(*) AS messages,
       count(*) FILTER (l.failed_at IS NULL AND coalesce(l.delivered_at, l.read_at) IS NOT NULL) AS delivered,
       coalesce(sum(l.charged_units), 0)::BIGINT AS billable_units,
       coalesce(sum(l.charged_units) FILTER (l.charge IS NULL), 0)::BIGINT AS unpriced_units,
       coalesce(sum(l.charge), 0)::DECIMAL(18, 6) AS charge,
       coalesce(sum(l.charged_units) FILTER (l.rate_verification = 'unverified'), 0)::BIGINT AS unverified_units,
       coalesce(sum(l.charge) FILTER (l.rate_verification = 'unverified'), 0)::DECIMAL(18, 6) AS unverified_charge, l.currency
FROM marts.message_ledger l LEFT JOIN staging.accounts a USING (waba_id)
GROUP BY ALL
ORDER BY day, waba_id, phone_number_id, market, category, pricing_type
