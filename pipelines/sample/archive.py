"""The webhook archive as a receiver would have stored it: one file per received day, with the
redeliveries, tampered captures, broken lines and stray payloads a real capture log collects."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import orjson

from pipelines.sample.rng import FastRandom
from pipelines.sample import model, writers
from pipelines.sample.truth import Truth
from pipelines.sample.world import day_start_ts

# item kinds
GENUINE, REDELIVERY, TAMPERED, NOT_WHATSAPP, TRUNCATED, TEXT = range(6)
STRAY_PAYLOADS = (
    {"object": "page", "entry": [{"id": "104857392018473", "time": 0, "messaging": [{"sender": {"id": "5829104"}, "message": {"text": "hi"}}]}]},
    {"object": "instagram", "entry": [{"id": "178414039281734", "time": 0, "changes": [{"field": "comments", "value": {"text": "nice"}}]}]},
)
GARBAGE_TEXT = (b"<html><body><h1>502 Bad Gateway</h1></body></html>", b"ping", b"OK")


def cloud_format(day: date) -> str:
    n = day.toordinal()
    if n % 30 == 0:
        return "json"
    if n % 45 == 0:
        return "ndjson"
    return "capture" if n % 3 else "jsonl"


def _received_at(recv_ms: int) -> bytes:
    s, ms = divmod(recv_ms, 1000)
    day, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return f"{date.fromordinal(day + 719163).isoformat()}T{h:02d}:{m:02d}:{s:02d}.{ms:03d}Z".encode()


class Archive:
    def __init__(self, out: Path, seed: int, start: date, end: date, app_secret: str, truth: Truth) -> None:
        self.out = out
        self.r = FastRandom(f"archive:{seed}")
        self.end = end
        self.end_ms = (day_start_ts(end) + 86400) * 1000 - 1
        # HMAC-SHA256 with the keyed inner/outer states computed once (RFC 2104); hmac.new per body is 3x slower
        key = app_secret.encode()
        key = hashlib.sha256(key).digest() if len(key) > 64 else key
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
        self.truth = truth
        self.seq = 0
        self._cloud: dict[int, list[tuple]] = {}
        self._onprem: dict[int, list[tuple]] = {}
        self._onprem_file: writers.GzipLines | None = None
        self._onprem_month = ""

    # ------------------------------------------------------------ intake

    def _put(self, buckets: dict[int, list[tuple]], recv_ms: int, body: bytes, kind: int, sig: str | None = None) -> None:
        recv_ms = min(recv_ms, self.end_ms)
        self.seq += 1
        buckets.setdefault(recv_ms // 86_400_000 + 719163, []).append((recv_ms, self.seq, body, kind, sig))

    def cloud(self, recv_ms: int, body: bytes) -> None:
        self._put(self._cloud, recv_ms, body, GENUINE)

    def onprem(self, recv_ms: int, body: bytes) -> None:
        self._put(self._onprem, recv_ms, body, GENUINE)

    def _sign(self, body: bytes) -> str:
        inner = self._inner.copy()
        inner.update(body)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    # ------------------------------------------------------------ per-day output

    def write_day(self, day: date) -> None:
        self._write_cloud(day)
        self._write_onprem(day)

    def _redeliveries(self, day: date, items: list[tuple], buckets: dict[int, list[tuple]], allow_later: bool) -> None:
        r = self.r
        for recv_ms, _, body, kind, _ in list(items):
            if kind != GENUINE or r.random() >= model.P_REDELIVER:
                continue
            later = allow_later and r.random() < 0.4
            again = recv_ms + (r.randrange(86_400_000, 3 * 86_400_000) if later else r.randrange(5_000, 1_800_000))
            target = date.fromordinal(again // 86_400_000 + 719163)
            if target > self.end or (target != day and cloud_format(target) == "json"):
                continue
            self.seq += 1
            item = (again, self.seq, body, REDELIVERY, None)
            if target == day:
                items.append(item)
            else:
                buckets.setdefault(target.toordinal(), []).append(item)

    def _defects(self, day: date, fmt: str, items: list[tuple]) -> None:
        r = self.r
        n = day.toordinal()
        genuine = [it for it in items if it[3] == GENUINE]
        ds_ms = day_start_ts(day) * 1000

        def add(kind: int, body: bytes, sig: str | None = None) -> None:
            self.seq += 1
            items.append((ds_ms + r.randrange(86_400_000), self.seq, body, kind, sig))

        if n % 37 == 11:
            stray = dict(STRAY_PAYLOADS[(n // 37) % 2])
            stray["entry"] = [{**stray["entry"][0], "time": day_start_ts(day) + r.randrange(86400)}]
            add(NOT_WHATSAPP, orjson.dumps(stray))
        if fmt == "json" or not genuine:
            return
        if n % 17 == 3:
            add(TRUNCATED, genuine[r.randrange(len(genuine))][2])
        if n % 51 == 20:
            add(TEXT, GARBAGE_TEXT[(n // 51) % len(GARBAGE_TEXT)])
        if fmt == "capture" and n % 23 == 5:
            # a copy whose body was altered after signing; the genuine delivery is in the archive too
            original = genuine[r.randrange(len(genuine))][2]
            doc = orjson.loads(original)
            doc["entry"][0]["id"] = doc["entry"][0]["id"][:-3] + "000"
            add(TAMPERED, orjson.dumps(doc), self._sign(original))

    def _write_cloud(self, day: date) -> None:
        fmt = cloud_format(day)
        items = self._cloud.pop(day.toordinal(), [])
        if fmt != "json":
            self._redeliveries(day, items, self._cloud, allow_later=True)
        self._defects(day, fmt, items)
        if not items:
            return
        items.sort(key=lambda it: (it[0], it[1]))
        ext = {"json": "json", "ndjson": "ndjson"}.get(fmt, "jsonl.gz")
        rel = f"webhooks/cloud/{day.isoformat()}.{ext}"
        stats = self.truth.file(rel)
        lines = []
        for recv_ms, _, body, kind, sig in items:
            stats.rows_in += 1
            if kind in (GENUINE, REDELIVERY, TAMPERED):
                self.truth.envelopes += 1
            if kind == REDELIVERY:
                stats.duplicates += 1
            elif kind == TAMPERED:
                stats.bad_signatures += 1
                stats.quarantine("bad_signature")
            elif kind == NOT_WHATSAPP:
                stats.quarantine("not_whatsapp")
            elif kind in (TRUNCATED, TEXT):
                stats.quarantine("invalid_json")
            if kind == TEXT:
                lines.append(body)
                continue
            line = self._capture(recv_ms, body, sig) if fmt == "capture" else body
            lines.append(line[: len(line) // 2] if kind == TRUNCATED else line)
        path = self.out / rel
        if fmt == "json":
            writers.write_json_array(path, lines)
        elif fmt == "ndjson":
            writers.write_ndjson(path, lines)
        else:
            writers.write_gzip_lines(path, lines)

    def _capture(self, recv_ms: int, body: bytes, sig: str | None) -> bytes:
        return b"".join((
            b'{"received_at":"', _received_at(recv_ms), b'","headers":{"X-Hub-Signature-256":"sha256=',
            (sig or self._sign(body)).encode(), b'","Content-Type":"application/json"},"body":',
            orjson.dumps(body.decode()), b"}",
        ))

    def _write_onprem(self, day: date) -> None:
        items = self._onprem.pop(day.toordinal(), [])
        if not items:
            return
        r = self.r
        self._redeliveries(day, items, self._onprem, allow_later=False)
        if day.toordinal() % 10 == 0:
            self.seq += 1
            err = {"errors": [{"code": 1014, "title": "Internal error", "details": "Media download failed: upstream timeout"}]}
            items.append((day_start_ts(day) * 1000 + r.randrange(86_400_000), self.seq, orjson.dumps(err), GENUINE, None))
        if day.toordinal() % 40 == 7:
            self.seq += 1
            items.append((day_start_ts(day) * 1000 + r.randrange(86_400_000), self.seq, items[0][2], TRUNCATED, None))
        items.sort(key=lambda it: (it[0], it[1]))
        month = day.strftime("%Y-%m")
        rel = f"webhooks/onprem/{month}.jsonl.gz"
        if month != self._onprem_month:
            self.close()
            self._onprem_file = writers.GzipLines(self.out / rel)
            self._onprem_month = month
        stats = self.truth.file(rel)
        lines = []
        for _, _, body, kind, _ in items:
            stats.rows_in += 1
            if kind == REDELIVERY:
                stats.duplicates += 1
            if kind == TRUNCATED:
                stats.quarantine("invalid_json")
                body = body[: len(body) // 2]
            lines.append(body)
        self._onprem_file.write(lines)

    def close(self) -> None:
        if self._onprem_file is not None:
            self._onprem_file.close()
            self._onprem_file = None

