{#- The webhook loads this run stages: loaded (or truncated: a cut gzip's readable lines count) and not staged yet (a full
    refresh re-stages them all). With var webhook_batch_rows, only the first pending loads (by load_id) whose deliveries add
    up to at most that many (a larger load goes alone), so that a first load of millions of deliveries is parsed a bounded
    batch at a time: the caller runs `dbt run --select tag:webhook` again until no load is pending
    (pipelines/staging_build.py). Without it, every pending load at once. -#}
{%- set staged = adapter.get_relation(database=target.database, schema='bookkeeping', identifier='staged_loads') if execute else none -%}
{%- set batch_rows = var('webhook_batch_rows', none) -%}
WITH pending AS (
    SELECT a.load_id, a.rows_loaded,
           sum(a.rows_loaded) OVER (ORDER BY a.load_id ROWS UNBOUNDED PRECEDING) AS rows_through
    FROM {{ source('raw', 'load_audit') }} a
    WHERE a.source = 'webhooks' AND a.status IN ('loaded', 'truncated')
    {%- if staged is not none and not flags.FULL_REFRESH %}
      AND a.load_id NOT IN (SELECT load_id FROM {{ staged }})
    {%- endif %}
)
SELECT load_id, rows_loaded
FROM pending
{%- if batch_rows is not none %}
WHERE rows_through <= {{ batch_rows | int }} OR load_id = (SELECT min(load_id) FROM pending)
{%- endif %}
