-- Macros every model may use (created on every connection). Meta sends Unix seconds as strings,
-- sometimes as integers; exports use ISO 8601. Each becomes a TIMESTAMPTZ in UTC, or NULL when
-- unreadable. Only 9 to 11 digits count as Unix seconds (1973 to 5138): anything longer (milliseconds,
-- garbage) is NULL rather than an out-of-range crash.
CREATE OR REPLACE TEMP MACRO waba_ts(x) AS
    CASE WHEN regexp_full_match(trim(CAST(x AS VARCHAR)), '[0-9]{9,11}(\.[0-9]+)?')
         THEN to_timestamp(trim(CAST(x AS VARCHAR))::DOUBLE)
         ELSE try_cast(trim(CAST(x AS VARCHAR)) AS TIMESTAMPTZ) END;

-- Meta puts an error's details in error_data.details (Cloud API) or at the top level (On-Premises API).
CREATE OR REPLACE TEMP MACRO error_details(e) AS coalesce(e.error_data.details, e.details, e.message);

-- The typed shape of a `messages`-field value (also the shape of an On-Premises API body).
CREATE OR REPLACE TEMP MACRO messages_value_shape() AS '{
    "metadata": {"display_phone_number": "VARCHAR", "phone_number_id": "VARCHAR"},
    "contacts": [{"wa_id": "VARCHAR", "user_id": "VARCHAR", "parent_user_id": "VARCHAR",
                  "profile": {"name": "VARCHAR", "username": "VARCHAR"}}],
    "messages": ["JSON"],
    "calls": [{"timestamp": "VARCHAR"}],
    "user_preferences": [{"timestamp": "VARCHAR"}],
    "statuses": [{"id": "VARCHAR", "status": "VARCHAR", "timestamp": "VARCHAR",
                  "recipient_id": "VARCHAR", "recipient_user_id": "VARCHAR",
                  "recipient_parent_user_id": "VARCHAR", "parent_recipient_user_id": "VARCHAR",
                  "recipient_type": "VARCHAR", "recipient_participant_id": "VARCHAR", "participant_recipient_id": "VARCHAR",
                  "recipient_participant_user_id": "VARCHAR", "biz_opaque_callback_data": "VARCHAR",
                  "conversation": {"id": "VARCHAR", "expiration_timestamp": "VARCHAR", "origin": {"type": "VARCHAR"}},
                  "pricing": {"billable": "BOOLEAN", "pricing_model": "VARCHAR", "type": "VARCHAR",
                              "pricing_type": "VARCHAR", "category": "VARCHAR"},
                  "errors": [{"code": "BIGINT", "title": "VARCHAR", "message": "VARCHAR", "details": "VARCHAR",
                              "error_data": {"details": "VARCHAR"}, "href": "VARCHAR"}]}],
    "errors": [{"code": "BIGINT", "title": "VARCHAR", "message": "VARCHAR", "details": "VARCHAR",
                "error_data": {"details": "VARCHAR"}, "href": "VARCHAR"}]
}';

-- A chat message or keyword as the consent keyword match compares them: case and accents ignored, runs of
-- spaces made one, surrounding spaces and punctuation dropped ("  Arrêt ! " and "ARRET" are the same).
CREATE OR REPLACE TEMP MACRO waba_normalised_text(x) AS
    regexp_replace(regexp_replace(lower(strip_accents(x)), '\s+', ' ', 'g'),
                   '^[\s[:punct:]¡¿]+|[\s[:punct:]¡¿]+$', '', 'g');

-- A timestamp written without an offset or zone (e.g. 2026-03-01 09:30 or a date alone, or a Parquet
-- TIMESTAMP column read as text): which instant it means depends on a timezone it does not state. Unix
-- seconds are UTC by definition and are not naive.
CREATE OR REPLACE TEMP MACRO waba_ts_is_naive(x) AS
    try_cast(trim(CAST(x AS VARCHAR)) AS TIMESTAMP) IS NOT NULL
    AND NOT regexp_full_match(trim(CAST(x AS VARCHAR)), '[0-9]{9,11}(\.[0-9]+)?')
    AND NOT regexp_matches(trim(CAST(x AS VARCHAR)),
                           '[0-9]:[0-9]{2}(:[0-9]{2})?([.,][0-9]+)?\s*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?|UTC|GMT|[A-Za-z]+/[A-Za-z_]+)$');
