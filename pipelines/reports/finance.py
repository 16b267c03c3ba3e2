"""Finance: what WhatsApp cost by month, market, category and pricing type; unit costs; and how our figure
differs from Meta's analytics and the invoice."""
from __future__ import annotations

import duckdb

from pipelines.reports import charts
from pipelines.reports.tables import query_table

TITLE = "Finance"
QUESTION = "What did WhatsApp cost, where, for what, and why does our figure differ from Meta's?"


def content(conn: duckdb.DuckDBPyConnection) -> dict:
    # Amounts are never added across currencies: one KPI per currency, and every chart series names its currency.
    currencies = [r[0] for r in conn.execute("SELECT DISTINCT currency FROM marts.spend_daily ORDER BY 1").fetchall()]
    money = "charge (" + "/".join(currencies) + ")" if currencies else "charge"
    per_currency = conn.execute("""
        SELECT currency, coalesce(sum(charge), 0), coalesce(sum(delivered), 0), coalesce(sum(unverified_charge), 0)
        FROM marts.spend_daily GROUP BY currency ORDER BY currency""").fetchall()
    messages, units, unpriced = conn.execute("""
        SELECT coalesce(sum(messages), 0), coalesce(sum(billable_units), 0), coalesce(sum(unpriced_units), 0)
        FROM marts.spend_daily""").fetchone()
    kpis = [(f"Total charge ({cur})", f"{charge:,.2f} {cur}") for cur, charge, _, _ in per_currency] or [("Total charge", "0.00")]
    kpis += [("Messages sent", f"{messages:,}"), ("Billable units", f"{units:,}")]
    kpis += [(f"Cost per delivered message ({cur})", f"{charge / delivered:,.4f}" if delivered else "n/a")
             for cur, charge, delivered, _ in per_currency]
    kpis.append(("Unpriced units (no rate)", f"{unpriced:,}"))
    kpis += [(f"Charge on unverified rates ({cur})", f"{unverified:,.2f} {cur}")
             for cur, _, _, unverified in per_currency if unverified]
    return {
        "kpis": kpis,
        "by_month": charts.stacked_bars(conn.execute("""
            SELECT date_trunc('month', day)::DATE, category || ' (' || currency || ')', sum(charge) FROM marts.spend_daily
            GROUP BY ALL HAVING sum(charge) <> 0 ORDER BY 1""").fetchall(), "finance-by-month", money),
        "by_market": charts.bars(conn.execute("""
            SELECT market || ' (' || currency || ')', sum(charge) FROM marts.spend_daily GROUP BY ALL HAVING sum(charge) <> 0""").fetchall(),
            "finance-by-market", money),
        "by_category": charts.bars(conn.execute("""
            SELECT category || ' (' || currency || ')', sum(charge) FROM marts.spend_daily GROUP BY ALL""").fetchall(), "finance-by-category", money),
        "by_pricing_type": charts.stacked_bars(conn.execute("""
            SELECT date_trunc('month', day)::DATE, pricing_type, sum(messages) FROM marts.spend_daily GROUP BY ALL ORDER BY 1
            """).fetchall(), "finance-by-pricing-type", "messages", hover="%{y:,} messages"),
        "unit_costs": charts.lines(conn.execute("""
            SELECT month, series, value FROM (
                SELECT date_trunc('month', day)::DATE AS month,
                       CASE pricing_model WHEN 'CBP' THEN 'per conversation' ELSE 'per charged message' END
                           || ' (' || currency || ')' AS series,
                       sum(charge) / nullif(sum(billable_units), 0) AS value
                FROM marts.spend_daily GROUP BY ALL
                UNION ALL
                SELECT date_trunc('month', day)::DATE, 'per delivered message (all, ' || currency || ')',
                       sum(charge) / nullif(sum(delivered), 0)
                FROM marts.spend_daily GROUP BY ALL
            ) WHERE value IS NOT NULL ORDER BY month""").fetchall(), "finance-unit-costs", money, hover="%{y:,.4f}"),
        "reconciliation_chart": charts.lines(conn.execute("""
            SELECT month, series, value FROM (
                SELECT month, series || ' (' || currency || ')' AS series, value FROM (
                    UNPIVOT (SELECT month, currency, sum(diff_vs_meta) AS "Meta analytics - ledger",
                                    sum(diff_vs_invoice) AS "invoice - ledger",
                                    sum(unexplained_vs_invoice) AS "unexplained vs invoice"
                             FROM marts.cost_reconciliation GROUP BY ALL)
                    ON COLUMNS(* EXCLUDE (month, currency)) INTO NAME series VALUE value)
            ) ORDER BY month, series""").fetchall(), "finance-reconciliation", money),
        "reconciliation": query_table(conn, """
            SELECT month, currency, sum(ledger_units), sum(ledger_charge), sum(meta_cost), sum(invoice_amount),
                   sum(diff_vs_meta), sum(diff_vs_invoice), sum(explained_amount), sum(unexplained_vs_invoice),
                   list_distinct(flatten(list(list_transform(explanations, e -> e.reason)))) AS reasons
            FROM marts.cost_reconciliation GROUP BY ALL ORDER BY month, currency""",
            [("Month", "date"), ("Currency", "text"), ("Ledger units", "int"), ("Ledger charge", "money"),
             ("Meta cost", "money"), ("Invoice", "money"), ("Meta - ledger", "money"), ("Invoice - ledger", "money"),
             ("Explained", "money"), ("Unexplained", "money"), ("Reasons", "list")]),
        "by_phone_number": query_table(conn, """
            SELECT coalesce(m.masked_number, s.phone_number_id), s.waba_id, sum(s.messages), sum(s.billable_units),
                   sum(s.charge), s.currency
            FROM marts.spend_daily s LEFT JOIN masked_numbers m USING (phone_number_id)
            GROUP BY ALL ORDER BY 5 DESC""",
            [("Phone number", "text"), ("WABA", "text"), ("Messages", "int"), ("Billable units", "int"),
             ("Charge", "money"), ("Currency", "text")]),
        "by_template": query_table(conn, """
            SELECT template_name, template_language, category, sum(messages), sum(delivered), sum(charge),
                   sum(charge) / nullif(sum(delivered), 0), currency
            FROM marts.spend_monthly_by_template WHERE template_name IS NOT NULL
            GROUP BY ALL ORDER BY 6 DESC LIMIT 50""",
            [("Template", "text"), ("Language", "text"), ("Category", "text"), ("Messages", "int"),
             ("Delivered", "int"), ("Charge", "money"), ("Per delivered", "money4"), ("Currency", "text")]),
        "by_campaign": query_table(conn, """
            SELECT coalesce(campaign, '(no campaign)'), category, sum(messages), sum(delivered), sum(failed), sum(charge),
                   sum(charge) / nullif(sum(delivered), 0), currency
            FROM marts.spend_monthly_by_campaign GROUP BY ALL ORDER BY 6 DESC LIMIT 50""",
            [("Campaign", "text"), ("Category", "text"), ("Messages", "int"), ("Delivered", "int"), ("Failed", "int"),
             ("Charge", "money"), ("Per delivered", "money4"), ("Currency", "text")]),
    }
