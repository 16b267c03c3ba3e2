"""Which WABA-local months of the month-partitioned marts a run rebuilds (models/dbt_macros/month_partitions.sql).

The dbt graph says which models are partitioned (incremental_strategy replace_months), which staging models hold the
events that land in a month (meta.month_events: outbound statuses and send-log rows, inbound messages), and so which other
tables they read whole (accounts, templates, rate cards, ...). A change in any of those, or a replaced landing file,
changes the inputs digest: the caller rebuilds every month. Otherwise the months are those the rows of the new loads
touch, in the WABA's timezone:
- a message with a new status or send-log row: every month from its first to its last event (its send time is one
  of them, whatever order they came in), the month its stored row is in, and when its customer had come from an ad
  or Page button in the 24 h before, the free entry point window (72 h) its reply may open;
- a new inbound message: the months of the customer-service window it opens (24 h), or for a referral the reply's
  24 h and the free entry point window after it;
and a whole rebuild (months None) instead when a month falls under conversation-based pricing (a conversation spans
days and months), or a customer has messages the sources do not attribute to a number (those take the number of the
customer's latest message, in any month) and new messages from another number.

The compliance marts (marts.optin_audit and its daily rollup) rebuild their own months, the plan row
'compliance' of bookkeeping.month_plan: the months above, since an audit row is a ledger row, and the months new consent data
reaches. marts.consent_timeline (meta.month_partitions planned_by_consent) is a whole table, rebuilt every run from
what it reads; its inputs are not digested (a STOP keyword any day would then rebuild every month) but planned here
from the rules of optin_audit.sql, which decides a message by as-of joins on its customer's timeline
(shared/domain/whatsapp-platform.md, section 7 and 11 "Consent"):
- an opt-out or resume keyword in the chat (new inbound texts that are a keyword in force), a marketing stop or
  resume (new user_preferences rows), a failure with Meta's 131050 (proof of a stop in force, at the failed
  message's send: its first event): each decides the messages sent from then on, so the months of every
  business-initiated message sent at or after the earliest of them (the stored ledger's; new messages are in the
  months above already);
- an identity change or a new wa_id <-> BSUID link (rows of staging.identity_changes or staging.customer_identities
  the stored marts.consent_timeline does not hold): it can make an id's earlier records speak for another
  (intermediate.customer_aliases: an alias speaks for the person within its tenure, not from the link on), and a
  number passing on ends consent: every month holding a message to a customer of the persons (the stored
  marts.customer_persons) of the ids it names;
- an opt-in record (new rows in staging.optin_events, rebuilt whole from landing/optins/) decides messages before it
  too (after_send), and a new chat keyword list any message: every month (None);
- anything else consent_timeline comes to read: every month, until this plan knows it.
When the finance months are every month, so are these. marts.optin_audit itself rebuilds what identity data
reaches by customer, not by month (a person's records decide only that person's messages; a link found today for
a customer written to every month would otherwise rebuild every month): its plan row 'audit' holds the months
without that part, and bookkeeping.customer_plan those customers, whose rows it replaces in every month; its daily
rollup, by day, keeps the months. The audit itself adds the months whose stored person_id the
ledger changed for another customer (optin_audit.sql); a person's aliases change only with identity data, planned above. The consent_scope
setting is in the models' fingerprint: a change rebuilds everything.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

STRATEGY = "replace_months"
RECHECKED = "rechecked_by_ledger"
CONSENT = "planned_by_consent"
# What consent_timeline reads that the consent plan below knows how to plan (the ledger, partitioned, and raw.load_audit,
# which only names the files: a replaced file is in the inputs digest).
_CONSENT_INPUTS = {"raw.load_audit", "staging.optin_events", "staging.chat_keywords", "staging.inbound_messages",
                   "staging.user_preferences", "staging.identity_changes", "staging.customer_identities"}
# How far a customer's message reaches forward: the customer-service window it opens, and for a referral (an ad or
# Page button) the 24 h in which the business's reply opens a free entry point window (its length: the pricing rules).
_SERVICE_WINDOW_HOURS = 24
_REFERRAL_REPLY_HOURS = 24


@dataclass(frozen=True)
class MonthPlan:
    months: tuple[date, ...] | None   # None: rebuild every month
    reason: str
    consent_months: tuple[date, ...] | None = None   # the compliance marts' months (plan 'compliance')
    consent_reason: str = "every month"
    # optin_audit's (plan 'audit'): the months above but those only the customers below reach, and those customers'
    # rows in every month (what new identity data can change is one person's audit, not a month's)
    audit_months: tuple[date, ...] | None = None
    audit_customers: tuple[str, ...] = ()

    @property
    def month_list(self) -> list[str] | None:
        return _iso(self.months)

    @property
    def consent_month_list(self) -> list[str] | None:
        return _iso(self.consent_months)

    @property
    def audit_month_list(self) -> list[str] | None:
        return _iso(self.audit_months)


def _iso(months: tuple[date, ...] | None) -> list[str] | None:
    return None if months is None else [m.isoformat() for m in months]


def partitioned_models(manifest: dict) -> list[str]:
    return sorted(uid for uid, node in manifest["nodes"].items()
                  if node["resource_type"] == "model" and node["config"].get("incremental_strategy") == STRATEGY)


def _meta(node: dict) -> dict:
    return node.get("config", {}).get("meta") or node.get("meta") or {}


def event_tables(manifest: dict) -> dict[str, str]:
    """The staging models whose new rows are planned month by month (meta.month_events in models/staging/_staging.yml):
    `schema.table` -> the kind of event they hold."""
    return {f"{node['schema']}.{node['name']}": _meta(node)["month_events"]
            for node in manifest["nodes"].values() if _meta(node).get("month_events")}


def _upstream(manifest: dict, start: list[str]) -> dict[str, dict]:
    """The staging models and sources upstream of `start` (through working tables), `schema.table` -> node; the
    walk stops at another partitioned model and at the models re-checked or planned otherwise (meta.month_partitions)."""
    seen, found, todo = set(), {}, list(start)
    while todo:
        uid = todo.pop()
        if uid in seen:
            continue
        seen.add(uid)
        node = manifest["sources"].get(uid) or manifest["nodes"].get(uid)
        if node is None or node["resource_type"] == "seed":  # the seeds' CSVs are in the models' fingerprint
            continue
        if node["resource_type"] == "source" or node["schema"] == "staging":  # the layer the marts are built from
            found[f"{node['schema']}.{node['name']}"] = node
            continue
        if uid not in start and (_meta(node).get("month_partitions") in (RECHECKED, CONSENT)
                                 or node["config"].get("incremental_strategy") == STRATEGY):
            continue
        todo.extend(manifest["parent_map"].get(uid, []))
    return found


def whole_table_inputs(manifest: dict) -> list[str]:
    """The other staging models and sources upstream of a partitioned model, read whole by every month it rebuilds."""
    return sorted(table for table, node in _upstream(manifest, partitioned_models(manifest)).items()
                  if not _meta(node).get("month_events"))


def consent_inputs(manifest: dict) -> list[str]:
    """What the models planned by consent events (meta.month_partitions planned_by_consent) read."""
    return sorted(_upstream(manifest, [uid for uid, node in manifest["nodes"].items()
                                       if _meta(node).get("month_partitions") == CONSENT]))


def inputs_digest(conn, manifest: dict) -> str:
    """Of the whole-table inputs' contents and of the replaced landing files: when it changes, every month may have."""
    digest = hashlib.md5()
    for table in whole_table_inputs(manifest):
        digest.update(f"{table}:{conn.execute(f'SELECT count(*), bit_xor(hash(t)) FROM {table} t').fetchone()}".encode())
    replaced = conn.execute("SELECT count(*) FROM raw.load_audit WHERE status = 'replaced'").fetchone()[0]
    digest.update(f"replaced:{replaced}".encode())
    return digest.hexdigest()


