-- marts.cost_reconciliation: one row per local month, WABA, market, category and currency: our ledger beside Meta's own analytics (pricing_analytics / conversation_analytics saved under landing/business_manager/graph) and the invoice lines (landing/invoices), with the differences and what explains them. (columns: _marts.yml)
WITH ledger AS (
    SELECT l.local_month AS month, l.waba_id, l.market, coalesce(pc.rate_category, l.billed_category) AS category, l.currency,
           coalesce(sum(l.charged_units), 0)::BIGINT AS ledger_units,
           coalesce(sum(l.charge), 0)::DECIMAL(18, 6) AS ledger_charge,
           count(*) FILTER (l.unconfirmed_charge IS NOT NULL AND l.final_status = 'no_status') AS no_status_units,
           sum(l.unconfirmed_charge) FILTER (l.final_status = 'no_status') AS no_status_amount,
           count(*) FILTER (l.unconfirmed_charge IS NOT NULL AND l.final_status = 'sent') AS sent_only_units,
           sum(l.unconfirmed_charge) FILTER (l.final_status = 'sent') AS sent_only_amount,
           coalesce(sum(l.charged_units) FILTER (l.charge IS NULL), 0)::BIGINT AS unpriced_units,
           count(*) FILTER (l.disagreement = 'category') AS category_disagreements,
           count(*) FILTER (l.disagreement = 'pricing_type') AS pricing_type_disagreements,
           count(*) FILTER (l.charged_unit AND l.volume_band_from > 0) AS discounted_units
    FROM (
        -- Meta bills a group message per participant's country: its deliveries stand in for its ledger row.
        SELECT local_month, waba_id, market, billed_category, currency, charged_units, charge, unconfirmed_charge, final_status,
               disagreement, charged_unit, volume_band_from
        FROM {{ ref('message_ledger') }} WHERE group_id IS NULL
        UNION ALL BY NAME
        SELECT l.local_month, g.waba_id, g.market, g.category AS billed_category, g.currency,
               (g.pricing_type = 'regular')::BIGINT AS charged_units, g.charge, g.pricing_type = 'regular' AS charged_unit,
               l.disagreement
        FROM {{ ref('group_message_deliveries') }} g JOIN {{ ref('message_ledger') }} l USING (message_id)
    ) l
    LEFT JOIN {{ ref('pricing_categories') }} pc ON pc.category = l.billed_category
    WHERE l.billed_category IS NOT NULL
    GROUP BY ALL
), countries AS (
    -- Meta's analytics name countries; our markets are keyed by calling code: map each country to its market.
    SELECT country_iso2, arg_max(market, coalesce(effective_from, DATE '0001-01-01')) AS market
    FROM {{ ref('market_prefixes') }} WHERE requires_regime IS NULL GROUP BY country_iso2
), analytics AS (
    SELECT waba_id, period_start, granularity, country, lower(pricing_category) AS category, volume AS units, cost,
           'pricing' AS source FROM {{ ref('pricing_analytics') }} WHERE lower(pricing_type) = 'regular'
    UNION ALL
    SELECT waba_id, period_start, granularity, country, lower(conversation_category), conversations, cost,
           'conversation' FROM {{ ref('conversation_analytics') }} WHERE lower(conversation_type) = 'regular'
), analytics_months AS (
    SELECT date_trunc('month', (x.period_start AT TIME ZONE coalesce(a.timezone, 'UTC'))::DATE)::DATE AS month, x.*,
           coalesce(a.currency, 'USD') AS currency
    FROM analytics x LEFT JOIN {{ ref('accounts') }} a USING (waba_id)
), meta AS (
    -- One granularity per WABA and month (the coarsest saved), so overlapping fetches are not added twice.
    SELECT month, waba_id, coalesce(c.market, 'Other') AS market, coalesce(pc.rate_category, m.category) AS category, currency,
           sum(units) AS meta_units, sum(cost)::DECIMAL(18, 6) AS meta_cost
    FROM (SELECT * FROM analytics_months
          QUALIFY dense_rank() OVER (PARTITION BY month, waba_id, source
                                     ORDER BY CASE granularity WHEN 'MONTHLY' THEN 1 WHEN 'DAILY' THEN 2 ELSE 3 END) = 1) m
    LEFT JOIN countries c ON c.country_iso2 = m.country
    LEFT JOIN {{ ref('pricing_categories') }} pc ON pc.category = m.category
    GROUP BY ALL
), meta_months AS (
    SELECT DISTINCT month, waba_id FROM analytics_months
), invoice AS (
    SELECT i.month, i.waba_id, i.market, coalesce(pc.rate_category, lower(i.category)) AS category, i.currency,
           sum(i.amount)::DECIMAL(18, 6) AS invoice_amount
    FROM {{ ref('invoice_lines') }} i LEFT JOIN {{ ref('pricing_categories') }} pc ON pc.category = lower(i.category) GROUP BY ALL
), joined AS (
    SELECT month, waba_id, market, category, currency,
           coalesce(l.ledger_units, 0) AS ledger_units, coalesce(l.ledger_charge, 0)::DECIMAL(18, 6) AS ledger_charge,
           m.meta_units, m.meta_cost, i.invoice_amount,
           l.no_status_units, l.no_status_amount, l.sent_only_units, l.sent_only_amount, l.unpriced_units, l.category_disagreements, l.pricing_type_disagreements,
           l.discounted_units
    FROM ledger l
    FULL JOIN meta m USING (month, waba_id, market, category, currency)
    FULL JOIN invoice i USING (month, waba_id, market, category, currency)
), explained AS (
    SELECT j.*, mm.month IS NOT NULL AS meta_month_saved,
           list_filter([
               {'reason': 'no_status_received', 'units': no_status_units, 'amount': no_status_amount},
               {'reason': 'sent_never_delivered', 'units': sent_only_units, 'amount': sent_only_amount},
               {'reason': 'missing_rate_card_row', 'units': unpriced_units, 'amount': NULL::DECIMAL(18, 6)},
               {'reason': 'category_disagreement', 'units': category_disagreements, 'amount': NULL::DECIMAL(18, 6)},
               {'reason': 'pricing_type_disagreement', 'units': pricing_type_disagreements, 'amount': NULL::DECIMAL(18, 6)},
               {'reason': 'volume_tier_discount', 'units': discounted_units, 'amount': NULL::DECIMAL(18, 6)},
               {'reason': 'meta_analytics_unavailable', 'units': CASE WHEN mm.month IS NULL THEN 0 END,
                'amount': NULL::DECIMAL(18, 6)}
           ], e -> e.units > 0 OR (e.reason = 'meta_analytics_unavailable' AND e.units IS NOT NULL)) AS explanations
    FROM joined j LEFT JOIN meta_months mm USING (month, waba_id)
)
SELECT month, waba_id, market, category, currency, ledger_units, ledger_charge, meta_units, meta_cost, invoice_amount,
       (meta_cost - ledger_charge)::DECIMAL(18, 6) AS diff_vs_meta,
       (invoice_amount - ledger_charge)::DECIMAL(18, 6) AS diff_vs_invoice,
       coalesce(no_status_amount, 0)::DECIMAL(18, 6) AS explained_amount,
       (invoice_amount - ledger_charge - coalesce(no_status_amount, 0))::DECIMAL(18, 6) AS unexplained_vs_invoice,
       explanations
FROM explained
ORDER BY month, waba_id, market, category
