SELECT lower(language) AS language, keyword, lower(match_rule) AS match_rule, lower(action) AS action,
       load_id AS _load_id, line_no AS _line_no
FROM {{ source('raw', 'chat_keywords') }}
ORDER BY language, keyword, action, load_id, line_no