def plan(conn, manifest: dict, built_through: int) -> MonthPlan:
    """The months the loads after `built_through` touch (the marts are built through that load)."""
    kinds = event_tables(manifest)
    outbound = [t for t, kind in kinds.items() if kind == "outbound"]
    inbound = [t for t, kind in kinds.items() if kind == "inbound"]
    if sorted(outbound) != ["staging.message_log", "staging.message_statuses"] or inbound != ["staging.inbound_messages"]:
        return MonthPlan(None, "the staging models' month_events are not the ones this plan reads")
    for statement in _TOUCHED_SQL:
        conn.execute(statement, [built_through] * statement.count("?"))
    unattributed = conn.execute(_UNATTRIBUTED_SQL).fetchone()[0]
    if unattributed:
        return MonthPlan(None, f"{unattributed} customer(s) with messages attributed by their latest number have new ones from another number")
    free_entry_hours = conn.execute("SELECT coalesce(max(free_entry_point_hours), 0) FROM marts.pricing_regimes").fetchone()[0]
    months = tuple(row[0] for row in conn.execute(_MONTHS_SQL, [
        free_entry_hours, _REFERRAL_REPLY_HOURS + free_entry_hours, _SERVICE_WINDOW_HOURS]).fetchall())
    conversation_months = conn.execute(_CONVERSATION_MONTHS_SQL, [list(months)]).fetchall()
    if conversation_months:
        return MonthPlan(None, f"{conversation_months[0][0]:%Y-%m} is billed by conversation")
    return MonthPlan(months, f"{len(months)} month(s) touched by the new loads",
                     *_consent_plan(conn, manifest, built_through, months))


