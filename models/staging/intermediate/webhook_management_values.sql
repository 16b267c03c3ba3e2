SELECT c.load_id, c.line_no, c.received_at, c.entry_no, c.change_no, c.waba_id, c.entry_time, c.field,
       json_extract(d.body, '$.entry[' || (c.entry_no - 1) || '].changes[' || (c.change_no - 1) || '].value') AS value
FROM {{ ref('webhook_changes') }} c
JOIN {{ source('raw', 'webhook_deliveries') }} d ON d.load_id = c.load_id AND d.line_no = c.line_no
WHERE c.field <> 'messages'
