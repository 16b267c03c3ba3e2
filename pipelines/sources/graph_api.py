"""A client for Meta's WhatsApp Business Management API (the Graph API): settings, one GET with
retries, cursor paging, and the requests for each kind of Business Manager data we keep.

The token travels only in the Authorization header and is scrubbed from every text this module
produces (errors, log lines, saved bodies), because Meta echoes it in `paging.next` URLs when a
caller sent it as a query parameter, and exception texts can carry request details.
"""
from __future__ import annotations

import email.utils
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import httpx

from pipelines.errors import UserError

TOKEN_ENV = "WABA_GRAPH_TOKEN"
WABA_IDS_ENV = "WABA_GRAPH_WABA_IDS"
VERSION_ENV = "WABA_GRAPH_API_VERSION"
BASE_URL_ENV = "WABA_GRAPH_BASE_URL"
DEFAULT_API_VERSION = "v24.0"
DEFAULT_BASE_URL = "https://graph.facebook.com"
# Tuning knobs, mostly so tests (and slow links) can shorten or stretch the waits.
TUNING_ENV = {"timeout": "WABA_GRAPH_TIMEOUT", "max_retries": "WABA_GRAPH_MAX_RETRIES",
              "backoff_base": "WABA_GRAPH_BACKOFF_BASE", "max_wait": "WABA_GRAPH_MAX_WAIT",
              "max_pages": "WABA_GRAPH_MAX_PAGES"}

# Graph error codes that mean "slow down" (app, user, page, custom and business-use-case limits).
RATE_LIMIT_CODES = {4, 17, 32, 613} | set(range(80000, 80015))
# "Unknown error" and "service temporarily unavailable": Meta says retry.
TRANSIENT_CODES = {1, 2}
# The token is unusable: every further call would fail the same way.
AUTH_CODES = {102, 190}
HINTS = {
    190: f"the access token is invalid or expired; put a new one in {TOKEN_ENV}",
    102: f"the session behind the access token ended; put a new token in {TOKEN_ENV}",
    100: "Meta rejected a parameter of this request",
    10: "the token lacks a permission this call needs (whatsapp_business_management)",
    200: "the token lacks a permission this call needs (whatsapp_business_management)",
}


@dataclass(frozen=True)
class GraphSettings:
    token: str = field(repr=False)
    waba_ids: tuple[str, ...]
    api_version: str = DEFAULT_API_VERSION
    base_url: str = DEFAULT_BASE_URL
    timeout: float = 30.0          # seconds per request (connect, read, write)
    max_retries: int = 5           # retries after the first attempt
    backoff_base: float = 1.0      # first retry waits about this long, doubling each time, with jitter
    max_wait: float = 300.0        # cap on any one wait, whatever Meta's headers ask for
    max_pages: int = 10_000        # pages followed per request chain: a server handing out new cursors forever stops here

    @classmethod
    def build(cls, token: str | None, waba_ids: str | None, api_version: str | None = None,
              base_url: str | None = None, **tuning) -> GraphSettings:
        """Settings from their text forms; a missing token or WABA id names the variable to set."""
        if not (token or "").strip():
            raise UserError(f"no Graph API token: set {TOKEN_ENV} to a system-user access token")
        ids = tuple(i.strip() for i in (waba_ids or "").split(",") if i.strip())
        if not ids:
            raise UserError(f"no WhatsApp Business Account id: set {WABA_IDS_ENV} (comma separated)")
        bad = [i for i in ids if not i.isdigit()]
        if bad:
            raise UserError(f"{WABA_IDS_ENV}: WABA ids are numbers, got {', '.join(bad)}")
        return cls(token.strip(), ids, (api_version or "").strip() or DEFAULT_API_VERSION,
                   (base_url or "").strip().rstrip("/") or DEFAULT_BASE_URL, **tuning)

    @classmethod
    def tuning_from_env(cls) -> dict:
        """The optional WABA_GRAPH_TIMEOUT / _MAX_RETRIES / _BACKOFF_BASE / _MAX_WAIT that are set."""
        tuning = {}
        for name, var in TUNING_ENV.items():
            if os.environ.get(var):
                try:
                    tuning[name] = type(getattr(cls, name))(os.environ[var])
                except ValueError:
                    raise UserError(f"{var} must be a number, got {os.environ[var]!r}") from None
        return tuning

    @classmethod
    def from_env(cls) -> GraphSettings:
        env = os.environ
        return cls.build(env.get(TOKEN_ENV), env.get(WABA_IDS_ENV), env.get(VERSION_ENV), env.get(BASE_URL_ENV),
                         **cls.tuning_from_env())


