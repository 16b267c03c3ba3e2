-- _business_initiated_sends: one row per message the messaging limit counts, as Meta counts it: a template (or, for
-- a message missing from the send log, one Meta priced in a template category) that was delivered (a delivered or
-- read status; a later failed report does not undo it) and went out while no customer-service window was open with
-- the number it went from. With its phone number, business portfolio, the person it reached (the ledger's person_id,
-- from marts.customer_persons: a number and the business-scoped user id seen with it are one person, one count; a
-- recycled number's next owner is another) and whether the template was
-- rated high quality (GREEN) at the end of the send day, which the delivered-messages scaling path requires.
SELECT l.message_id, l.sent_at, l.customer_id, l.person_id, l.phone_number_id,
       a.business_portfolio_id, coalesce(q.quality_score = 'GREEN', false) AS high_quality_template
FROM marts.message_ledger l
LEFT JOIN staging.accounts a USING (waba_id)
LEFT JOIN marts.template_health_daily q
       ON q.waba_id = l.waba_id AND q.template_name = l.template_name AND q.template_language = l.template_language
      AND q.day = l.sent_at::DATE
WHERE (l.message_type = 'template'
       OR (l.message_type = 'unknown' AND l.category IN ('marketing', 'utility', 'authentication', 'authentication_international', 'marketing_lite')))
  AND NOT l.in_service_window AND coalesce(l.delivered_at, l.read_at) IS NOT NULL AND l.customer_id IS NOT NULL
