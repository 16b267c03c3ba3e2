-- Macros every model may use. Meta sends Unix seconds as strings, sometimes as integers;
-- exports use ISO 8601. Each becomes a TIMESTAMPTZ in UTC, or NULL when unreadable.
CREATE OR REPLACE TEMP MACRO waba_ts(x) AS
    CASE WHEN regexp_full_match(CAST(x AS VARCHAR), '[0-9]+(\.[0-9]+)?') THEN to_timestamp(CAST(x AS VARCHAR)::DOUBLE)
         ELSE try_cast(CAST(x AS VARCHAR) AS TIMESTAMPTZ) END;

-- The typed shape of a `messages`-field value (also the shape of an On-Premises API body).
CREATE OR REPLACE TEMP MACRO messages_value_shape() AS '{
    "metadata": {"display_phone_number": "VARCHAR", "phone_number_id": "VARCHAR"},
    "contacts": [{"wa_id": "VARCHAR", "user_id": "VARCHAR", "parent_user_id": "VARCHAR",
                  "profile": {"name": "VARCHAR", "username": "VARCHAR"}}],
    "messages": ["JSON"],
    "statuses": [{"id": "VARCHAR", "status": "VARCHAR", "timestamp": "VARCHAR",
                  "recipient_id": "VARCHAR", "recipient_user_id": "VARCHAR",
                  "recipient_parent_user_id": "VARCHAR", "parent_recipient_user_id": "VARCHAR",
                  "recipient_type": "VARCHAR", "biz_opaque_callback_data": "VARCHAR",
                  "conversation": {"id": "VARCHAR", "expiration_timestamp": "VARCHAR", "origin": {"type": "VARCHAR"}},
                  "pricing": {"billable": "BOOLEAN", "pricing_model": "VARCHAR", "type": "VARCHAR",
                              "pricing_type": "VARCHAR", "category": "VARCHAR"},
                  "errors": [{"code": "BIGINT", "title": "VARCHAR", "message": "VARCHAR",
                              "error_data": {"details": "VARCHAR"}, "href": "VARCHAR"}]}],
    "errors": [{"code": "BIGINT", "title": "VARCHAR", "message": "VARCHAR", "error_data": {"details": "VARCHAR"}}]
}';
