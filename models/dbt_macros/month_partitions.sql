{#- Month partitions of the finance marts that roll up by time (docs/architecture.md, "Month partitions").

    A partitioned model is incremental with incremental_strategy 'replace_months' and a config month_of_row: the
    expression giving a row's WABA-local month. A run writes the months its new data touches (planned by
    pipelines/mart_months.py) to bookkeeping.month_plan, the row 'finance' ('YYYY-MM-01' dates, comma-separated)
    before it starts dbt; a table, not a var, because vars that change every run make dbt parse the whole project
    again. In an incremental run with a plan the model's SQL keeps only the rows of those months
    (in_rebuild_months), and the strategy deletes those months from the table and inserts the new rows. Without a
    plan (no table, no row, or NULL months) an incremental run replaces every row: the same SQL, the same result as a
    first build, one code path. A model may name another plan row in meta.months_plan: the compliance marts read
    'compliance' (the ledger's months and those new consent events reach), so consent data never makes the finance
    marts rebuild a month. The build's on-run-end hook (forget_month_plan) deletes the plan, so a later build that
    did not write one (waba reprice, a hand-run dbt) rebuilds every month. -#}

{#- The months to rebuild as SQL date literals, or none: when the run rebuilds whole, or the table is being created. -#}
{% macro rebuild_month_list() -%}
    {#- A unit test has no relation (this) and builds from its given rows: no plan. -#}
    {%- if not execute or this is none or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set plan_table = adapter.get_relation(database=target.database, schema='bookkeeping', identifier='month_plan') -%}
    {%- if plan_table is none -%}{{ return(none) }}{%- endif -%}
    {%- set plan = (config.get('meta') or {}).get('months_plan', 'finance') -%}
    {%- set rows = run_query("SELECT months FROM " ~ plan_table ~ " WHERE plan = '" ~ plan ~ "'").rows -%}
    {%- if rows | length == 0 or rows[0][0] is none -%}{{ return(none) }}{%- endif -%}
    {%- set literals = [] -%}
    {%- for month in rows[0][0].split(',') if month -%}{%- do literals.append("DATE '" ~ month ~ "'") -%}{%- endfor -%}
    {{- return(literals | join(', ')) -}}
{%- endmacro %}

{#- A model with a config customer_of_row (optin_audit: the expression giving a row's customer) also rebuilds, in
    every month, the rows of the customers bookkeeping.customer_plan lists under its plan: a query giving them, or
    none when the whole table is rebuilt (or no customer plan was written). -#}
{% macro rebuild_customers() -%}
    {%- if rebuild_month_list() is none or not (config.get('meta') or {}).get('customer_of_row') -%}{{ return(none) }}{%- endif -%}
    {%- set plan_table = adapter.get_relation(database=target.database, schema='bookkeeping', identifier='customer_plan') -%}
    {%- if plan_table is none -%}{{ return(none) }}{%- endif -%}
    {%- set plan = (config.get('meta') or {}).get('months_plan', 'finance') -%}
    {{- return("SELECT customer_id FROM " ~ plan_table ~ " WHERE plan = '" ~ plan ~ "'") -}}
{%- endmacro %}

{#- The end of a build: its month plan is spent (see above), and its customer plan. -#}
{% macro forget_month_plan() -%}
    {%- for plan_table in ('month_plan', 'customer_plan') -%}
    {%- if execute and adapter.get_relation(database=target.database, schema='bookkeeping', identifier=plan_table) is not none -%}
        DELETE FROM bookkeeping.{{ plan_table }};
    {% endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- A filter keeping the rows of the months being rebuilt: `true` on a whole build. -#}
{% macro in_rebuild_months(month_expr) -%}
    {%- set months = rebuild_month_list() -%}
    {%- if months is none -%}true{%- elif months == '' -%}false{%- else -%}{{ month_expr }} IN ({{ months }}){%- endif -%}
{%- endmacro %}

{#- The earliest event time a row of the rebuilt months can depend on: their first day, less the widest timezone
    offset (14 h), a free entry point window (72 h) and the 24 h before it in which the referral came, rounded up
    to 5 days. A whole build: no bound. -#}
{% macro rebuild_lookback_start() -%}
    {%- set months = rebuild_month_list() -%}
    {%- if months is none -%}'-infinity'::TIMESTAMPTZ
    {%- elif months == '' -%}'infinity'::TIMESTAMPTZ
    {%- else -%}(least({{ months }})::TIMESTAMP AT TIME ZONE 'UTC' - INTERVAL 5 DAY){%- endif -%}
{%- endmacro %}

{% macro get_incremental_replace_months_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set new_rows = arg_dict['temp_relation'] -%}
    {%- set month_of_row = config.get('meta')['month_of_row'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set months = rebuild_month_list() -%}
    {%- set customers = rebuild_customers() -%}
    {%- set customer_of_row = config.get('meta').get('customer_of_row') -%}
    CREATE SCHEMA IF NOT EXISTS bookkeeping;
    CREATE TABLE IF NOT EXISTS bookkeeping.month_partition_builds
        (model VARCHAR, month DATE, invocation_id VARCHAR, built_at TIMESTAMPTZ);
    {%- if months is none %}
    -- A whole rebuild: one row with no month says every month was replaced.
    INSERT INTO bookkeeping.month_partition_builds VALUES ('{{ this.identifier }}', NULL, '{{ invocation_id }}', now());
    DELETE FROM {{ target }};
    {%- else %}
    -- The planned months, and any other month a new row belongs to (the ledger adds months whose persons changed),
    -- but for the rows of the customers rebuilt in every month: those replace only those customers' rows.
    CREATE OR REPLACE TEMP TABLE _{{ this.identifier }}__months AS
        SELECT DISTINCT month FROM (
            SELECT unnest([{{ months }}]::DATE[]) AS month
            UNION ALL SELECT DISTINCT {{ month_of_row }} FROM {{ new_rows }}
            {%- if customers is not none %} WHERE {{ customer_of_row }} IS NULL OR {{ customer_of_row }} NOT IN ({{ customers }}){% endif %})
        WHERE month IS NOT NULL;
    INSERT INTO bookkeeping.month_partition_builds
        SELECT '{{ this.identifier }}', month, '{{ invocation_id }}', now() FROM _{{ this.identifier }}__months;
    DELETE FROM {{ target }} WHERE {{ month_of_row }} IN (SELECT month FROM _{{ this.identifier }}__months)
        {%- if customers is not none %} OR {{ customer_of_row }} IN ({{ customers }}){% endif %};
    {%- endif %}
    INSERT INTO {{ target }} ({{ columns }}) SELECT {{ columns }} FROM {{ new_rows }}
{%- endmacro %}
