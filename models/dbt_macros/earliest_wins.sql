{#- An incremental model whose rows are reports of events Meta may send twice and in any order (webhooks): each run's
    rows (the model's SQL over the batch's deliveries) are inserted when their key (config unique_key) is not present
    yet, and with config event_order, an earlier report replaces the staged one. Within the batch the earliest by
    event_order wins, then the earlier load and line. So incremental and full builds agree: the earliest by event time
    wins whatever the arrival order. Rows of one delivery line that tie on all that are ordered by config tiebreak (an
    ORDER BY list over the model's columns), then by their whole text, so every choice is total and two builds agree.
    On the first build or a full refresh the table starts empty and the same rule applies, so there is one code path. -#}
{% materialization earliest_wins, adapter='duckdb' %}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing = load_cached_relation(this) -%}
  {%- set key = config.require('unique_key') -%}
  {%- set key = [key] if key is string else key -%}
  {%- set order = config.get('event_order') -%}
  {%- set tiebreak = config.get('tiebreak') -%}
  {%- set candidates = '_' ~ this.identifier ~ '__candidates' -%}
  {%- set losers = '_' ~ this.identifier ~ '__losers' -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- call statement('candidates') -%}
    CREATE OR REPLACE TEMP TABLE {{ candidates }} AS {{ sql }}
  {%- endcall -%}
  {%- if existing is none or should_full_refresh() -%}
    {%- call statement('create') -%}
      CREATE OR REPLACE TABLE {{ target_relation }} AS SELECT * FROM {{ candidates }} WITH NO DATA
    {%- endcall -%}
  {%- endif -%}
  {#- Repeated keys are few, so the window that picks the batch's winner runs on those rows alone, never on every
      candidate. -#}
  {%- call statement('losers') -%}
    CREATE OR REPLACE TEMP TABLE {{ losers }} AS
    SELECT rid FROM (
        SELECT c.rowid AS rid, c.*, CAST(c AS VARCHAR) AS _row_text
        FROM {{ candidates }} c
        SEMI JOIN (SELECT {{ key | join(', ') }} FROM {{ candidates }} GROUP BY ALL HAVING count(*) > 1) r
          ON {{ waba_same_key(key, 'c', 'r') }}
    )
    QUALIFY row_number() OVER (PARTITION BY {{ key | join(', ') }}
                               ORDER BY {% if order %}{{ order }} NULLS LAST, {% endif %}_load_id, _line_no,
                                        {% if tiebreak %}{{ tiebreak }}, {% endif %}_row_text) > 1
  {%- endcall -%}
  {%- if order -%}
    {#- A late-arriving earlier report replaces the one staged before it. -#}
    {%- call statement('replace_later') -%}
      DELETE FROM {{ target_relation }} o USING (
          SELECT {{ key | join(', ') }}, {{ order }} FROM {{ candidates }} WHERE rowid NOT IN (SELECT rid FROM {{ losers }})) n
      WHERE {{ waba_same_key(key, 'o', 'n') }} AND n.{{ order }} < o.{{ order }}
    {%- endcall -%}
  {%- endif -%}
  {%- call statement('main') -%}
    INSERT INTO {{ target_relation }}
    SELECT * FROM {{ candidates }} n
    WHERE NOT EXISTS (SELECT 1 FROM {{ target_relation }} o WHERE {{ waba_same_key(key, 'o', 'n') }})
      AND n.rowid NOT IN (SELECT rid FROM {{ losers }})
  {%- endcall -%}
  {%- call statement('drop_working') -%}
    DROP TABLE {{ candidates }}; DROP TABLE {{ losers }}
  {%- endcall -%}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{#- Two rows have the same key: NULLs compare equal (a status outside a group has no participant). -#}
{% macro waba_same_key(key, a, b) -%}
  {%- for k in key %}{{ a }}.{{ k }} IS NOT DISTINCT FROM {{ b }}.{{ k }}{% if not loop.last %} AND {% endif %}{% endfor -%}
{%- endmacro %}
