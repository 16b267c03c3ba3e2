WITH listed AS (
    SELECT waba_id, business_portfolio_id, timezone, currency, business_verification_status
    FROM {{ source('raw', 'accounts') }}
    QUALIFY row_number() OVER (PARTITION BY waba_id ORDER BY load_id DESC, line_no DESC) = 1
), seen AS (
    SELECT DISTINCT waba_id FROM {{ ref('message_statuses') }} WHERE waba_id IS NOT NULL
    UNION SELECT DISTINCT waba_id FROM {{ ref('inbound_messages') }} WHERE waba_id IS NOT NULL
    UNION SELECT DISTINCT waba_id FROM {{ source('raw', 'message_logs') }}
    UNION SELECT waba_id FROM listed
)
SELECT s.waba_id, coalesce(l.business_portfolio_id, s.waba_id) AS business_portfolio_id,
       coalesce(l.timezone, 'UTC') AS timezone, coalesce(l.currency, 'USD') AS currency,
       l.waba_id IS NOT NULL AS listed_in_accounts_csv,
       -- Business Manager's verification_status of the portfolio (verified, not_verified, pending, ...), as given.
       lower(trim(l.business_verification_status)) AS business_verification_status
FROM seen s LEFT JOIN listed l USING (waba_id)
ORDER BY waba_id
