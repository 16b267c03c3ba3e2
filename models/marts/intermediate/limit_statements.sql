-- intermediate.limit_statements: one row per (messaging-limit value Meta stated, scope it speaks for): the number's tier on phone_number_quality_update and in Business Manager snapshots, the per-phone and per-portfolio values of business_capability_update. (columns: _intermediate.yml)
WITH spellings AS (
    SELECT upper(spelling) AS spelling, daily_limit, unlimited
    FROM {{ ref('messaging_limit_spellings') }}
), phones AS (
    SELECT p.phone_number_id, p.waba_id, p.digits, a.business_portfolio_id
    FROM {{ ref('phone_numbers') }} p LEFT JOIN {{ ref('accounts') }} a USING (waba_id)
), stated AS (
    -- (scope kind, phone or WABA, time, value as spelled, source)
    SELECT 'phone' AS speaks_for, p.phone_number_id AS subject, e.event_at AS stated_at, e.current_limit AS value,
           'phone_number_quality_update' AS source
    FROM {{ ref('phone_number_quality_events') }} e JOIN phones p ON p.digits = regexp_replace(e.display_phone_number, '[^0-9]', '', 'g')
    UNION ALL
    SELECT 'portfolio', a.business_portfolio_id, e.event_at, e.max_daily_conversations_per_business, 'phone_number_quality_update'
    FROM {{ ref('phone_number_quality_events') }} e JOIN {{ ref('accounts') }} a USING (waba_id)
    UNION ALL
    SELECT 'waba_phones', e.waba_id, e.event_at, e.max_daily_conversation_per_phone, 'business_capability_update'
    FROM {{ ref('business_capability_events') }} e
    UNION ALL
    SELECT 'portfolio', a.business_portfolio_id, e.event_at, e.max_daily_conversations_per_business, 'business_capability_update'
    FROM {{ ref('business_capability_events') }} e JOIN {{ ref('accounts') }} a USING (waba_id)
    UNION ALL
    SELECT 'phone', s.phone_number_id, s.snapshot_at, s.messaging_limit, 'phone_number_snapshot'
    FROM {{ ref('phone_number_snapshots') }} s
), parsed AS (
    SELECT st.*,
           coalesce(sp.daily_limit, CASE WHEN regexp_full_match(trim(st.value), '[0-9]+') THEN trim(st.value)::BIGINT END) AS daily_limit,
           coalesce(sp.unlimited, false) AS unlimited
    FROM stated st LEFT JOIN spellings sp ON sp.spelling = upper(trim(st.value))
    WHERE st.value IS NOT NULL
)
SELECT 'phone_number' AS scope, p.phone_number_id AS scope_id, x.stated_at, x.value, x.daily_limit, x.unlimited, x.source
FROM parsed x JOIN phones p
  ON (x.speaks_for = 'phone' AND p.phone_number_id = x.subject) OR (x.speaks_for = 'waba_phones' AND p.waba_id = x.subject)
WHERE x.daily_limit IS NOT NULL OR x.unlimited
UNION ALL
SELECT DISTINCT 'business_portfolio', coalesce(p.business_portfolio_id, x.subject), x.stated_at, x.value, x.daily_limit, x.unlimited, x.source
FROM parsed x LEFT JOIN phones p
  ON (x.speaks_for = 'phone' AND p.phone_number_id = x.subject) OR (x.speaks_for = 'waba_phones' AND p.waba_id = x.subject)
WHERE (x.daily_limit IS NOT NULL OR x.unlimited) AND (x.speaks_for = 'portfolio' OR p.business_portfolio_id IS NOT NULL)
