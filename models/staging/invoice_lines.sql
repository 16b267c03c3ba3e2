SELECT month, waba_id, market, lower(category) AS category, upper(currency) AS currency, amount
FROM {{ source('raw', 'invoices') }}
QUALIFY row_number() OVER (PARTITION BY month, waba_id, market, lower(category), upper(currency)
                           ORDER BY load_id DESC, line_no DESC) = 1
ORDER BY month, waba_id, market, category
