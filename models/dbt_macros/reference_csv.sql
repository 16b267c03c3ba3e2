{# A reference CSV under models/reference (the files staging reads too), by path. #}
{% macro reference_csv(file) -%}
{{ env_var('WABA_REFERENCE_DIR', 'models/reference') }}/{{ file }}
{%- endmacro %}
