"""Receiver benchmark: signed status envelopes from many keep-alive connections into `waba receive`.

Starts `waba receive` (its own process, fsync on, as in production) on 127.0.0.1, then for --seconds keeps
--connections HTTP/1.1 connections busy, each POSTing one realistic signed status envelope at a time and
timing it until the whole response is read. Every envelope carries unique message ids; afterwards the
receiver is stopped with SIGTERM and the archive is read back, so `lost` counts acknowledged (200)
deliveries that are not in it. Usage:
  python benchmarks/bench_receive.py [--seconds 60] [--connections 64] [--client-processes 1] [--work DIR]
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import gzip
import hashlib
import hmac
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET = b"bench-app-secret"
STATES = ("sent", "delivered", "read")


def wamid(n: int) -> str:
    return "wamid." + base64.b64encode(f"HBgNNTUxMTk4ODg4Nzc3NxUCABIYFDNB{n:016d}".encode()).decode()


def status_body(n: int) -> bytes:
    """A status envelope as Meta sends it (status messages webhook reference, Apr 30, 2026): one status,
    pricing on sent and delivered, the 2026 BSUID fields, a contacts entry on all but failed."""
    state = STATES[n % 3]
    st = {"id": wamid(n), "status": state, "timestamp": str(1764620000 + n // 100),
          "recipient_id": "5511988887777", "recipient_user_id": "BR.1349120865530274191"}
    if state != "read":
        st["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "utility"}
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "15550783881", "phone_number_id": "106540352242922"},
             "contacts": [{"profile": {"name": "Maria Souza"}, "wa_id": "5511988887777",
                           "user_id": "BR.1349120865530274191"}],
             "statuses": [st]}
    return json.dumps({"object": "whatsapp_business_account",
                       "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]},
                      separators=(",", ":")).encode()


def request_bytes(n: int, port: int) -> bytes:
    body = status_body(n)
    signature = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    return (f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUser-Agent: facebookexternalua\r\n"
            f"Content-Type: application/json\r\nX-Hub-Signature-256: {signature}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _connection(port: int, first: int, stride: int, deadline: float, out: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = first
    while time.perf_counter() < deadline:
        payload = request_bytes(n, port)
        started = time.perf_counter()
        writer.write(payload)
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await reader.readexactly(length)
        out.append((n, int(head[9:12]), time.perf_counter() - started))
        n += stride
    writer.close()


def client_process(port: int, connections: int, offset: int, stride: int, seconds: float, result_path: str) -> None:
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    out: list = []

    async def main():
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(_connection(port, offset + i, stride, deadline, out) for i in range(connections)))

    asyncio.run(main())
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    with open(result_path, "w") as handle:
        json.dump({"cpu": usage.ru_utime + usage.ru_stime, "requests": out}, handle)


async def _floor_app(scope, receive, send) -> None:
    """The same server stack doing nothing: reads the body, answers 200. What the machine allows right now."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
    await send({"type": "http.response.body", "body": b""})


def _serve_floor(port: int) -> None:
    import uvicorn

    uvicorn.run(_floor_app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def archived_ids(landing: Path) -> set[str]:
    ids = set()
    for path in (landing / "webhooks" / "live").rglob("*"):
        if not path.name.endswith((".jsonl", ".jsonl.gz", ".part")):
            continue
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                body = json.loads(json.loads(line)["body"])
                ids.update(s["id"] for s in body["entry"][0]["changes"][0]["value"]["statuses"])
    return ids


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def wait_listening(port: int) -> None:
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on 127.0.0.1:{port}")


def run_clients(port: int, args, label: str) -> tuple[list[dict], float]:
    """--connections split over --client-processes for --seconds; returns their results and the wall time."""
    procs, files = [], []
    per_process = args.connections // args.client_processes
    for p in range(args.client_processes):
        path = str(args.work / f"client-{label}-{p}.json")
        files.append(path)
        procs.append(multiprocessing.Process(target=client_process, args=(
            port, per_process, p * per_process, args.connections, args.seconds, path)))
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()
    return [json.load(open(path)) for path in files], time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--client-processes", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="the receiver's --workers (default 1)")
    parser.add_argument("--floor", action="store_true",
                        help="also measure a bare uvicorn app that archives nothing, with the same client")
    parser.add_argument("--work", type=Path, default=ROOT / "benchmarks" / "out" / "receive")
    args = parser.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    landing = args.work / "landing"
    landing.mkdir(parents=True)
    port = free_port()
    env = {**os.environ, "WABA_APP_SECRET": SECRET.decode(), "WABA_VERIFY_TOKEN": "bench"}
    log = open(args.work / "receiver.log", "wb")
    receiver = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "receive", "--landing", str(landing),
                                 "--port", str(port), "--log-interval", "10", "--workers", str(args.workers)], env=env, cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT)
    wait_listening(port)
    loaded, elapsed = run_clients(port, args, "receive")
    import urllib.request

    health = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz"))
    receiver.send_signal(signal.SIGTERM)
    _, _, usage = os.wait4(receiver.pid, 0)
    receiver.returncode = 0
    log.close()

    results = [r for client in loaded for r in client["requests"]]
    client_cpu = sum(client["cpu"] for client in loaded)
    ok = [r for r in results if r[1] == 200]
    latencies = sorted(r[2] for r in ok)
    archived = archived_ids(landing)
    lost = sum(1 for n, _, _ in ok if wamid(n) not in archived)
    print(f"{args.connections} connections ({args.client_processes} client process(es)), "
          f"{args.workers} receiver worker(s), "
          f"{elapsed:.1f} s, fsync on")
    print("| server | deliveries | non-200 | deliveries/s | p50 ms | p99 ms | max ms | lost |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| waba receive | {len(ok)} | {len(results) - len(ok)} | {len(ok) / elapsed:,.0f} | "
          f"{percentile(latencies, 0.50) * 1000:.1f} | {percentile(latencies, 0.99) * 1000:.1f} | "
          f"{latencies[-1] * 1000:.1f} | {lost} |")
    if args.floor:
        floor_port = free_port()
        floor = multiprocessing.Process(target=_serve_floor, args=(floor_port,))
        floor.start()
        wait_listening(floor_port)
        floor_loaded, floor_elapsed = run_clients(floor_port, args, "floor")
        floor.terminate()
        floor.join()
        f_ok = sorted(r[2] for c in floor_loaded for r in c["requests"] if r[1] == 200)
        print(f"| bare uvicorn (floor) | {len(f_ok)} | - | {len(f_ok) / floor_elapsed:,.0f} | "
              f"{percentile(f_ok, 0.50) * 1000:.1f} | {percentile(f_ok, 0.99) * 1000:.1f} | {f_ok[-1] * 1000:.1f} | - |")
    cpu = usage.ru_utime + usage.ru_stime
    print(f"receiver CPU: {cpu:.1f} s ({cpu / max(len(ok), 1) * 1e6:.0f} us per delivery), clients' CPU: "
          f"{client_cpu:.1f} s; "
          f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    groups = health["archive"]["fsync_groups"]   # of the worker that answered
    print(f"fsync groups (one worker): {groups} ({health['counters']['archived'] / max(groups, 1):.1f} deliveries "
          "per fsync)")
    print(f"receiver log: {args.work / 'receiver.log'}")
    return 0 if lost == 0 and ok else 1


if __name__ == "__main__":
    sys.exit(main())