class GraphApiError(UserError):
    """A Graph API call that failed for good: one line naming the call, never the token.

    `fatal` means later calls would fail the same way (bad token, unreachable server, still
    rate limited), so a fetch stops instead of trying every remaining call.
    """

    def __init__(self, message: str, *, code: int | None = None, fatal: bool = False):
        super().__init__(message)
        self.code = code
        self.fatal = fatal


@dataclass(frozen=True)
class Request:
    """One GET as it is recorded beside its response: path with version, every query parameter."""

    kind: str
    path: str
    params: dict

    def as_dict(self) -> dict:
        return {"method": "GET", "path": self.path, "params": self.params}

    def describe(self) -> str:
        return f"GET {self.path} ({self.kind})"


@dataclass(frozen=True)
class Page:
    request: Request
    body: dict
    text: str      # the body as received, token scrubbed


def scrub(text: str, token: str) -> str:
    """Remove the token, and any access_token query value, from a text."""
    if token:
        text = text.replace(token, "[redacted]")
    return re.sub(r"(access_token=)[^&\s\"']+", r"\1[redacted]", text)


def one_line(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class _Failure:
    problem: str
    retry: bool
    fatal: bool = False
    wait: float = 0.0           # seconds Meta's headers asked for
    code: int | None = None


class GraphClient:
    """GETs against the Graph API with timeouts, retries and Meta's rate-limit headers honoured."""

    def __init__(self, settings: GraphSettings, log: Callable[[str], None] = lambda _: None,
                 sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._log = log
        self._sleep = sleep
        self._pause = 0.0  # seconds a successful response's usage headers asked us to wait before the next call
        self._http = httpx.Client(base_url=settings.base_url, timeout=settings.timeout,
                                  headers={"Authorization": f"Bearer {settings.token}", "Accept": "application/json"})

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc) -> None:
        self._http.close()

    def request(self, kind: str, path: str, params: dict) -> Request:
        return Request(kind, f"/{self.settings.api_version}{path}", params)

    def get(self, request: Request) -> Page:
        s = self.settings
        attempt = 0
        while True:
            if self._pause:
                self._log(f"{request.describe()}: Meta's usage headers ask for a pause; waiting {self._pause:.1f}s")
                self._sleep(self._pause)
                self._pause = 0.0
            outcome = self._attempt(request)
            if isinstance(outcome, Page):
                return outcome
            if not outcome.retry:
                raise self._error(request, outcome.problem, outcome)
            if attempt == s.max_retries:
                raise self._error(request, f"{outcome.problem}; gave up after {attempt + 1} attempts", outcome)
            attempt += 1
            backoff = min(s.max_wait, s.backoff_base * 2 ** (attempt - 1))
            wait = min(s.max_wait, max(outcome.wait, random.uniform(backoff / 2, backoff)))
            self._log(one_line(scrub(f"{request.describe()}: {outcome.problem}; retry {attempt}/{s.max_retries} "
                                     f"in {wait:.1f}s", s.token)))
            self._sleep(wait)

    def _attempt(self, request: Request) -> Page | _Failure:
        try:
            response = self._http.get(request.path, params=request.params)
        except httpx.TimeoutException:
            return _Failure(f"no response within {self.settings.timeout:g}s", retry=True)
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
            # The server answered, then the body stopped short: a malformed response, not an unreachable server.
            return _Failure(f"malformed response: the body was cut off mid-transfer ({type(exc).__name__})", retry=True)
        except httpx.TransportError as exc:
            return _Failure(f"cannot reach {self.settings.base_url} ({type(exc).__name__}: {exc})", retry=True,
                            fatal=True)
        except httpx.RequestError as exc:  # e.g. a body that fails to decompress
            return _Failure(f"the response could not be read ({type(exc).__name__}: {exc})", retry=True)
        asked = self._asked_wait(response.headers)
        text = response.text
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        error = body.get("error") if isinstance(body, dict) and isinstance(body.get("error"), dict) else None
        status = f"HTTP {response.status_code}"
        if response.status_code == 200 and isinstance(body, dict) and error is None:
            self._pause = min(asked, self.settings.max_wait)
            return Page(request, body, scrub(text.strip(), self.settings.token))
        if error is not None:
            code = error.get("code")
            described = _describe_graph_error(status, error)
            if code in AUTH_CODES or response.status_code == 401:
                return _Failure(described, retry=False, fatal=True, code=code)
            if code in RATE_LIMIT_CODES or response.status_code == 429:
                return _Failure(f"rate limited ({described})", retry=True, fatal=True, wait=asked, code=code)
            if code in TRANSIENT_CODES or error.get("is_transient") is True or response.status_code >= 500:
                return _Failure(described, retry=True, wait=asked, code=code)
            return _Failure(described, retry=False, code=code)
        if response.status_code == 429:
            return _Failure(f"rate limited ({status})", retry=True, fatal=True, wait=asked)
        if response.status_code >= 500:
            return _Failure(f"{status} from the server", retry=True, wait=asked)
        shape = "empty" if not text.strip() else "not valid JSON" if body is None else "not a JSON object"
        content_type = response.headers.get("content-type", "no content type")
        return _Failure(f"{status}: the response body is {shape} ({content_type}, {len(response.content)} bytes)",
                        retry=False)

    def _asked_wait(self, headers: httpx.Headers) -> float:
        """Seconds Meta asks us to wait: Retry-After, the business-use-case estimate, or a full usage budget."""
        waits = [_retry_after_seconds(headers.get("retry-after"))]
        usages = []
        buc = _json_header(headers.get("x-business-use-case-usage"))
        for entries in buc.values() if isinstance(buc, dict) else []:
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict):
                    usages.append(entry)
                    minutes = entry.get("estimated_time_to_regain_access")
                    if isinstance(minutes, (int, float)):
                        waits.append(minutes * 60.0)
        app = _json_header(headers.get("x-app-usage"))
        if isinstance(app, dict):
            usages.append(app)
        # At 100% of a usage budget Meta throttles without saying for how long: wait as long as we allow.
        if any(isinstance(u.get(k), (int, float)) and u[k] >= 100
               for u in usages for k in ("call_count", "total_cputime", "total_time")):
            waits.append(self.settings.max_wait)
        return max(waits)

    def _error(self, request: Request, detail: str, failure: _Failure) -> GraphApiError:
        message = one_line(scrub(f"Graph API {request.describe()}: {detail}", self.settings.token))
        return GraphApiError(message, code=failure.code, fatal=failure.fatal)

    def pages(self, request: Request) -> Iterator[Page]:
        """Every page of a cursor-paged edge: follow paging.cursors.after while paging.next is given."""
        seen = set()
        for _ in range(self.settings.max_pages):
            page = self.get(request)
            yield page
            paging = page.body.get("paging") if isinstance(page.body.get("paging"), dict) else {}
            cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
            after = cursors.get("after")
            if not paging.get("next") or not after:
                return
            if after in seen:  # a server repeating a cursor would otherwise page forever
                self._log(f"{request.describe()}: the same cursor came back twice; stopping after this page")
                return
            seen.add(after)
            request = Request(request.kind, request.path, {**request.params, "after": after})
        raise GraphApiError(f"Graph API {request.describe()}: stopped after {self.settings.max_pages:,} pages, the server "
                            f"still offering a next one (raise {TUNING_ENV['max_pages']} if that many is real)")


