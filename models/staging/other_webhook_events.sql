WITH fields AS (
    SELECT value AS field, staged_into FROM read_csv('{{ reference_csv('webhook_vocabulary.csv') }}', header = true, all_varchar = true)
    WHERE vocabulary = 'webhook_field'
)
SELECT waba_id, v.field,
       f.field IS NOT NULL AS is_documented_field,
       coalesce(entry_time, received_at) AS event_at, value AS payload, value::VARCHAR AS payload_text,
       received_at, load_id AS _load_id, line_no AS _line_no
FROM {{ ref('webhook_management_values') }} v
LEFT JOIN fields f ON f.field = v.field
WHERE f.staged_into IS NULL OR f.staged_into = 'other_webhook_events'