def _consent_plan(conn, manifest: dict, built_through: int, months: tuple[date, ...]) -> tuple:
    """The compliance marts' months (the ledger's and those the new consent events reach: the module docstring), their
    reason, and optin_audit's months and customers (MonthPlan)."""
    unknown = sorted(set(consent_inputs(manifest)) - _CONSENT_INPUTS)
    if unknown:
        return None, f"consent_timeline reads {', '.join(unknown)}, which this plan does not know", None, ()
    for table, what in (("staging.optin_events", "opt-in records"), ("staging.chat_keywords", "chat keywords")):
        if conn.execute(f"SELECT count(*) FROM {table} WHERE _load_id > ?", [built_through]).fetchone()[0]:
            return None, f"new {what}", None, ()
    for statement in _CONSENT_SQL:
        conn.execute(statement, [built_through] * statement.count("?"))
    consent = tuple(row[0] for row in conn.execute(_CONSENT_MONTHS_SQL, [list(months)]).fetchall())
    audit = tuple(row[0] for row in conn.execute(_AUDIT_MONTHS_SQL, [list(months)]).fetchall())
    customers = tuple(row[0] for row in conn.execute("SELECT customer_id FROM _identity_customers ORDER BY 1").fetchall())
    return (consent, f"{len(consent)} month(s) touched by the new loads and consent events; the audit: {len(audit)} "
            f"month(s) and the messages of {len(customers)} customer(s) new identity data names", audit, customers)


_TOUCHED_SQL = ["""
CREATE OR REPLACE TEMP TABLE _touched_messages AS
    SELECT message_id, customer_id, phone_number_id, waba_id FROM staging.message_statuses WHERE _load_id > ?
    UNION SELECT message_id, recipient_id, phone_number_id, waba_id FROM staging.message_log WHERE _load_id > ?
""", """
CREATE OR REPLACE TEMP TABLE _new_inbound AS
    SELECT message_id, waba_id, coalesce(group_id, customer_id) AS customer_id, sent_at,
           coalesce(referral_source_type, referral_ctwa_clid, referral_source_id) IS NOT NULL AS is_referral
    FROM staging.inbound_messages WHERE _load_id > ?
"""]

