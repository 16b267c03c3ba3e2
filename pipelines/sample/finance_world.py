"""Finance scenarios of the sample world (issue 12): the India WABA billed in INR, Caribbean +1 customers and
Polish customers whose market moves on 2026-07-01, each following Meta's pages rather than the pipeline:

- M-PRICE (Meta, "Pricing on the WhatsApp Business Platform", updated Jul 1, 2026): North America is the US and
  Canada only, any country the table does not list (Trinidad and Tobago) is "Other"; Poland leaves "Rest of
  Central & Eastern Europe" for its own market on 2026-07-01; cards are published per currency and India-billed
  WABAs pay in INR.
- M-CBP: from 2025-07-01 messages sent through the Marketing Messages (Lite) API are charged at the Cloud API
  marketing rate; the Brazil WABA's campaigns use it from 2026-03-01 and Meta reports them as `marketing_lite`.
- M-PRICE and the status webhook reference: Meta charges on delivery and statuses are unordered, so a few
  delivered messages also get a later `failed` status and stay charged.
- Meta's per-currency rate-card downloads: the INR card is written in Meta's own list-rate and volume-tier
  layouts (as documented by OJoshuaCG/meta-whatsapp-pricing `loaders/`), so the run reads Meta's format.

The scenario customers are added after the random cast with their own random stream (the random customers
are unchanged); their traffic is the ordinary traffic model. Rates are the generator's own plausible figures.
The India WABA's currency is set in world.WABAS.
"""
from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path

from pipelines.sample import model, writers
from pipelines.sample.payloads import Charge
from pipelines.sample.rng import FastRandom
from pipelines.sample.truth import Truth
from pipelines.sample.world import MARKETS, SURNAMES, Customer, Waba, World, _nanp, new_bsuid, new_wa_id, utc_day

def _pl(r) -> str:
    return f"48{r.choice(('50', '51', '53', '60', '66', '69', '72', '79', '88'))}{r.randrange(10**6, 10**7)}"


# Scenario markets, in MARKETS' shape with share 0 (never drawn for the random cast).
SCENARIO_MARKETS = {
    "TT": (0.0, "Other", "TT", 2, _nanp(("868",)), ("Keisha", "Ravi", "Marcus", "Aaliyah")),
    "PL": (0.0, "Rest of Central & Eastern Europe", "PL", 2, _pl, ("Zofia", "Jakub", "Maja", "Antoni")),
}
# How many fixed customers of each scenario market the world gets.
SCENARIO_CUSTOMERS = (("TT", 2), ("PL", 2))
# Dated market membership the generator knows (M-PRICE change log): market key -> ((from local date, market), ...)
MARKET_MOVES = {"PL": ((date(2026, 7, 1), "Poland"),)}

# INR list prices (marketing, utility, authentication) per delivered template (conversation before 2025-07-01).
INR_RATES = {
    date(2025, 1, 1): {"India": (0.8200, 0.1200, 0.1200)},
    date(2025, 7, 1): {"India": (0.8631, 0.1150, 0.1150)},
    date(2026, 1, 1): {"India": (0.9500, 0.1150, 0.1150)},
    date(2026, 10, 1): {"India": (0.9500, 0.1150, 0.1150)},
}
MARKETS.update(SCENARIO_MARKETS)
# Share of delivered Cloud API messages that also get a late 'failed' status (still charged: M-PRICE).
P_FAILED_AFTER_DELIVERED = 0.01


# The Brazil WABA sends its marketing campaigns through the Marketing Messages API from this date: Meta reports
# them as `marketing_lite` and charges the Cloud API marketing rate (M-CBP: from 2025-07-01).
MM_LITE_WABA = "102290129340398"
MM_LITE_FROM = date(2026, 3, 1)


def via_marketing_messages_api(charge: Charge, waba: Waba, t: int) -> Charge:
    """A campaign's marketing template as Meta prices it when sent through the Marketing Messages API."""
    local_day = utc_day(t + waba.utc_offset_s)
    if (waba.waba_id == MM_LITE_WABA and local_day >= MM_LITE_FROM and charge.model == "PMP"
            and charge.category == "marketing"):
        return Charge("marketing_lite", charge.ptype, charge.conversation_id, charge.model)  # _replace is 4x slower
    return charge


