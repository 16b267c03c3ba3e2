SELECT message_id, sent_at, waba_id, phone_number_id, recipient_id, lower(message_type) AS message_type,
       template_name, template_language, lower(template_category) AS template_category, campaign, agent,
       load_id AS _load_id, line_no AS _line_no
FROM {{ source('raw', 'message_logs') }}
QUALIFY row_number() OVER (PARTITION BY message_id ORDER BY load_id, line_no) = 1
ORDER BY sent_at