# Customers with messages no source attributes to a number (On-Premises bodies name none; outbound_messages gives
# them the number of the customer's latest message) whose new messages went from another number than that latest.
_UNATTRIBUTED_SQL = """
WITH unattributed AS (
    SELECT s.customer_id FROM staging.message_statuses s ANTI JOIN staging.message_log l USING (message_id)
    GROUP BY s.message_id, s.customer_id HAVING bool_and(s.phone_number_id IS NULL)
    UNION SELECT customer_id FROM staging.inbound_messages WHERE phone_number_id IS NULL
), at_risk AS (
    SELECT DISTINCT customer_id FROM unattributed SEMI JOIN _touched_messages USING (customer_id)
), latest AS (
    SELECT customer_id, arg_max(phone_number_id, sent_at) AS phone_number_id, arg_max(waba_id, sent_at) AS waba_id
    FROM intermediate.outbound_messages SEMI JOIN at_risk USING (customer_id) GROUP BY customer_id
)
SELECT count(DISTINCT n.customer_id)
FROM _touched_messages n SEMI JOIN at_risk USING (customer_id) LEFT JOIN latest l USING (customer_id)
WHERE n.phone_number_id IS NOT NULL
  AND (l.phone_number_id IS DISTINCT FROM n.phone_number_id OR l.waba_id IS DISTINCT FROM n.waba_id)
"""

# An interval of event time -> every WABA-local month it overlaps; a WABA we cannot tell: every known timezone.
_MONTHS_SQL = """
WITH zones AS (
    SELECT waba_id, coalesce(timezone, 'UTC') AS timezone FROM staging.accounts
), all_zones AS (
    SELECT DISTINCT timezone FROM zones UNION SELECT 'UTC'
), events AS (
    SELECT s.message_id, s.waba_id, s.customer_id, s.status_at AS event_at
    FROM staging.message_statuses s SEMI JOIN _touched_messages USING (message_id)
    UNION ALL
    SELECT l.message_id, l.waba_id, l.recipient_id, l.sent_at FROM staging.message_log l SEMI JOIN _touched_messages USING (message_id)
), messages AS (
    SELECT message_id, any_value(waba_id) FILTER (waba_id IS NOT NULL) AS waba_id,
           any_value(customer_id) FILTER (customer_id IS NOT NULL) AS customer_id, min(event_at) AS first_at, max(event_at) AS last_at
    FROM events GROUP BY message_id
), intervals AS (
    SELECT m.waba_id, m.first_at AS from_at,
           m.last_at + CASE WHEN EXISTS (SELECT 1 FROM staging.inbound_messages i
                                         WHERE coalesce(i.group_id, i.customer_id) = m.customer_id
                                           AND coalesce(i.referral_source_type, i.referral_ctwa_clid, i.referral_source_id) IS NOT NULL
                                           AND i.sent_at BETWEEN m.first_at - INTERVAL 24 HOUR AND m.last_at)
                            THEN to_hours(?::BIGINT) ELSE INTERVAL 0 HOUR END AS to_at
    FROM messages m
    UNION ALL
    SELECT waba_id, sent_at, sent_at + to_hours(CASE WHEN is_referral THEN ?::BIGINT ELSE ?::BIGINT END) FROM _new_inbound
), zoned AS (
    SELECT i.from_at, i.to_at, coalesce(z.timezone, a.timezone) AS timezone
    FROM intervals i LEFT JOIN zones z USING (waba_id)
    LEFT JOIN all_zones a ON z.timezone IS NULL
)
SELECT DISTINCT month::DATE FROM (
    SELECT unnest(generate_series(date_trunc('month', (from_at AT TIME ZONE timezone)),
                                  date_trunc('month', (to_at AT TIME ZONE timezone)), INTERVAL 1 MONTH)) AS month
    FROM zoned
    UNION ALL
    SELECT o.local_month FROM intermediate.outbound_messages o SEMI JOIN _touched_messages USING (message_id)
    UNION ALL
    SELECT o.local_month FROM intermediate.outbound_messages o SEMI JOIN _new_inbound USING (message_id)
)
ORDER BY 1
"""

