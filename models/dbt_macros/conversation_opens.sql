{# The conversations a set of deliveries opens, one row per (conversation_key, opened_at, hours): the first
   delivery of a key opens one, and each later one opens the next when it comes at or after the previous one's
   expiry. One step per conversation, each found by an as-of join from the previous one's expiry: set-based over
   every key at once, never a loop over rows. `deliveries` is a CTE with conversation_key, event_at and hours. #}
{% macro conversation_opens(deliveries) -%}
    WITH RECURSIVE opened(conversation_key, opened_at, hours) AS (
        SELECT conversation_key, min(event_at), arg_min(hours, event_at) FROM {{ deliveries }} GROUP BY conversation_key
        UNION ALL
        SELECT m.conversation_key, m.event_at, m.hours
        FROM opened o ASOF JOIN {{ deliveries }} m
          ON m.conversation_key = o.conversation_key AND m.event_at >= o.opened_at + to_hours(o.hours)
    )
    SELECT * FROM opened
{%- endmacro %}
