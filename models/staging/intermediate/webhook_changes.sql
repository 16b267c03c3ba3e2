WITH parsed AS (
    SELECT load_id, line_no, payload_format, received_at,
           CASE WHEN payload_format = 'cloud' THEN json_transform(body,
               '{"entry": [{"id": "VARCHAR", "time": "VARCHAR", "changes": [{"field": "VARCHAR", "value": '
               || messages_value_shape() || '}]}]}') END AS envelope,
           CASE WHEN payload_format = 'onprem' THEN json_transform(body, messages_value_shape()) END AS onprem_value
    FROM {{ source('raw', 'webhook_deliveries') }}
    WHERE load_id IN (SELECT load_id FROM {{ ref('webhook_batch') }})
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
FROM parsed WHERE payload_format = 'onprem'
