-- Temp table _webhook_changes: one row per change of each webhook delivery being staged
-- (temp table _batch lists their load_id). A Cloud API envelope yields one row per entry x change;
-- an On-Premises body yields one 'messages' row with no WABA. The body is parsed once here: the
-- `messages`-field parts are typed (the hot path), the other fields keep their value as JSON.
CREATE OR REPLACE TEMP TABLE _webhook_changes AS
WITH parsed AS (
    SELECT d.load_id, d.line_no, d.payload_format, d.received_at,
           json_transform(d.body, '{
             "entry": [{"id": "VARCHAR", "time": "VARCHAR",
                        "changes": [{"field": "VARCHAR", "value": "JSON"}]}]}') AS envelope,
           CASE WHEN d.payload_format = 'onprem' THEN d.body END AS onprem_body
    FROM raw.webhook_deliveries d
    WHERE d.load_id IN (SELECT load_id FROM _batch)
      AND d.signature_status <> 'invalid'
), cloud AS (
    SELECT load_id, line_no, received_at, e.entry_no, e.entry.id AS waba_id, e.entry.time AS entry_time,
           unnest(e.entry.changes) AS change, generate_subscripts(e.entry.changes, 1) AS change_no
    FROM (SELECT load_id, line_no, received_at,
                 unnest(envelope.entry) AS entry, generate_subscripts(envelope.entry, 1) AS entry_no
          FROM parsed WHERE payload_format = 'cloud') e
)
SELECT load_id, line_no, received_at, 'cloud' AS payload_format, entry_no, change_no, waba_id,
       CASE WHEN regexp_full_match(entry_time, '[0-9]+') THEN to_timestamp(entry_time::BIGINT) END AS entry_time,
       change.field AS field, change.value AS value
FROM cloud
UNION ALL
SELECT load_id, line_no, received_at, 'onprem', 1, 1, NULL, NULL, 'messages', onprem_body::JSON
FROM parsed WHERE payload_format = 'onprem';
