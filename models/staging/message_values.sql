-- Temp table _message_values: one row per `messages`-field change being staged, its value typed.
CREATE OR REPLACE TEMP TABLE _message_values AS
SELECT load_id, line_no, received_at, payload_format, entry_no, change_no, waba_id, entry_time,
       json_transform(value, '{
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
         "errors": [{"code": "BIGINT", "title": "VARCHAR", "message": "VARCHAR",
                     "error_data": {"details": "VARCHAR"}}]
       }') AS v
FROM _webhook_changes
WHERE field = 'messages';
