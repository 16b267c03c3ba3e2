-- _business_initiated_sends: one row per message the messaging limit counts, as Meta counts it: a template (or, for
-- a message missing from the send log, one Meta priced in a template category) that was delivered (a delivered or
-- read status; a later failed report does not undo it) and went out while no customer-service window was open with
-- the number it went from. With its phone number, business portfolio, the person it reached (a business-scoped
-- user id seen together with a wa_id counts as that wa_id: one person, one count) and whether the template was
-- rated high quality (GREEN) at the end of the send day, which the delivered-messages scaling path requires.
WITH persons AS (
    -- staging.customer_identities pairs a wa_id with the user id Meta showed beside it.
    SELECT user_id, min(wa_id) AS wa_id FROM staging.customer_identities
    WHERE user_id IS NOT NULL AND wa_id IS NOT NULL GROUP BY user_id
)
SELECT l.message_id, l.sent_at, l.customer_id, coalesce(p.wa_id, l.customer_id) AS person_id, l.phone_number_id,
       a.business_portfolio_id, coalesce(q.quality_score = 'GREEN', false) AS high_quality_template
FROM marts.message_ledger l
LEFT JOIN staging.accounts a USING (waba_id)
LEFT JOIN persons p ON p.user_id = l.customer_id
LEFT JOIN marts.template_health_daily q
       ON q.waba_id = l.waba_id AND q.template_name = l.template_name AND q.template_language = l.template_language
      AND q.day = l.sent_at::DATE
WHERE (l.message_type = 'template'
       OR (l.message_type = 'unknown' AND l.category IN ('marketing', 'utility', 'authentication', 'authentication_international', 'marketing_lite')))
  AND NOT l.in_service_window AND coalesce(l.delivered_at, l.read_at) IS NOT NULL AND l.customer_id IS NOT NULL