def _describe_graph_error(status: str, error: dict) -> str:
    code, subcode = error.get("code"), error.get("error_subcode")
    parts = [status]
    if code is not None:
        parts.append(f"code {code}" + (f"/{subcode}" if subcode is not None else ""))
    if error.get("type"):
        parts.append(str(error["type"]))
    text = ", ".join(parts) + f": {error.get('message') or 'no message'}"
    if code in HINTS:
        text += f" ({HINTS[code]})"
    if error.get("fbtrace_id"):
        text += f" [fbtrace_id {error['fbtrace_id']}]"
    return text


def _json_header(value: str | None):
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def _retry_after_seconds(value: str | None) -> float:
    """Retry-After as delta-seconds or an HTTP date; 0 when absent or unreadable."""
    if not value:
        return 0.0
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, when.timestamp() - time.time())


# What we ask for, per kind. Fields are listed because Meta returns only a few by default.
PHONE_NUMBER_FIELDS = ("id", "display_phone_number", "verified_name", "quality_rating",
                       "whatsapp_business_manager_messaging_limit", "messaging_limit_tier", "status", "name_status",
                       "throughput")
TEMPLATE_FIELDS = ("id", "name", "language", "status", "category", "previous_category", "correct_category",
                   "sub_category", "components", "parameter_format", "rejected_reason", "quality_score",
                   "message_send_ttl_seconds", "cta_url_link_tracking_opted_out", "library_template_name")
