"""The webhook archive as a receiver would have stored it: one file per received day, with the
redeliveries, tampered captures, broken lines and stray payloads a real capture log collects."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import orjson

from pipelines.sample import model, writers
from pipelines.sample.rng import FastRandom
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


class Archive:
    """The generator's side of the archive: it collects each day's deliveries in arrival order and hands them to
    the archive process (DayArchive), which keeps the buckets, adds the defects and writes the files. The archive
    has its own random stream, so nothing the generator does depends on it; its file statistics join the ground
    truth when it closes."""

    def __init__(self, out: Path, seed: int, start: date, end: date, app_secret: str, truth: Truth) -> None:
        self.truth = truth
        self.handed_over = 0  # genuine Cloud deliveries so far, for progress messages
        self._cloud_recv: list[int] = []
        self._cloud_body: list[bytes] = []
        self._onprem_recv: list[int] = []
        self._onprem_body: list[bytes] = []
        self._worker = writers.Worker(_run, out, seed, start, end, app_secret)

    def cloud(self, recv_ms: int, body: bytes) -> None:
        self._cloud_recv.append(recv_ms)
        self._cloud_body.append(body)

    def onprem(self, recv_ms: int, body: bytes) -> None:
        self._onprem_recv.append(recv_ms)
        self._onprem_body.append(body)

    def write_day(self, day: date) -> None:
        """Hands over what arrived since the previous day (any receive day) and has `day`'s files written."""
        self.handed_over += len(self._cloud_recv)
        self._worker.submit((day, self._cloud_recv, self._cloud_body, self._onprem_recv, self._onprem_body))
        self._cloud_recv, self._cloud_body, self._onprem_recv, self._onprem_body = [], [], [], []

    def close(self) -> None:
        files, envelopes = self._worker.close()
        self.truth.files.update(files)
        self.truth.envelopes += envelopes


def _run(jobs, results, out: Path, seed: int, start: date, end: date, app_secret: str) -> None:
    truth = Truth()
    archive = DayArchive(out, seed, start, end, app_secret, truth)
    while (job := jobs.get()) is not None:
        day, cloud_recv, cloud_body, onprem_recv, onprem_body = job
        archive.receive(cloud_recv, cloud_body, onprem_recv, onprem_body)
        archive.write_day(day)
    archive.close()
    results.put((truth.files, truth.envelopes))


class DayArchive:
    """Runs in the archive process. Deliveries wait in buckets by receive day; an item is (receive ms, arrival
    sequence, body, kind, signature), and a day's file holds its bucket sorted by receive time, then arrival."""

    def __init__(self, out: Path, seed: int, start: date, end: date, app_secret: str, truth: Truth) -> None:
        self.out = out
        self.r = FastRandom(f"archive:{seed}")
        self.end = end
        self.end_ms = (day_start_ts(end) + 86400) * 1000 - 1
        self.signer = writers.Signer(app_secret)
        self.clock = writers.Clock()
        self.truth = truth
        self.seq = 0
        self._cloud: dict[int, list[tuple]] = {}
        self._onprem: dict[int, list[tuple]] = {}
        self._onprem_file: writers.GzipLines | None = None
        self._onprem_path: Path | None = None

    # ------------------------------------------------------------ intake

    def receive(self, cloud_recv: list[int], cloud_body: list[bytes], onprem_recv: list[int], onprem_body: list[bytes]) -> None:
        # Cloud and On-Prem items never share a bucket, so the arrival sequence only has to order each of them
        for buckets, recvs, bodies in ((self._cloud, cloud_recv, cloud_body), (self._onprem, onprem_recv, onprem_body)):
            for recv_ms, body in zip(recvs, bodies):
                self._put(buckets, recv_ms, body, GENUINE)

    def _put(self, buckets: dict[int, list[tuple]], recv_ms: int, body: bytes, kind: int, sig: str | None = None) -> None:
        recv_ms = min(recv_ms, self.end_ms)
        self.seq += 1
        buckets.setdefault(recv_ms // 86_400_000 + 719163, []).append((recv_ms, self.seq, body, kind, sig))

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
            add(TAMPERED, orjson.dumps(doc), self.signer.sign(original))

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
        rendered = []
        for recv_ms, _, body, kind, sig in items:
            mode = writers.PLAIN
            if kind in (GENUINE, REDELIVERY, TAMPERED):
                self.truth.envelopes += 1
            if kind == REDELIVERY:
                stats.duplicates += 1
            elif kind == TAMPERED:
                stats.bad_signatures += 1
                stats.quarantine("bad_signature")
            elif kind == NOT_WHATSAPP:
                stats.quarantine("not_whatsapp")
            elif kind == TRUNCATED:
                stats.quarantine("invalid_json")
                mode = writers.TRUNCATE
            elif kind == TEXT:
                stats.quarantine("invalid_json")
                mode = writers.RAW
            rendered.append((recv_ms, body, mode, sig))
        stats.rows_in += len(rendered)
        writers.write_day_file(self.out / rel, fmt, rendered, self.signer, self.clock)

    def _write_onprem(self, day: date) -> None:
        items = self._onprem.pop(day.toordinal(), [])
        if not items:
            return
        r = self.r
        self._redeliveries(day, items, self._onprem, allow_later=False)
        if day.toordinal() % 10 == 0:
            self.seq += 1
            media = r.randrange(10**15, 10**16)
            err = {"errors": [{"code": 1014, "title": "Internal error", "details": f"Media download failed for media {media}: upstream timeout"}]}
            items.append((day_start_ts(day) * 1000 + r.randrange(86_400_000), self.seq, orjson.dumps(err), GENUINE, None))
        if day.toordinal() % 40 == 7:
            self.seq += 1
            items.append((day_start_ts(day) * 1000 + r.randrange(86_400_000), self.seq, items[0][2], TRUNCATED, None))
        items.sort(key=lambda it: (it[0], it[1]))
        rel = f"webhooks/onprem/{day.strftime('%Y-%m')}.jsonl.gz"
        stats = self.truth.file(rel)
        rendered = []
        for recv_ms, _, body, kind, _ in items:
            mode = writers.PLAIN
            if kind == REDELIVERY:
                stats.duplicates += 1
            elif kind == TRUNCATED:
                stats.quarantine("invalid_json")
                mode = writers.TRUNCATE
            rendered.append((recv_ms, body, mode, None))
        stats.rows_in += len(rendered)
        path = self.out / rel
        if path != self._onprem_path:  # a month's file is written day by day; a new month closes the previous one
            if self._onprem_file is not None:
                self._onprem_file.close()
            self._onprem_file, self._onprem_path = writers.GzipLines(path), path
        self._onprem_file.write(writers.render_lines(rendered, False, self.signer, self.clock))

    def close(self) -> None:
        if self._onprem_file is not None:
            self._onprem_file.close()
