-- Temp table _repeats: one row per position (in the files being loaded) whose content repeats an
-- earlier one: seen in a file loaded before, or earlier in this batch. Meta delivers webhooks at
-- least once and exports overlap, so these are duplicates, not new rows. Repeats are few, so the
-- window runs on them alone, never on the whole batch's text.
-- Filled in by the loader: {candidates} (a relation with {position} and content_md5), {history}.
CREATE OR REPLACE TEMP TABLE _repeats AS
WITH batch AS (
    SELECT {position}, content_md5 FROM {candidates}
), seen_before AS (
    SELECT DISTINCT content_md5 FROM {history}
    WHERE content_md5 IN (SELECT content_md5 FROM batch)
), repeated AS (
    SELECT content_md5 FROM batch GROUP BY content_md5 HAVING count(*) > 1
)
SELECT {position} FROM batch WHERE content_md5 IN (SELECT content_md5 FROM seen_before)
UNION ALL
SELECT {position} FROM (
    SELECT * FROM batch
    WHERE content_md5 IN (SELECT content_md5 FROM repeated) AND content_md5 NOT IN (SELECT content_md5 FROM seen_before)
    QUALIFY row_number() OVER (PARTITION BY content_md5 ORDER BY {position}) > 1
);
