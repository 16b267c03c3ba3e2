-- staging.invoice_lines: one row per (month, WABA, market, category, currency) line of Meta's invoices as the
-- business saved them; the last-loaded file wins when two give the same line.
-- materialize: table
-- inputs: invoices
SELECT month, waba_id, market, lower(category) AS category, upper(currency) AS currency, amount
FROM raw.invoices
QUALIFY row_number() OVER (PARTITION BY month, waba_id, market, lower(category), upper(currency)
                           ORDER BY load_id DESC, line_no DESC) = 1
ORDER BY month, waba_id, market, category
