-- One row per non-blank line of the files being loaded: the delivery body, its format
-- (cloud | onprem | NULL when it cannot be accepted), content hash and signature check.
CREATE OR REPLACE TEMP TABLE _deliveries AS
WITH joined AS (
    SELECT c.file_no, c.line_no, c.is_capture, c.received_at, c.signature, c.head_failed, c.object,
           coalesce(c.capture_body, l.line) AS body
    FROM _classified c POSITIONAL JOIN _lines l
    WHERE NOT c.is_blank
), judged AS (
    SELECT *,
           -- One parse per body: a body that yields no object is then either not JSON or not an object.
           CASE WHEN is_capture THEN try(json_transform(body, '{"object":"VARCHAR"}')) END AS capture_head,
           md5_number(body) AS content_md5
    FROM joined
), checked AS (
    SELECT * EXCLUDE (capture_head),
           CASE WHEN is_capture THEN capture_head.object ELSE object END AS body_object,
           CASE WHEN is_capture AND capture_head IS NOT NULL THEN true
                WHEN NOT is_capture AND NOT head_failed THEN true
                ELSE json_valid(body) END AS is_json
    FROM judged
)
SELECT file_no, line_no, body, received_at, content_md5,
       NOT is_json AS invalid_json,
       CASE
           WHEN NOT is_json THEN NULL
           WHEN body_object = 'whatsapp_business_account' THEN 'cloud'
           WHEN body_object IS NULL AND json_type(body) = 'OBJECT'
                AND (json_exists(body, '$.messages') OR json_exists(body, '$.statuses')
                     OR json_exists(body, '$.contacts') OR json_exists(body, '$.errors')) THEN 'onprem'
       END AS payload_format,
       CASE
           WHEN NOT is_capture THEN 'unsigned'
           WHEN $ipad IS NULL THEN 'unverified'
           -- With a secret configured, a capture record without its signature cannot be trusted.
           WHEN signature IS NULL THEN 'missing'
           WHEN lower(signature) = 'sha256=' || sha256($opad::BLOB || unhex(sha256($ipad::BLOB || encode(body)))) THEN 'valid'
           ELSE 'invalid'
       END AS signature_status
FROM checked;

