"""`waba receive` as an operator meets it (start-up errors, logs without secrets), the live sensor, and the
whole path: deliveries received over HTTP, then `waba run` on that landing folder stages them."""
import os
import socket
import subprocess
import sys
import time

import dagster as dg
import duckdb
import httpx

from pipelines.defs.live.sensors import SENSOR
from pipelines.defs.resources import WarehouseResource
from pipelines.definitions import MAIN_JOB, defs
from receive.harness import (
    SECRET, VERIFY_TOKEN, ReceiverProcess, config, free_port, inbound_envelope, live_files, post, receiver_in_thread,
    status_envelope, wamid,
)


def receive(*args, env_secret=None):
    env = {k: v for k, v in os.environ.items() if k not in ("WABA_APP_SECRET", "WABA_VERIFY_TOKEN")}
    if env_secret:
        env["WABA_APP_SECRET"] = env_secret
    return subprocess.run([sys.executable, "-m", "pipelines.cli", "receive", *map(str, args)], capture_output=True,
                          text=True, timeout=120, env=env)


def test_refuses_to_start_without_the_app_secret(landing):
    result = receive("--landing", landing, "--port", free_port())
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("waba: error: WABA_APP_SECRET is not set") and "--insecure-no-signature" in line


def test_start_up_mistakes_are_one_line(tmp_path, landing):
    missing = receive("--landing", tmp_path / "nope", env_secret=SECRET)
    assert missing.returncode == 2 and missing.stderr.strip().splitlines() == [
        f"waba: error: {tmp_path / 'nope'}: landing folder does not exist (create it, or pass --landing)"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = receive("--landing", landing, "--port", taken.getsockname()[1], env_secret=SECRET)
    assert busy.returncode == 2 and len(busy.stderr.strip().splitlines()) == 1 and "cannot listen" in busy.stderr
    bad_forward = receive("--landing", landing, "--forward", "localhost:9000", env_secret=SECRET)
    assert bad_forward.returncode == 2 and "--forward expects" in bad_forward.stderr
    both = receive("--landing", landing, "--forward", "http://127.0.0.1:9/", "--workers", "2", env_secret=SECRET)
    assert both.returncode == 2 and "--forward needs a single worker" in both.stderr


def test_insecure_mode_archives_unsigned_posts_and_says_so(landing):
    receiver = ReceiverProcess(landing, None, "--insecure-no-signature", secret=None).wait_ready()
    with httpx.Client() as client:
        assert post(client, receiver.url, status_envelope([1]), secret=None).status_code == 200
    receiver.terminate()
    assert "SIGNATURES NOT CHECKED" in receiver.output()
    assert len(live_files(landing, "*.jsonl")) == 1


def test_minute_log_counts_everything_and_never_shows_a_secret(landing):
    receiver = ReceiverProcess(landing, None, "--log-interval", "1").wait_ready()
    with httpx.Client() as client:
        challenge = client.get(receiver.url + "/webhook", params={
            "hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": VERIFY_TOKEN})
        assert challenge.text == "42"
        assert post(client, receiver.url, status_envelope([1])).status_code == 200
        assert post(client, receiver.url, status_envelope([2]), secret="wrong").status_code == 403
    time.sleep(2.5)
    receiver.terminate()
    out = receiver.output()
    assert "received 2, archived 1, rejected 1 (signature 1, too large 0), failed 0" in out
    assert SECRET not in out and VERIFY_TOKEN not in out


def _sensor_context(landing, cursor=None, instance=None):
    return dg.build_sensor_context(cursor=cursor, instance=instance,
                                   resources={"warehouse": WarehouseResource(landing_path=str(landing))})


def test_the_sensor_starts_the_main_job_once_per_newly_closed_hour_file(landing):
    sensor = defs().resolve_sensor_def(SENSOR)
    assert sensor.job_name == MAIN_JOB
    with dg.instance_for_test() as instance:
        context = _sensor_context(landing, instance=instance)
        assert isinstance(sensor(context), dg.SkipReason)          # no live folder yet
        folder = landing / "webhooks" / "live" / "2026" / "12" / "01"
        folder.mkdir(parents=True)
        (folder / "10-h-1.jsonl.part").write_text("{}\n")            # an hour still being written
        time.sleep(2.1)
        context = _sensor_context(landing, context.cursor, instance)
        assert isinstance(sensor(context), dg.SkipReason)
        os.rename(folder / "10-h-1.jsonl.part", folder / "10-h-1.jsonl")   # the hour closes
        time.sleep(2.1)                                              # files settle for 2 s before they count
        context = _sensor_context(landing, context.cursor, instance)
        request = sensor(context)
        assert isinstance(request, dg.RunRequest) and request.tags["waba/first_live_file"] == "2026/12/01/10-h-1.jsonl"
        context = _sensor_context(landing, context.cursor, instance)
        assert isinstance(sensor(context), dg.SkipReason)            # the same file does not start a second run


def test_deliveries_received_over_http_are_staged_by_waba_run(tmp_path, landing):
    statuses = list(range(500, 530))
    with receiver_in_thread(config(landing)) as (url, _), httpx.Client() as client:
        for n in statuses[::3]:
            assert post(client, url, status_envelope([n, n + 1, n + 2], entries=2)).status_code == 200
        assert post(client, url, inbound_envelope(1)).status_code == 200
        assert post(client, url, status_envelope([999]), secret="forged").status_code == 403
        assert post(client, url, status_envelope([statuses[0]])).status_code == 200   # the same status again in another envelope
    warehouse = tmp_path / "live.duckdb"
    env = {**os.environ, "WABA_APP_SECRET": SECRET}
    run = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--landing", str(landing), "--warehouse",
                          str(warehouse), "--reports", str(tmp_path / "reports"), "--quiet"],
                         capture_output=True, text=True, timeout=600, env=env)
    assert run.returncode == 0, run.stderr
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        staged = {r[0] for r in conn.sql("SELECT message_id FROM staging.message_statuses").fetchall()}
        assert staged == {wamid(n) for n in statuses}
        assert conn.sql("SELECT message_id FROM staging.inbound_messages").fetchall() == [(wamid(900_001),)]
        assert conn.sql("SELECT count(*), min(signature_status) FROM raw.webhook_deliveries").fetchall() == [(12, "valid")]
