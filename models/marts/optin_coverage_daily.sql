-- marts.optin_coverage_daily: one row per local day (the WABA's timezone), WABA, business phone number, category,
-- template, campaign and market: how many business-initiated messages were sent, how many were permitted (covered,
-- covered_identity_changed, user_initiated_window: marts.optin_audit), the count of every consent status apart, and
-- beside them the failures Meta itself reported on those messages for consent-like reasons.
-- column day: Send date in the WABA's timezone.
-- column waba_id: WABA that sent them.
-- column phone_number_id: Business phone number that sent them.
-- column category: Category consent was checked for (marketing, utility, authentication).
-- column template_name: Template sent.
-- column campaign: Campaign from the send log (NULL: not part of a campaign).
-- column market: Meta pricing market of the recipients.
-- column messages: Business-initiated messages sent, delivered or not.
-- column permitted: Messages that were permitted: covered + covered_identity_changed + user_initiated_window.
-- column coverage_rate: permitted / messages.
-- column covered: Messages with an opt-in covering their category in force at send time and no identity change since.
-- column covered_identity_changed: Covered, but a number, user-id or identity change came between the opt-in and the send (flagged for review).
-- column user_initiated_window: No covering opt-in, but sent inside a customer-service window the customer opened.
-- column opted_out: Messages sent while an opt-out (recorded or written in the chat) was in force under the consent_scope setting.
-- column marketing_stopped: Marketing messages sent while a marketing stop (user_preferences, or shown by a 131050 failure) was in force.
-- column number_reassigned: Messages whose only opt-in was given before the number passed on to its next holder.
-- column out_of_scope: Messages to customers opted in for other categories only.
-- column after_send: Messages whose first covering opt-in was recorded after the send.
-- column missing: Messages with no covering opt-in recorded at all.
-- column identity_changed: Same as covered_identity_changed (the name this count had before the statuses were refined; kept for existing queries).
-- column meta_failed_131050: Messages Meta failed with 131050 (the customer stopped marketing messages).
-- column meta_failed_131049: Messages Meta failed with 131049 (not delivered to keep ecosystem engagement healthy; per-user marketing limit).
-- column meta_failed_131047: Messages Meta failed with 131047 (more than 24 hours since the customer last wrote). Free-form messages are not business-initiated and are not counted here.
SELECT sent_day AS day, waba_id, phone_number_id, category, template_name, campaign, market,
       count(*) AS messages,
       count(*) FILTER (permitted) AS permitted,
       (count(*) FILTER (permitted) / count(*))::DECIMAL(5, 4) AS coverage_rate,
       count(*) FILTER (consent_status = 'covered') AS covered,
       count(*) FILTER (consent_status = 'covered_identity_changed') AS covered_identity_changed,
       count(*) FILTER (consent_status = 'user_initiated_window') AS user_initiated_window,
       count(*) FILTER (consent_status = 'opted_out') AS opted_out,
       count(*) FILTER (consent_status = 'marketing_stopped') AS marketing_stopped,
       count(*) FILTER (consent_status = 'number_reassigned') AS number_reassigned,
       count(*) FILTER (consent_status = 'out_of_scope') AS out_of_scope,
       count(*) FILTER (consent_status = 'after_send') AS after_send,
       count(*) FILTER (consent_status = 'missing') AS missing,
       count(*) FILTER (consent_status = 'covered_identity_changed') AS identity_changed,
       count(*) FILTER (final_status = 'failed' AND error_code = 131050) AS meta_failed_131050,
       count(*) FILTER (final_status = 'failed' AND error_code = 131049) AS meta_failed_131049,
       count(*) FILTER (final_status = 'failed' AND error_code = 131047) AS meta_failed_131047
FROM marts.optin_audit
GROUP BY ALL
ORDER BY day, waba_id, phone_number_id, category, template_name, campaign, market
