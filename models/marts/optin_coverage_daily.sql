-- marts.optin_coverage_daily: one row per local day (the WABA's timezone), WABA, business phone number, category, template, campaign and market: how many business-initiated messages were sent, how many were permitted (covered, covered_identity_changed, user_initiated_window: marts.optin_audit), the count of every consent status apart, and beside them the failures Meta itself reported on those messages for consent-like reasons. (columns: _marts.yml)
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
FROM {{ ref('optin_audit') }}
-- Month-partitioned like the audit; the months a run rebuilds are the audit's (models/dbt_macros/month_partitions.sql).
WHERE {{ in_rebuild_months("date_trunc('month', sent_day)::DATE") }}
GROUP BY ALL
ORDER BY day, waba_id, phone_number_id, category, template_name, campaign, market
