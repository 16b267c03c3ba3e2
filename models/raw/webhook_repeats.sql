-- One row per delivery in the batch being loaded that repeats an earlier body. Meta delivers at least once: a body seen before (in an earlier file, or earlier in this batch) is
-- a duplicate. Repeats are few, so the window runs on them alone, never on the whole batch's text.
CREATE OR REPLACE TEMP TABLE _repeats AS
WITH batch AS (
    SELECT file_no, line_no, content_md5 FROM _deliveries WHERE payload_format IS NOT NULL
), seen_before AS (
    SELECT DISTINCT content_md5 FROM raw.webhook_deliveries
    WHERE content_md5 IN (SELECT content_md5 FROM batch)
), repeated AS (
    SELECT content_md5 FROM batch GROUP BY content_md5 HAVING count(*) > 1
)
SELECT file_no, line_no FROM batch WHERE content_md5 IN (SELECT content_md5 FROM seen_before)
UNION ALL
SELECT file_no, line_no FROM (
    SELECT * FROM batch
    WHERE content_md5 IN (SELECT content_md5 FROM repeated) AND content_md5 NOT IN (SELECT content_md5 FROM seen_before)
    QUALIFY row_number() OVER (PARTITION BY content_md5 ORDER BY file_no, line_no) > 1
);
