"""What each sample message costs, computed from the generator's own knowledge of how Meta priced it.

Two views are kept: what a ledger built from the archived webhooks should charge (a message is
charged when a delivered or read status was archived), and what Meta itself billed (it also bills the
messages whose status webhooks never reached the archive). Their difference is what reconciliation
must explain. Amounts are integer micro-units of the WABA's currency, so sums are exact.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache

from pipelines.sample.business import AUTH_INTERNATIONAL_INDIA, RATES, VOLUME_TIERS
from pipelines.sample.finance_world import INR_RATES
from pipelines.sample.payloads import Charge
from pipelines.sample.world import utc_day

# service bills at the utility rate; marketing_lite (Marketing Messages API) at the marketing rate (M-CBP, from 2025-07-01)
CATEGORY_INDEX = {"marketing": 0, "marketing_lite": 0, "utility": 1, "authentication": 2, "service": 1}
TIERED = ("utility", "authentication")


def _micros(rate: float) -> int:
    """The rate exactly as the card prints it (4 places), in micro-units."""
    return int(Decimal(f"{rate:.4f}") * 1_000_000)


def rate_micros(market: str, category: str, local_day: date, volume_rank: int | None, currency: str = "USD") -> int:
    """The generator's own card in the WABA's currency (USD: business.RATES; INR: finance_world.INR_RATES)."""
    if volume_rank is None:
        return _card_micros(market, category, local_day, None, currency)
    for tier, (lo, hi, _) in enumerate(VOLUME_TIERS):
        if volume_rank >= lo and (hi is None or volume_rank <= hi):
            return _card_micros(market, category, local_day, tier, currency)
    raise ValueError(f"no volume tier holds rank {volume_rank}")


@cache  # a few thousand distinct prices, asked for once per billed message
def _card_micros(market: str, category: str, local_day: date, tier: int | None, currency: str) -> int:
    rates = INR_RATES if currency == "INR" else RATES
    effective = max(d for d in rates if d <= local_day)
    if category == "authentication_international":
        base = AUTH_INTERNATIONAL_INDIA
    else:
        base = rates[effective][market][CATEGORY_INDEX[category]]
    return _micros(base) if tier is None else _micros(base * VOLUME_TIERS[tier][2])


# Reported (BSPs quoting Meta's Aug 25, 2026 pricing-updates page): from 2026-10-01 each business phone number's
# first 1,000 service messages of a (WABA-local) month are free, 1:1 and group together, no rollover.
SERVICE_ALLOWANCE_FROM = date(2026, 10, 1)
SERVICE_ALLOWANCE = 1000


class ServiceAllowance:
    """The reported free service messages per phone number and month, counted on every service message Meta
    accepts (not failed), in send order: Meta states the pricing type on the `sent` status, before delivery."""

    def __init__(self) -> None:
        self.used: dict[tuple[str, int, int], int] = {}

    def take(self, phone_number_id: str, local_day: date) -> bool:
        """True when this service message is inside the allowance (and uses one unit of it)."""
        if local_day < SERVICE_ALLOWANCE_FROM:
            return False
        key = (phone_number_id, local_day.year, local_day.month)
        used = self.used.get(key, 0)
        self.used[key] = used + 1
        return used < SERVICE_ALLOWANCE


class Billing:
    """One view of the bill: conversations charged once, per-message volume counted per portfolio and month."""

    def __init__(self) -> None:
        self.charged_conversations: set[str] = set()
        self.volume: dict[tuple, int] = {}

    def bill(self, charge: Charge, market: str, portfolio: str, t: int, utc_offset_s: int, delivered: bool,
             currency: str = "USD") -> int:
        if not delivered or charge.ptype != "regular":
            return 0
        local_day = utc_day(t + utc_offset_s)
        if charge.model == "CBP":
            if charge.conversation_id in self.charged_conversations:
                return 0
            self.charged_conversations.add(charge.conversation_id)
            return rate_micros(market, charge.category, local_day, None, currency)
        if charge.category not in TIERED:
            return rate_micros(market, charge.category, local_day, None, currency)
        key = (portfolio, market, charge.category, local_day.year, local_day.month)
        self.volume[key] = self.volume.get(key, 0) + 1
        return rate_micros(market, charge.category, local_day, self.volume[key], currency)
