{# A reference CSV under models/reference (the files staging reads too), by path. #}
{% macro reference_csv(file) -%}
{{ var('reference_dir', 'models/reference') }}/{{ file }}
{%- endmacro %}
