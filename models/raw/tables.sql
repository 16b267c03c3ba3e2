-- Raw layer: what was received, as received, one row per accepted delivery or data row.
-- Every file is accounted for in raw.load_audit: rows_in = rows_loaded + rows_duplicate + rows_quarantined.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS marts;
CREATE SEQUENCE IF NOT EXISTS raw.load_id_seq START 1;

-- One row per attempt to load one landing file.
CREATE TABLE IF NOT EXISTS raw.load_audit (
    load_id          BIGINT PRIMARY KEY,
    source           VARCHAR NOT NULL,
    file_path        VARCHAR NOT NULL,
    file_sha256      VARCHAR NOT NULL,
    file_bytes       BIGINT NOT NULL,
    loaded_at        TIMESTAMPTZ NOT NULL,
    status           VARCHAR NOT NULL,   -- loaded | truncated (cut gzip, readable part loaded) | unreadable | reload_pending (to reload: a file it shared rows with changed) | replaced (a newer version of the file was loaded)
    rows_in          BIGINT NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_duplicate   BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    message          VARCHAR
);
ALTER TABLE raw.load_audit ADD COLUMN IF NOT EXISTS file_mtime_ns BIGINT;

-- One row per line, element or data row that could not be accepted, with the original text.
CREATE TABLE IF NOT EXISTS raw.quarantine (
    load_id       BIGINT NOT NULL,
    source        VARCHAR NOT NULL,
    file_path     VARCHAR NOT NULL,
    line_no       BIGINT,
    reason        VARCHAR NOT NULL,
    detail        VARCHAR,
    original_text VARCHAR
);

-- One row per delivery whose content was already received (Meta delivers at least once).
CREATE TABLE IF NOT EXISTS raw.duplicates (
    load_id      BIGINT NOT NULL,
    source       VARCHAR NOT NULL,
    line_no      BIGINT NOT NULL,
    content_md5  UHUGEINT NOT NULL,
    received_at  TIMESTAMPTZ
);

-- One row per distinct webhook delivery body (Cloud API envelope or On-Premises API body).
CREATE TABLE IF NOT EXISTS raw.webhook_deliveries (
    load_id          BIGINT NOT NULL,
    line_no          BIGINT NOT NULL,
    content_md5      UHUGEINT NOT NULL,
    payload_format   VARCHAR NOT NULL,  -- cloud | onprem
    received_at      TIMESTAMPTZ,       -- from capture records; NULL for bare bodies
    signature_status VARCHAR NOT NULL,  -- valid | invalid | missing (capture record without signature) | unsigned (bare body) | unverified (no app secret configured)
    body             VARCHAR NOT NULL
);

-- One row per saved Graph API response (landing/business_manager/graph/**.json): one page of one
-- request, with the request and the response body as Meta sent them.
CREATE TABLE IF NOT EXISTS raw.graph_responses (
    load_id     BIGINT NOT NULL,
    line_no     BIGINT NOT NULL,
    content_md5 UHUGEINT NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL,
    kind        VARCHAR NOT NULL,   -- phone_numbers | message_templates | pricing_analytics | conversation_analytics | template_analytics
    waba_id     VARCHAR NOT NULL,
    request     JSON NOT NULL,      -- {"method", "path", "params"}
    response    JSON NOT NULL
);
