-- staging.chat_keywords: one row per chat keyword in the business's own list (landing/optins/chat_keywords*.csv):
-- an inbound text that is exactly this keyword is an opt-out (action opt_out) or takes one back (action resume).
-- When this table has rows it replaces the bundled list (models/reference/chat_keywords.csv).
-- materialize: table
-- inputs: chat_keywords
-- column language: Language of the keyword (lower case), e.g. en, fr, pt.
-- column keyword: The keyword as the business wrote it; matched against the whole message, ignoring case, accents and punctuation.
-- column match_rule: How the keyword matches (lower case); whole_message is the only rule today.
-- column action: opt_out (the message is an opt-out) or resume (it takes a chat opt-out back).
-- column _load_id: raw.load_audit load that brought the row.
-- column _line_no: Line of the row in its landing file.
SELECT lower(language) AS language, keyword, lower(match_rule) AS match_rule, lower(action) AS action,
       load_id AS _load_id, line_no AS _line_no
FROM raw.chat_keywords
ORDER BY language, keyword, action, load_id, line_no
