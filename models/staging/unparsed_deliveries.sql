-- staging.unparsed_deliveries: one row per accepted webhook delivery that yielded nothing to stage
-- (valid JSON in the right envelope, but `entry`, `changes` or the value had an unexpected shape).
-- The body stays in raw.webhook_deliveries; this table makes such deliveries visible and counted.
-- key: _load_id, _line_no
-- column payload_format: cloud | onprem.
-- column received_at: When our endpoint received the delivery (UTC); NULL for files without capture records.
-- column _load_id: raw.load_audit load that brought the delivery.
-- column _line_no: Line of the delivery in its landing file (the body is in raw.webhook_deliveries).
SELECT d.payload_format, d.received_at, d.load_id AS _load_id, d.line_no AS _line_no
FROM raw.webhook_deliveries d
WHERE d.load_id IN (SELECT load_id FROM _batch)
  AND d.signature_status NOT IN ('invalid', 'missing')
  AND NOT EXISTS (SELECT 1 FROM _webhook_changes c
                  WHERE c.load_id = d.load_id AND c.line_no = d.line_no AND (c.field <> 'messages' OR c.v IS NOT NULL))
