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
       -- a received_at without an offset names no instant: kept unknown (NULL), never taken as UTC
       CASE WHEN head.received_at IS NOT NULL AND NOT waba_ts_is_naive(head.received_at)
            THEN waba_ts(head.received_at) END AS received_at,
       head.object AS object, head IS NULL AS head_failed,
       -- HTTP header names are case-insensitive.
       list_filter(map_entries(try(json_transform(head.headers, '"MAP(VARCHAR, VARCHAR)"'))),
                   h -> lower(h.key) = 'x-hub-signature-256')[1].value AS signature
FROM heads;
