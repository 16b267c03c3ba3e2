-- _business_initiated_sends: one row per message the messaging limit counts: a template (or, for a message
-- missing from the send log, one Meta priced in a template category) that did not fail and went out while no
-- customer-service window was open with the number it went from. With its phone number and business portfolio.
SELECT l.message_id, l.sent_at, l.customer_id, l.phone_number_id, a.business_portfolio_id
FROM marts.message_ledger l LEFT JOIN staging.accounts a USING (waba_id)
WHERE (l.message_type = 'template'
       OR (l.message_type = 'unknown' AND l.category IN ('marketing', 'utility', 'authentication', 'authentication_international', 'marketing_lite')))
  AND NOT l.in_service_window AND l.final_status <> 'failed' AND l.customer_id IS NOT NULL