PAGE_LIMIT = 100
TEMPLATE_IDS_PER_CALL = 10  # Meta's maximum for template_analytics
PRICING_DIMENSIONS = ("COUNTRY", "PHONE", "PRICING_CATEGORY", "PRICING_TYPE", "TIER")
CONVERSATION_DIMENSIONS = ("CONVERSATION_CATEGORY", "CONVERSATION_DIRECTION", "CONVERSATION_TYPE", "COUNTRY", "PHONE")
TEMPLATE_METRICS = ("SENT", "DELIVERED", "READ", "CLICKED", "COST")


def _json_list(values) -> str:
    return json.dumps(list(values), separators=(",", ":"))


def phone_numbers_params() -> dict:
    return {"fields": ",".join(PHONE_NUMBER_FIELDS), "limit": PAGE_LIMIT}


def message_templates_params() -> dict:
    return {"fields": ",".join(TEMPLATE_FIELDS), "limit": PAGE_LIMIT}


def pricing_analytics_params(start: int, end: int) -> dict:
    # `currency` beside the analytics: costs are in the WABA's currency, which the data points do not name.
    return {"fields": f"currency,pricing_analytics.start({start}).end({end}).granularity(DAILY)"
                      f".metric_types({_json_list(['COST', 'VOLUME'])}).dimensions({_json_list(PRICING_DIMENSIONS)})"}


def conversation_analytics_params(start: int, end: int) -> dict:
    return {"fields": f"currency,conversation_analytics.start({start}).end({end}).granularity(DAILY)"
                      f".metric_types({_json_list(['COST', 'CONVERSATION'])})"
                      f".dimensions({_json_list(CONVERSATION_DIMENSIONS)})"}


def template_analytics_params(template_ids: list[str], start: int, end: int) -> dict:
    return {"start": start, "end": end, "granularity": "DAILY", "metric_types": _json_list(TEMPLATE_METRICS),
            "template_ids": _json_list(template_ids), "limit": PAGE_LIMIT}