_CONSENT_SQL = ["""
-- The earliest new consent event that decides the messages sent from then on.
CREATE OR REPLACE TEMP TABLE _consent_from AS
SELECT min(event_at) AS event_at FROM (
    -- an opt-out or resume written in the chat: a text that is exactly a keyword in force (consent_timeline.sql)
    SELECT sent_at AS event_at FROM staging.inbound_messages
    WHERE _load_id > ? AND message_type = 'text' AND customer_id IS NOT NULL
      AND waba_normalised_text(text_body) IN (SELECT normalised FROM intermediate.chat_keywords_in_force)
    UNION ALL
    SELECT changed_at FROM staging.user_preferences WHERE _load_id > ? AND customer_id IS NOT NULL
    UNION ALL
    -- a message failed (or no longer failed) with 131050: a stop in force at its send, its first event at the latest
    SELECT min(e.event_at) FROM (
        SELECT message_id, status_at AS event_at FROM staging.message_statuses
        UNION ALL SELECT message_id, sent_at FROM staging.message_log
    ) e SEMI JOIN (SELECT message_id FROM staging.message_statuses SEMI JOIN _touched_messages USING (message_id)
                   WHERE error_code = 131050) USING (message_id)
    GROUP BY e.message_id
)
""", """
-- The customers whose aliases new identity data can change: the ids an identity change or wa_id <-> BSUID link the
-- stored timeline does not hold names, and every customer id of their persons.
CREATE OR REPLACE TEMP TABLE _identity_customers AS
WITH new_changes AS (
    SELECT * FROM staging.identity_changes c
    ANTI JOIN marts.consent_timeline t ON t.source = 'system_message' AND t.evidence_ref = c.message_id
), new_links AS (
    SELECT * FROM staging.customer_identities c
    ANTI JOIN marts.consent_timeline t
      ON t.event_type = 'id_link' AND t.recorded_under = c.wa_id AND t.linked_id = c.user_id AND t.event_at = c.first_seen_at
), ids AS (
    SELECT DISTINCT id FROM (
        SELECT unnest([previous_wa_id, previous_user_id, new_wa_id, new_user_id]) AS id FROM new_changes
        UNION ALL SELECT unnest([wa_id, user_id]) FROM new_links)
    WHERE id IS NOT NULL
)
SELECT id AS customer_id FROM ids
UNION
SELECT p.customer_id FROM marts.customer_persons p
SEMI JOIN (SELECT person_id FROM marts.customer_persons SEMI JOIN ids ON customer_id = id) USING (person_id)
"""]

# The planned months, and every month holding a business-initiated message a new consent event decides.
_CONSENT_MONTHS_SQL = """
SELECT month FROM unnest(?::DATE[]) AS m(month)
UNION
SELECT DISTINCT local_month FROM marts.message_ledger
WHERE is_business_initiated
  AND (sent_at >= (SELECT event_at FROM _consent_from) OR customer_id IN (SELECT customer_id FROM _identity_customers))
ORDER BY 1
"""
# optin_audit's: the same but for the identity customers' messages, which it rebuilds by customer.
_AUDIT_MONTHS_SQL = """
SELECT month FROM unnest(?::DATE[]) AS m(month)
UNION
SELECT DISTINCT local_month FROM marts.message_ledger
WHERE is_business_initiated AND sent_at >= (SELECT event_at FROM _consent_from)
ORDER BY 1
"""

# A planned month in which a conversation-based regime was in force on any day.
_CONVERSATION_MONTHS_SQL = """
WITH regimes AS (
    SELECT effective_from, lead(effective_from) OVER (ORDER BY effective_from) AS until, billing_unit
    FROM marts.pricing_regimes WHERE enabled
)
SELECT m.month FROM unnest(?::DATE[]) AS m(month) JOIN regimes r
  ON r.billing_unit = 'conversation' AND r.effective_from < m.month + INTERVAL 1 MONTH AND (r.until IS NULL OR r.until > m.month)
ORDER BY 1
"""
