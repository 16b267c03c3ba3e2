-- intermediate.business_initiated_sends: one row per message the messaging limit counts, as Meta counts it: a template (or, for a message missing from the send log, one Meta priced in a template category) that was delivered (a delivered or read status; a later failed report does not undo it) and went out while no customer-service window was open with the number it went from. (columns: _intermediate.yml)
SELECT l.message_id, l.sent_at, l.customer_id, l.person_id, l.phone_number_id,
       a.business_portfolio_id, coalesce(q.quality_score = 'GREEN', false) AS high_quality_template
FROM {{ ref('message_ledger') }} l
LEFT JOIN {{ ref('accounts') }} a USING (waba_id)
LEFT JOIN {{ ref('template_health_daily') }} q
       ON q.waba_id = l.waba_id AND q.template_name = l.template_name AND q.template_language = l.template_language
      AND q.day = l.sent_at::DATE
-- What a messaging limit counts: business-initiated messages delivered outside a customer-service window (M-LIM).
WHERE l.is_business_initiated AND NOT l.in_service_window AND l.is_delivered AND l.customer_id IS NOT NULL
