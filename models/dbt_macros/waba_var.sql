{# A run parameter (dbt var) as a typed SQL literal; stands where the Python runner reads
   getvariable('name'). Types come from the pipeline's SET VARIABLE statements. #}
{% macro waba_var(name) -%}
  {%- set types = {'consent_scope': 'VARCHAR', 'disabled_regimes': 'VARCHAR[]', 'forced_regime': 'VARCHAR', 'rates_as_of': 'DATE'} -%}
  {%- set value = var(name, none) -%}
  {%- if value is none -%} CAST(NULL AS {{ types[name] }})
  {%- elif value is string -%} CAST('{{ value | replace("'", "''") }}' AS {{ types[name] }})
  {%- else -%} CAST([{% for v in value %}'{{ v | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %}] AS {{ types[name] }})
  {%- endif -%}
{%- endmacro %}