@cache  # asked once per message, of a few markets over a few hundred days
def meta_market(market_key: str, local_day: date) -> str:
    """The Meta pricing market of a customer of this market key on a WABA-local day."""
    market = MARKETS[market_key][1]
    for since, moved_to in MARKET_MOVES.get(market_key, ()):
        if local_day >= since:
            market = moved_to
    return market


def add_to_world(world: World, seed: int) -> None:
    """Append the scenario customers (opted in before the window starts, present from its first day)."""
    r = FastRandom(f"finance-world:{seed}")
    idx = len(world.customers)
    for key, count in SCENARIO_CUSTOMERS:
        _, _, iso2, w, _, names = MARKETS[key]
        phones = [p for p in world.phones if p.waba is world.wabas[w]]
        for _ in range(count):
            wa_id = new_wa_id(r, key, world.used_numbers)
            user_id = new_bsuid(r, iso2, world.used_numbers)
            name = f"{r.choice(names)} {r.choice(SURNAMES)}"
            world.customers.append(Customer(idx, key, iso2, wa_id, user_id, name, r.choice(phones),
                                            world.start.toordinal(), False, "before", "all"))
            idx += 1


def _list_file(effective: date, rates: dict) -> tuple[list[list[str]], int]:
    """Meta's list-rate layout for one INR card; returns the CSV records and how many rates it holds."""
    per_message = effective >= model.PMP_START
    records = [["WhatsApp Business Platform rates (sample world)"], ["Rates in INR"],
               [f"Effective {effective:%B} {effective.day}, {effective.year}"], ["Rates per delivered message" if per_message
                                                                                 else "Rates per conversation"], [""],
               ["Market", "Currency", "Marketing", "Utility", "Authentication", "Authentication-\nInternational", "Service"]]
    count = 0
    for market in sorted(rates):
        marketing, utility, auth = rates[market]
        service = f"{utility:.4f}" if effective >= model.SERVICE_CHARGED else "n/a"
        records.append([market, "₹", f"{marketing:.4f}", f"{utility:.4f}", f"{auth:.4f}", "n/a", service])
        count += 3 + (service != "n/a")
    return records, count


def _tier_file(rates: dict, tiers) -> tuple[list[list[str]], int]:
    """Meta's volume-tier layout: utility and authentication bands (no authentication-international here)."""
    records = [["WhatsApp volume tier rates (sample world, INR)"], ["See the pricing page"],
               ["", "", "Utility", "", "", "", "", "Authentication", "", "", "", "", "Authentication-International", "", "", "", ""],
               ["", "", "Messages per month", "", "What we charge", "", "", "Messages per month", "", "What we charge", "", "",
                "Messages per month", "", "What we charge", "", ""],
               ["Market\n(per rate card)", "Currency"] + ["From", "To", "Rate type", "Rate", "vs. List rate"] * 3]
    count = 0
    for market in sorted(rates):
        _, utility, auth = rates[market]
        for band, (lo, hi, factor) in enumerate(tiers):
            name = "List rate" if band == 0 else f"Tier {band}"
            discount = f"{round((factor - 1) * 100)}%"
            group = lambda rate: [f"{lo:,}", "--" if hi is None else f"{hi:,}", name, f"{rate * factor:.4f}", discount]  # noqa: E731
            records.append([market if band == 0 else "", "₹"] + group(utility) + group(auth) + ["n/a"] * 5)
            count += 2
    return records, count


def write_inr_rate_cards(out: Path, truth: Truth, tiers) -> None:
    """The INR card as Meta publishes it: a list-rate file per date, and a volume-tier file per per-message date."""
    for effective, rates in INR_RATES.items():
        files = [(f"rate_cards/meta_list_rates_INR_{effective.isoformat()}.csv", _list_file(effective, rates))]
        if effective >= model.PMP_START:
            files.append((f"rate_cards/meta_volume_tiers_INR_{effective.isoformat()}.csv", _tier_file(rates, tiers)))
        for rel, (records, count) in files:
            writers.write_csv(out / rel, records[0], records[1:])
            truth.file(rel).rows_in += count
            truth.expected["rate_cards"] += count
        if len(files) == 2:
            # Both files give the first utility and authentication band; staging keeps one of each.
            truth.expected["rate_cards"] -= 2 * len(rates)
