-- One row per line of the webhook files being loaded (temp table _lines, same order), classified.
-- Text stays in _lines: carrying it through filters here is several times slower than a
-- positional join back to it. A capture record is any object with `received_at` and `body`;
-- its body is the string Meta sent (an object body is kept as its JSON text).
CREATE OR REPLACE TEMP TABLE _classified AS
WITH heads AS (
    SELECT file_no, line_no,
           CASE WHEN line IS NULL THEN true WHEN strlen(line) <= 64 THEN trim(line) = '' ELSE false END AS is_blank,
           try(json_transform(line, '{"object":"VARCHAR","body":"VARCHAR","received_at":"VARCHAR","headers":"JSON"}')) AS head
    FROM _lines
)
SELECT file_no, line_no, is_blank,
       head.body IS NOT NULL AND head.received_at IS NOT NULL AS is_capture,
       CASE WHEN head.received_at IS NOT NULL THEN head.body END AS capture_body,
       CASE WHEN head.received_at IS NOT NULL THEN try_cast(head.received_at AS TIMESTAMPTZ) END AS received_at,
       head.object AS object, head IS NULL AS head_failed,
       coalesce(head.headers ->> '$."X-Hub-Signature-256"', head.headers ->> '$."x-hub-signature-256"') AS signature
FROM heads;
