-- One row per saved Graph API response file being loaded (temp table _graph_files: file_no, text,
-- read_problem): the record's parts, its content hash, and why it cannot be accepted (NULL when it
-- can). A file holds one record, so it is line 1.
CREATE OR REPLACE TEMP TABLE _graph_items AS
WITH parsed AS (
    SELECT file_no, text, read_problem,
           CASE WHEN read_problem IS NULL AND json_valid(text) THEN json_type(text) END AS json_kind,
           try(json_transform(text, '{"fetched_at": "VARCHAR", "kind": "VARCHAR", "waba_id": "VARCHAR",
                                      "request": "JSON", "response": "JSON"}')) AS doc
    FROM _graph_files
)
SELECT file_no, 1 AS line_no, md5_number(coalesce(text, '')) AS content_md5, text,
       waba_ts(doc.fetched_at) AS fetched_at, doc.kind AS kind, doc.waba_id AS waba_id,
       doc.request AS request, doc.response AS response,
       CASE
           WHEN read_problem IS NOT NULL THEN read_problem
           WHEN json_kind IS NULL THEN 'invalid_json: not valid JSON'
           WHEN json_kind <> 'OBJECT' THEN 'not_graph_response: not a JSON object'
           WHEN doc.kind IS NULL OR doc.kind NOT IN ($kinds) THEN
               'not_graph_response: kind ' || coalesce(doc.kind, '(missing)') || ' is not a saved Graph API kind'
           WHEN doc.waba_id IS NULL OR trim(doc.waba_id) = '' THEN 'not_graph_response: no waba_id'
           WHEN doc.request IS NULL OR json_type(doc.request) <> 'OBJECT' THEN 'not_graph_response: no request object'
           WHEN doc.response IS NULL OR json_type(doc.response) <> 'OBJECT' THEN 'not_graph_response: no response object'
           WHEN waba_ts(doc.fetched_at) IS NULL THEN 'bad_timestamp: fetched_at=' || coalesce(doc.fetched_at, '(missing)')
       END AS problem
FROM parsed;
