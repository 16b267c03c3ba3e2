-- Macros every model may use. Meta sends Unix seconds as strings, sometimes as integers;
-- exports use ISO 8601. Each becomes a TIMESTAMPTZ in UTC, or NULL when unreadable.
CREATE OR REPLACE TEMP MACRO waba_ts(x) AS
    CASE WHEN regexp_full_match(CAST(x AS VARCHAR), '[0-9]+(\.[0-9]+)?') THEN to_timestamp(CAST(x AS VARCHAR)::DOUBLE)
         ELSE try_cast(CAST(x AS VARCHAR) AS TIMESTAMPTZ) END;
