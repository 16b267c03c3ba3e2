-- staging.accounts: one row per WABA seen anywhere, with its business portfolio, timezone and currency.
-- A WABA absent from accounts.csv is its own portfolio, in UTC.
-- materialize: table
-- inputs: accounts, webhooks, message_logs
-- column waba_id: WhatsApp Business Account id.
-- column business_portfolio_id: The business portfolio (Business Manager) the WABA belongs to; the WABA itself when accounts.csv does not list it.
-- column timezone: The WABA's timezone (IANA name); UTC when not listed.
-- column currency: The WABA's billing currency; USD when not listed.
-- column listed_in_accounts_csv: True when accounts.csv lists the WABA.
-- column business_verification_status: Business Manager's verification status of the portfolio (lower case, e.g. verified) when accounts.csv gives it; verified completes the messaging-limit scaling path (docs/growth.md).
WITH listed AS (
    SELECT waba_id, business_portfolio_id, timezone, currency, business_verification_status
    FROM raw.accounts
    QUALIFY row_number() OVER (PARTITION BY waba_id ORDER BY load_id DESC, line_no DESC) = 1
), seen AS (
    SELECT DISTINCT waba_id FROM staging.message_statuses WHERE waba_id IS NOT NULL
    UNION SELECT DISTINCT waba_id FROM staging.inbound_messages WHERE waba_id IS NOT NULL
    UNION SELECT DISTINCT waba_id FROM raw.message_logs
    UNION SELECT waba_id FROM listed
)
SELECT s.waba_id, coalesce(l.business_portfolio_id, s.waba_id) AS business_portfolio_id,
       coalesce(l.timezone, 'UTC') AS timezone, coalesce(l.currency, 'USD') AS currency,
       l.waba_id IS NOT NULL AS listed_in_accounts_csv,
       -- Business Manager's verification_status of the portfolio (verified, not_verified, pending, ...), as given.
       lower(trim(l.business_verification_status)) AS business_verification_status
FROM seen s LEFT JOIN listed l USING (waba_id)
ORDER BY waba_id
