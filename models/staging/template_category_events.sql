-- staging.template_category_events: one row per template category notice: 'impending' (24 h ahead,
-- where Meta's new_category means the CURRENT category) or 'completed' (previous -> new).
-- key: template_id, notice, new_category, event_at
-- order: event_at
-- column waba_id: WhatsApp Business Account id.
-- column template_id: The template's id (message_template_id, as text).
-- column template_name: The template's name.
-- column template_language: The template's language code, hyphens as underscores (en_US).
-- column notice: 'impending' (a change 24 h ahead) or 'completed'.
-- column previous_category: previous_category as sent.
-- column new_category: new_category as sent (for an impending notice, the current category).
-- column correct_category: correct_category: the category the template will get (impending notices).
-- column category_update_at: category_update_timestamp (UTC).
-- column event_at: When the change happened: entry.time, else when the delivery was received (UTC).
-- column received_at: When our endpoint received the delivery (UTC); NULL for files without capture records.
-- column _load_id: raw.load_audit load that brought the row.
-- column _line_no: Line of the row in its landing file.
SELECT waba_id, json_extract_string(value, '$.message_template_id') AS template_id,
       value ->> '$.message_template_name' AS template_name,
       replace(value ->> '$.message_template_language', '-', '_') AS template_language,
       CASE WHEN value ->> '$.correct_category' IS NOT NULL THEN 'impending' ELSE 'completed' END AS notice,
       value ->> '$.previous_category' AS previous_category,
       value ->> '$.new_category' AS new_category,
       value ->> '$.correct_category' AS correct_category,
       waba_ts(value ->> '$.category_update_timestamp') AS category_update_at,
       coalesce(entry_time, received_at) AS event_at, received_at, load_id AS _load_id, line_no AS _line_no
FROM _management_values WHERE field = 'template_category_update'
