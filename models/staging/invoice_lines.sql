-- staging.invoice_lines: one row per (month, WABA, market, category, currency) line of Meta's invoices as the
-- business saved them; the last-loaded file wins when two give the same line.
-- materialize: table
-- inputs: invoices
-- column month: The invoiced month.
-- column waba_id: WhatsApp Business Account id.
-- column market: Meta's pricing market.
-- column category: Pricing category (lower case).
-- column currency: Invoice currency (upper case).
-- column amount: The amount Meta invoiced.
SELECT month, waba_id, market, lower(category) AS category, upper(currency) AS currency, amount
FROM raw.invoices
QUALIFY row_number() OVER (PARTITION BY month, waba_id, market, lower(category), upper(currency)
                           ORDER BY load_id DESC, line_no DESC) = 1
ORDER BY month, waba_id, market, category
