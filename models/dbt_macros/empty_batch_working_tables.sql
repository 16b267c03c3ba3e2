{#- Run at the end of every dbt invocation (on-run-end in dbt_project.yml): the webhook batch's working tables
    (models/staging/intermediate/) hold only the last batch parsed, which depends on how loads were batched, not on the
    data; emptied, they add nothing to the published copy and a day-by-day build equals a whole one. The next webhook
    build fills them again before any model reads them. -#}
{% macro empty_batch_working_tables() %}
  {%- if execute -%}
    {%- for node in graph.nodes.values()
          if node.resource_type == 'model' and node.original_file_path.startswith('models/staging/intermediate/') -%}
      {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) -%}
      {%- if relation is not none -%}
        {%- do run_query('DELETE FROM ' ~ relation) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
{% endmacro %}
