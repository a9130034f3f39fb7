"""``huiyan demo``: the main job end to end on this machine.

Starts the local Kafka broker (deploy/kafka/broker.sh) unless one is running, creates the topics,
starts a worker process (and, when Prometheus is installed, Prometheus with Huiyan's rules and the lag
reporter it scrapes), produces the bundled sample events, prints each decision and dead letter as it
arrives, shows the metrics, and stops what it started unless asked to keep it running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from importlib import resources
from pathlib import Path

from stream.kafka.clients import create_topics, open_reader, produce_events, read_records
from stream.kafka.topics import DLQ_DETAIL, DLQ_REASON
from stream.settings import Settings
from stream.tools.observe import DemoPrometheus

REPO = Path(__file__).resolve().parents[2]
BROKER_SCRIPT = REPO / "deploy" / "kafka" / "broker.sh"
_ACTION_MARK = {"block": "BLOCK", "flag": "FLAG ", "allow": "ALLOW"}


def local_broker(command: str) -> bool:
    """Runs ``deploy/kafka/broker.sh COMMAND`` (start, stop, status); True when it succeeded."""
    if not BROKER_SCRIPT.exists():
        raise SystemExit(f"{BROKER_SCRIPT} not found: the demo runs from a checkout of the repository")
    return subprocess.run([str(BROKER_SCRIPT), command], check=False).returncode == 0


def _sample_lines(events_file: Path | None) -> list[bytes]:
    data = (
        events_file.read_bytes()
        if events_file
        else (resources.files("stream.samples").joinpath("events.jsonl").read_bytes())
    )
    return [line for line in data.splitlines() if line.strip()]


def _show_decision(value: bytes) -> str:
    d = json.loads(value)
    reasons = "; ".join(
        f"{r['code']} -> {r['action']} ({r['basis'].split('; ', 1)[-1]})" for r in d["reasons"]
    )
    notice = d["notice"]["text"] or "no AI notice"
    scores = ", ".join(f"{c} {s:.2f}" for c, s in d["scores"].items()) or "none (no text)"
    return (
        f"  {_ACTION_MARK[d['action']]} {d['content_id']:<24} {d['content_type']}/{d['service_type']}\n"
        f"        scores: {scores}\n"
        f"        labels: {d['label_status']} (implicit label {d['implicit_label_status']}, "
        f"explicit label {d['explicit_label_status']}); notice: {notice}\n"
        f"        reasons: {reasons or 'none'}"
    )


def _fill_store(settings: Settings, expected: int, timeout_s: float = 60) -> None:
    """Keeps the demo's decisions and dead letters in the store, and says how to open the console."""
    import secrets

    from stream.console.users import add_user, read_users
    from stream.store.db import open_store
    from stream.store.sink import Sink

    store = open_store(settings.store_url)
    sink = Sink(settings, store)
    deadline = time.monotonic() + timeout_s
    while store.count("decisions") + store.count("dead_letters") < expected and time.monotonic() < deadline:
        sink.step()
    decisions, dead = store.count("decisions"), store.count("dead_letters")
    sink.consumer.close()
    store.close()
    users = Path(settings.console_users_file)
    login = "log in with a user of " + str(users)
    if not read_users(users):
        password = secrets.token_urlsafe(12)
        add_user(users, "demo", "admin", password)
        login = f"log in as demo / {password} (an admin; change it with huiyan console-user add)"
    print(
        f"\nThe store ({settings.store_url}) holds {decisions} decisions and {dead} dead letters. "
        f"The console: .venv/bin/huiyan console, then open "
        f"http://{settings.console_host}:{settings.console_port}/ and {login}."
    )


def _show_metrics(settings: Settings) -> None:
    url = f"http://{settings.web_host}:{settings.web_port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            text = response.read().decode()
    except OSError as exc:
        print(f"metrics: {url} did not answer ({exc})")
        return
    print(f"\nMetrics are served at {url} (Huiyan's huiyan_* and Faust's faust_*). A few of them:")
    for line in text.splitlines():
        if line.endswith(" 0.0"):  # series that start at 0 (every dead-letter reason) and stayed there
            continue
        if line.startswith(
            (
                "huiyan_decisions_total",
                "huiyan_dead_letters_total",
                "huiyan_policy_info",
                "huiyan_end_to_end_latency_seconds_count",
                "huiyan_batch_size_count",
            )
        ):
            print(f"  {line}")


def run_demo(settings: Settings, *, keep_running: bool, events_file: Path | None) -> int:
    lines = _sample_lines(events_file)
    broker_was_running = local_broker("status")
    if not broker_was_running and not local_broker("start"):
        print("the Kafka broker did not start; see .kafka/broker.log", file=sys.stderr)
        return 1
    worker: subprocess.Popen[bytes] | None = None
    prometheus: DemoPrometheus | None = None
    log_path = Path(settings.data_dir) / "demo-worker.log"
    try:
        create_topics(settings)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        prometheus = DemoPrometheus.start(settings)
        reader = open_reader(
            settings, [settings.decision_topic, settings.dead_letter_topic], from_beginning=False
        )
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("wb") as log_file:
            worker = subprocess.Popen(
                [sys.executable, "-m", "stream.cli", "worker"],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=os.environ.copy(),
            )
        print(
            f"worker started (pid {worker.pid}, log {log_path}); sending {len(lines)} sample events "
            f"to {settings.content_topic}\n"
        )
        if prometheus is not None and not prometheus.wait_until_scraped():
            print(f"Prometheus did not scrape the worker and the lag reporter within 90 s ({prometheus.url})")
        produce_events(settings, lines)
        expected = len(lines)
        seen = 0
        deadline = time.monotonic() + 120
        for record in read_records(reader, idle_timeout_s=60, max_records=expected):
            seen += 1
            if record.topic == settings.decision_topic:
                print(_show_decision(record.value))
            else:
                reason = record.headers.get(DLQ_REASON, b"?").decode()
                detail = record.headers.get(DLQ_DETAIL, b"").decode("utf-8", "replace")
                original = record.value[:50].decode("utf-8", "replace")
                print(f"  DEAD  {original}...\n        dead letter: {reason}: {detail}")
            if time.monotonic() > deadline:
                break
        reader.close()
        missing = expected - seen
        print(
            f"\n{seen} of {expected} events answered (decision or dead letter)"
            + (f"; {missing} MISSING" if missing else "")
        )
        time.sleep(1.0)  # let the worker's histograms catch the last batch before we read them
        _show_metrics(settings)
        _fill_store(settings, expected)
        if prometheus is not None:
            prometheus.report()
        if keep_running:
            console = subprocess.Popen(
                [sys.executable, "-m", "stream.cli", "console"],
                stdout=subprocess.DEVNULL,
                stderr=(Path(settings.data_dir) / "demo-console.log").open("wb"),
                env=os.environ.copy(),
            )
            print(
                f"\nStill running: worker pid {worker.pid}, console pid {console.pid} on "
                f"http://{settings.console_host}:{settings.console_port}/, broker on {settings.broker}. "
                "Stop with: kill -TERM <pid>; deploy/kafka/broker.sh stop"
            )
            if prometheus is not None:
                print(f"Also running: {prometheus.pids()}.")
            worker = prometheus = None
        return 0 if missing == 0 else 1
    finally:
        if prometheus is not None:
            prometheus.stop()
        if worker is not None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
        if not keep_running and not broker_was_running:
            local_broker("stop")
