-- Temp tables for the webhook deliveries being staged (temp table _batch lists their load_id):
-- _webhook_changes: one row per change; a Cloud API envelope yields one row per entry x change, an
--   On-Premises body one 'messages' row with no WABA. Each body is parsed once, with the
--   `messages`-field value typed in `v` (the hot path).
-- _management_values: the value JSON of every other field's change, cut from the body by path
--   (few rows, so the second look at the body is cheap).
CREATE OR REPLACE TEMP TABLE _webhook_changes AS
WITH parsed AS (
    SELECT load_id, line_no, payload_format, received_at,
           CASE WHEN payload_format = 'cloud' THEN json_transform(body,
               '{"entry": [{"id": "VARCHAR", "time": "VARCHAR", "changes": [{"field": "VARCHAR", "value": '
               || messages_value_shape() || '}]}]}') END AS envelope,
           CASE WHEN payload_format = 'onprem' THEN json_transform(body, messages_value_shape()) END AS onprem_value
    FROM raw.webhook_deliveries
    WHERE load_id IN (SELECT load_id FROM _batch)
      AND signature_status NOT IN ('invalid', 'missing')  -- failed or absent signature: kept in raw only
), entries AS (
    SELECT load_id, line_no, received_at, unnest(envelope.entry) AS entry, generate_subscripts(envelope.entry, 1) AS entry_no
    FROM parsed WHERE payload_format = 'cloud'
), changes AS (
    SELECT load_id, line_no, received_at, entry_no, entry.id AS waba_id, entry.time AS entry_time,
           unnest(entry.changes) AS change, generate_subscripts(entry.changes, 1) AS change_no
    FROM entries
)
SELECT load_id, line_no, received_at, 'cloud' AS payload_format, entry_no, change_no, waba_id,
       waba_ts(entry_time) AS entry_time,
       change.field AS field, change.value AS v
FROM changes
UNION ALL
SELECT load_id, line_no, received_at, 'onprem', 1, 1, NULL, NULL, 'messages', onprem_value
FROM parsed WHERE payload_format = 'onprem';

CREATE OR REPLACE TEMP TABLE _management_values AS
SELECT c.load_id, c.line_no, c.received_at, c.entry_no, c.change_no, c.waba_id, c.entry_time, c.field,
       json_extract(d.body, '$.entry[' || (c.entry_no - 1) || '].changes[' || (c.change_no - 1) || '].value') AS value
FROM _webhook_changes c
JOIN raw.webhook_deliveries d ON d.load_id = c.load_id AND d.line_no = c.line_no
WHERE c.field <> 'messages';
