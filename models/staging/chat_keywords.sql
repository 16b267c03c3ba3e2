-- staging.chat_keywords: one row per chat keyword in the business's own list (landing/optins/chat_keywords*.csv):
-- an inbound text that is exactly this keyword is an opt-out (action opt_out) or takes one back (action resume).
-- When this table has rows it replaces the bundled list (models/reference/chat_keywords.csv).
-- materialize: table
-- inputs: chat_keywords
SELECT lower(language) AS language, keyword, lower(match_rule) AS match_rule, lower(action) AS action,
       load_id AS _load_id, line_no AS _line_no
FROM raw.chat_keywords
ORDER BY language, keyword, action, load_id, line_no
