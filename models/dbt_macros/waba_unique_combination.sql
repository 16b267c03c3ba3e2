{# A multi-column key is unique (the quality catalogue's ids_unique_not_null). #}
{% test waba_unique_combination(model, columns) %}
SELECT {{ columns | join(', ') }}, count(*) AS n FROM {{ model }}
GROUP BY {{ columns | join(', ') }} HAVING count(*) > 1
{% endtest %}
