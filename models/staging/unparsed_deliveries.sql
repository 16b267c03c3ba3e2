SELECT d.payload_format, d.received_at, d.load_id AS _load_id, d.line_no AS _line_no
FROM {{ source('raw', 'webhook_deliveries') }} d
WHERE d.load_id IN (SELECT load_id FROM {{ ref('webhook_batch') }})
  AND d.signature_status NOT IN ('invalid', 'missing')
  AND NOT EXISTS (SELECT 1 FROM {{ ref('webhook_changes') }} c
                  WHERE c.load_id = d.load_id AND c.line_no = d.line_no AND (c.field <> 'messages' OR c.v IS NOT NULL))
