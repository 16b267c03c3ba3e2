-- One row per line of the webhook files being loaded (temp table _lines, same order), classified.
-- Text stays in _lines: carrying it through filters here is several times slower than a
-- positional join back to it. Parameters: $ipad, $opad (HMAC pads of the app secret, NULL when
-- no secret is configured).
CREATE OR REPLACE TEMP TABLE _classified AS
WITH heads AS (
    SELECT file_no, line_no,
           CASE WHEN line IS NULL THEN true WHEN strlen(line) <= 64 THEN trim(line) = '' ELSE false END AS is_blank,
           try(json_transform(line, '{"object":"VARCHAR","body":"JSON","received_at":"VARCHAR","headers":"JSON"}')) AS head
    FROM _lines
), captures AS (
    SELECT *,
           json_type(head.body) = 'VARCHAR' AND head.received_at IS NOT NULL AS is_capture,
           coalesce(head.headers ->> '$."X-Hub-Signature-256"', head.headers ->> '$."x-hub-signature-256"') AS signature
    FROM heads
)
SELECT file_no, line_no, is_blank, is_capture,
       CASE WHEN is_capture THEN head.body ->> '$' END AS capture_body,
       CASE WHEN is_capture THEN try_cast(head.received_at AS TIMESTAMPTZ) END AS received_at,
       head.object AS object, head IS NULL AS head_failed, signature
FROM captures;
