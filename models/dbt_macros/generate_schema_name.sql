{# Models land in the schema they name (marts, intermediate), not <target>_<schema>; `waba reprice` puts the
   models it names in var scenario_models into its working schema instead, so the scenario never touches the
   warehouse's own tables (pipelines/reprice.py). #}
{% macro generate_schema_name(custom_schema_name, node) -%}
{%- if node is not none and node.name in var('scenario_models', []) -%}
{{ var('scenario_schema') }}
{%- else -%}
{{ custom_schema_name if custom_schema_name else target.schema }}
{%- endif -%}
{%- endmacro %}
