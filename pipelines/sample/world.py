"""The static cast of the sample world: portfolios, WABAs, phone numbers, templates and customers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache

from pipelines.sample import model
from pipelines.sample.rng import FastRandom


@dataclass(frozen=True)
class Waba:
    waba_id: str
    portfolio_id: str
    timezone: str
    utc_offset_s: int
    currency: str = "USD"


@dataclass
class PhoneNumber:
    phone_number_id: str
    waba: Waba
    display: str  # digits only, as webhooks spell it
    formatted: str  # as the Graph API / Business Manager shows it
    onprem_until: date | None = None
    quality_rating: str = "GREEN"
    messaging_limit: str = "TIER_1K"
    status: str = "CONNECTED"

    def is_onprem(self, day: date) -> bool:
        return self.onprem_until is not None and day < self.onprem_until


@dataclass
class Template:
    template_id: int
    waba: Waba
    name: str
    language: str
    category: str  # MARKETING | UTILITY | AUTHENTICATION (current, may be recategorised)
    created: date
    status: str = "APPROVED"
    quality: str = "GREEN"
    buttons: tuple[str, ...] = ()

    @property
    def sendable(self) -> bool:
        return self.status in ("APPROVED", "REINSTATED")


class Customer:
    __slots__ = (
        "idx", "market", "iso2", "wa_id", "user_id", "name", "phone", "active_from",
        "bsuid_only", "last_inbound", "fep_from", "fep_until", "fep_pending_until", "stopped", "last_template_id",
        "last_out_id", "first_template_ts", "optin_plan", "wa_history", "optin_scope", "fep_conv",
        "last_template_buttons",
    )

    def __init__(self, idx, market, iso2, wa_id, user_id, name, phone, active_from, bsuid_only, optin_plan, optin_scope):
        self.idx = idx
        self.market = market
        self.iso2 = iso2
        self.wa_id = wa_id
        self.user_id = user_id
        self.name = name
        self.phone = phone
        self.active_from = active_from
        self.bsuid_only = bsuid_only
        self.last_inbound = -10**12
        self.fep_from = -10**12
        self.fep_until = -10**12
        self.fep_pending_until = -10**12
        self.fep_conv = ""
        self.stopped = False
        self.last_template_id = None
        self.last_template_buttons: tuple[str, ...] = ()
        self.last_out_id = None
        self.first_template_ts = None
        self.optin_plan = optin_plan
        self.optin_scope = optin_scope
        # (valid_from_ts, wa_id): opt-ins must name the number the customer had at the time
        self.wa_history = [(-10**12, wa_id)] if wa_id else []


@dataclass
class World:
    wabas: list[Waba]
    phones: list[PhoneNumber]
    templates: list[Template]
    customers: list[Customer]
    start: date
    end: date
    used_numbers: set[str] = field(default_factory=set)

    def templates_of(self, waba: Waba) -> list[Template]:
        return [t for t in self.templates if t.waba is waba]


# Market -> (Meta pricing market, ISO country, calling code, national-number generator)
def _br(r: random.Random) -> str:
    return f"55{r.choice(('11', '21', '31', '41', '51', '61', '71', '81', '85', '92'))}9{r.randrange(10**7, 10**8)}"


def _in(r: random.Random) -> str:
    return f"91{r.choice('6789')}{r.randrange(10**8, 10**9)}"


def _uk(r: random.Random) -> str:
    return f"447{r.randrange(10**8, 10**9)}"


def _ng(r: random.Random) -> str:
    return f"234{r.choice(('70', '80', '81', '90', '91'))}{r.randrange(10**7, 10**8)}"


def _nanp(codes):
    def gen(r: random.Random) -> str:
        return f"1{r.choice(codes)}{r.randrange(2, 10)}{r.randrange(10**5, 10**6)}"
    return gen


MARKETS = {
    # key: (share, meta market, iso2, waba index, number generator, first names)
    "BR": (0.30, "Brazil", "BR", 0, _br, ("Ana", "João", "Mariana", "Pedro", "Beatriz", "Lucas")),
    "IN": (0.28, "India", "IN", 1, _in, ("Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Isha")),
    "GB": (0.10, "United Kingdom", "GB", 2, _uk, ("Oliver", "Amelia", "Harry", "Isla", "George", "Ava")),
    "NG": (0.10, "Nigeria", "NG", 2, _ng, ("Chidi", "Ngozi", "Tunde", "Aisha", "Emeka", "Funmi")),
    "US": (0.11, "North America", "US", 2, _nanp(("212", "415", "646", "312", "617", "305")), ("Emma", "Liam", "Noah", "Mia", "Ethan", "Sofia")),
    "CA": (0.04, "North America", "CA", 2, _nanp(("416", "604")), ("Chloe", "Logan", "Maya", "Owen", "Léa", "Jacob")),
    "DO": (0.04, "Rest of Latin America", "DO", 0, _nanp(("809", "829", "849")), ("José", "María", "Luis", "Carmen", "Rafael", "Yolanda")),
    "JM": (0.03, "Rest of Latin America", "JM", 0, _nanp(("876",)), ("Andre", "Shanice", "Dwayne", "Kerry-Ann", "Marlon", "Tanya")),
}
SURNAMES = ("Silva", "Sharma", "Smith", "Okafor", "Johnson", "Tremblay", "Pérez", "Campbell", "Santos", "Patel")

WABAS = (
    Waba("102290129340398", "1059234782391023", "America/Sao_Paulo", -3 * 3600),
    Waba("109834712098321", "1059234782391023", "Asia/Kolkata", 19800, "INR"),  # India-billed: INR (Meta pricing page)
    Waba("115782309128734", "2274019283746510", "UTC", 0),
)

# (waba index, phone_number_id, digits, formatted, on-prem until)
PHONES = (
    (0, "106540352242922", "551130031234", "+55 11 3003-1234", None),
    (0, "110293847561029", "551140028922", "+55 11 4002-8922", model.ONPREM_SUNSET),
    (1, "113847562910384", "918047110000", "+91 80471 10000", None),
    (2, "117263548190273", "442071838750", "+44 20 7183 8750", None),
    (2, "119384756102938", "15550783881", "+1 555-078-3881", None),
)

# (name, category, languages by waba, quick-reply buttons, created offset as a fraction of the window or None for pre-existing)
TEMPLATE_SPECS = (
    ("promo_weekly_offers", "MARKETING", ("Shop now", "Stop promotions"), None),
    ("abandoned_cart_reminder", "MARKETING", ("Complete order", "Not interested"), None),
    ("order_shipped", "UTILITY", ("Track", "Talk to agent"), None),
    ("appointment_reminder", "UTILITY", ("Confirm", "Reschedule"), None),
    ("otp_login_code", "AUTHENTICATION", (), None),
    ("seasonal_launch", "MARKETING", ("See collection",), 0.30),
    ("payment_receipt", "UTILITY", (), 0.45),
)
LANGUAGES = (("pt_BR", "es"), ("en_US", "hi"), ("en_GB", "en_US"))


def _bsuid(r: random.Random, iso2: str) -> str:
    return f"{iso2}.{r.randrange(10**18, 10**19)}"


def new_wa_id(r: random.Random, market_key: str, used: set[str]) -> str:
    gen = MARKETS[market_key][4]
    while True:
        wa = gen(r)
        if wa not in used:
            used.add(wa)
            return wa


def new_bsuid(r: random.Random, iso2: str, used: set[str]) -> str:
    while True:
        uid = _bsuid(r, iso2)
        if uid not in used:
            used.add(uid)
            return uid


def _optin_plan(r: random.Random) -> tuple[str, str]:
    x = r.random()
    if x < 0.80:
        return "before", "all"
    if x < 0.85:
        return "never", ""
    if x < 0.92:
        return "late", "all"
    if x < 0.96:
        return "out_and_back", "all"
    return "scoped", r.choice(("marketing", "utility"))


def build_world(seed: int, customers: int, start: date, end: date) -> World:
    r = FastRandom(f"world:{seed}")
    wabas = list(WABAS)
    phones = [PhoneNumber(pid, wabas[w], digits, fmt, onprem) for w, pid, digits, fmt, onprem in PHONES]
    templates: list[Template] = []
    span = (end - start).days
    next_tid = 1_100_000_000_000_000 + r.randrange(10**12)
    for w, waba in enumerate(wabas):
        for name, cat, buttons, created_frac in TEMPLATE_SPECS:
            for lang in LANGUAGES[w]:
                created = start - timedelta(days=400) if created_frac is None else start + timedelta(days=int(span * created_frac))
                status = "APPROVED" if created_frac is None else "PENDING"
                quality = "GREEN" if created_frac is None else "UNKNOWN"
                templates.append(Template(next_tid, waba, name, lang, cat, created, status, quality, buttons))
                next_tid += r.randrange(1000, 99999)

    used: set[str] = set(p.display for p in phones)
    keys = list(MARKETS)
    weights = [MARKETS[k][0] for k in keys]
    bsuid_from = max(start, model.BSUID_START)
    people: list[Customer] = []
    for i in range(customers):
        key = r.choices(keys, weights)[0]
        _, _, iso2, w, _, names = MARKETS[key]
        waba_phones = [p for p in phones if p.waba is wabas[w]]
        phone = waba_phones[0] if len(waba_phones) == 1 else r.choice(waba_phones)
        name = f"{r.choice(names)} {r.choice(SURNAMES)}"
        bsuid_only = bsuid_from <= end and r.random() < model.BSUID_ONLY_SHARE
        if bsuid_only:
            active_from = bsuid_from + timedelta(days=r.randrange(0, 30))
            wa_id = None
        else:
            active_from = start if r.random() < model.PRESENT_AT_START else start + timedelta(days=r.randrange(0, span + 1))
            wa_id = new_wa_id(r, key, used)
        # Every customer owns a BSUID; webhooks only reveal it once Meta rolls BSUIDs out.
        user_id = new_bsuid(r, iso2, used)
        plan, scope = _optin_plan(r)
        people.append(Customer(i, key, iso2, wa_id, user_id, name, phone, active_from.toordinal(), bsuid_only, plan, scope))
    world = World(wabas, phones, templates, people, start, end, used)
    from pipelines.sample import finance_world  # issue 12's INR WABA and market scenarios (own random stream)

    finance_world.add_to_world(world, seed)
    return world


def day_start_ts(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


def utc_day(ts: int) -> date:
    """The UTC date of a Unix time; what datetime.fromtimestamp(ts, timezone.utc).date() gives, for a fraction of its cost."""
    return _day_of(ts // 86400)


@lru_cache(maxsize=4096)
def _day_of(days_since_epoch: int) -> date:
    return date.fromordinal(days_since_epoch + 719163)
