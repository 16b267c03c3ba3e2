-- staging.message_log: one row per outbound message id in the business's own send log (what webhooks
-- never carry: template, campaign, agent); the earliest-loaded row wins when a message id repeats.
-- materialize: table
-- inputs: message_logs
-- column message_id: The outbound message id (wamid...).
-- column sent_at: When the business sent it (UTC).
-- column waba_id: WhatsApp Business Account id.
-- column phone_number_id: The sending business phone number's id.
-- column recipient_id: The recipient as the business logged it (phone number or BSUID).
-- column message_type: template, text, ... (lower case).
-- column template_name: The template's name.
-- column template_language: The template's language code.
-- column template_category: The template category the business logged (lower case).
-- column campaign: The business's campaign name.
-- column agent: The agent who sent it, for service messages.
-- column _load_id: raw.load_audit load that brought the row.
-- column _line_no: Line of the row in its landing file.
SELECT message_id, sent_at, waba_id, phone_number_id, recipient_id, lower(message_type) AS message_type,
       template_name, template_language, lower(template_category) AS template_category, campaign, agent,
       load_id AS _load_id, line_no AS _line_no
FROM raw.message_logs
QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY load_id, line_no) = 1
ORDER BY sent_at
