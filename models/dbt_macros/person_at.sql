{#- The person (marts.customer_persons) a customer id was at a time: the id itself when no person row covers it.
    Pass qualified column names: inside the subquery an unqualified name would bind to customer_persons' own. -#}
{% macro person_at(customer_id, at) -%}
    coalesce((SELECT min(p.person_id) FROM {{ ref('customer_persons') }} p
              WHERE p.customer_id = {{ customer_id }} AND (p.valid_from IS NULL OR {{ at }} >= p.valid_from)
                AND (p.valid_to IS NULL OR {{ at }} < p.valid_to)), {{ customer_id }})
{%- endmacro %}
