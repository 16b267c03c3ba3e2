-- intermediate.chat_keywords_in_force: one row per chat keyword the audit reads inbound texts against, normalised the way messages are (lower case, accents removed, spaces collapsed, surrounding punctuation dropped): the business's own list (staging.chat_keywords, from landing/optins/chat_keywords*.csv) when it has one, else the bundled models/reference/bundled_chat_keywords.csv. (columns: _intermediate.yml)
WITH own AS (
    SELECT language, keyword, match_rule, action, 'landing' AS list_source FROM {{ ref('chat_keywords') }}
), bundled AS (
    SELECT language, keyword, match_rule, action, 'bundled' AS list_source
    FROM {{ ref('bundled_chat_keywords') }}
), chosen AS (
    SELECT * FROM own
    UNION ALL SELECT * FROM bundled WHERE NOT EXISTS (SELECT 1 FROM own)
)
SELECT DISTINCT waba_normalised_text(keyword) AS normalised, lower(action) AS action, list_source
FROM chosen
WHERE lower(match_rule) = 'whole_message' AND lower(action) IN ('opt_out', 'resume') AND waba_normalised_text(keyword) <> ''
