"""Fixtures for tests that talk to the real Kafka broker started by the test command (deploy/dev/test.sh).

Every test gets its own topics, consumer group, web port and data directory, so tests never see each
other's events. Workers run as real ``huiyan worker`` processes, stopped with SIGTERM (or killed) by the test.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stream.kafka_io import ConsumedRecord, create_topics, open_reader, produce_events, read_records
from stream.settings import Settings

BROKER = os.environ.get("HUIYAN_TEST_BROKER", "127.0.0.1:19092")
REPO = Path(__file__).resolve().parents[2]


def _reachable(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def broker() -> str:
    if not _reachable(BROKER):
        message = f"no Kafka broker at {BROKER}; run the tests with `make test`, which starts one"
        if os.environ.get("HUIYAN_REQUIRE_BROKER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return BROKER


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Deployment:
    """One isolated Huiyan deployment on the shared broker: its own topics, group, ports and workers."""

    settings: Settings
    env: dict[str, str]
    workdir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_worker(self, **extra_env: str) -> subprocess.Popen[bytes]:
        index = len(self.workers)
        env = {
            **self.env,
            "HUIYAN_WEB_PORT": str(free_port()),
            "HUIYAN_DATA_DIR": str(self.workdir / f"worker-{index}"),
            **extra_env,
        }
        log = (self.workdir / f"worker-{index}.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "stream.cli", "worker"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        process.web_port = int(env["HUIYAN_WEB_PORT"])  # type: ignore[attr-defined]
        self.workers.append(process)
        return process

    def stop_worker(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
        process.send_signal(sig)
        try:
            return process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(
                f"worker {process.pid} did not stop within 60 s after signal {sig}"
            ) from None

    def produce(self, lines: list[bytes]) -> None:
        produce_events(self.settings, lines)

    def read(self, topic: str, count: int, timeout_s: float = 60) -> list[ConsumedRecord]:
        """Reads ``count`` records from the start of ``topic``, or fewer if ``timeout_s`` passes idle."""
        consumer = open_reader(self.settings, [topic], from_beginning=True)
        try:
            return list(read_records(consumer, idle_timeout_s=timeout_s, max_records=count))
        finally:
            consumer.close()

    def decisions(self, count: int, timeout_s: float = 60) -> list[dict[str, object]]:
        return [json.loads(r.value) for r in self.read(self.settings.decision_topic, count, timeout_s)]

    def metrics(self, process: subprocess.Popen[bytes]) -> str:
        url = f"http://127.0.0.1:{process.web_port}/metrics"  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    return str(response.read().decode())
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def metrics_with(self, process: subprocess.Popen[bytes], *expected: str, timeout_s: float = 20) -> str:
        """The worker's /metrics once every ``expected`` line is in it. The worker records a batch's
        metrics after the broker acknowledged its output, so a test that has just read a decision can
        scrape a moment too early."""
        deadline = time.monotonic() + timeout_s
        while True:
            text = self.metrics(process)
            missing = [e for e in expected if e not in text]
            if not missing:
                return text
            assert time.monotonic() < deadline, (missing, text)
            time.sleep(0.5)

    def log(self, index: int = 0) -> str:
        return (self.workdir / f"worker-{index}.log").read_text(errors="replace")


def run_huiyan(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """``huiyan ARGS`` as a user types it, with ``env`` and the classifier off (commands other than the
    worker never score)."""
    result = subprocess.run(
        [sys.executable, "-m", "stream.cli", *args],
        env={**env, "HUIYAN_CLASSIFIERS": "0"},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def isolated_env(broker: str, prefix: str) -> dict[str, str]:
    """The environment of a deployment no other test shares: its own group and topics."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    return {
        **os.environ,
        "HUIYAN_BROKER": f"kafka://{broker}",
        "HUIYAN_APP_ID": name,
        "HUIYAN_CONTENT_TOPIC": f"{name}.content",
        "HUIYAN_DECISION_TOPIC": f"{name}.decisions",
        "HUIYAN_DEAD_LETTER_TOPIC": f"{name}.dead-letter",
        "HUIYAN_POLICY_TOPIC": f"{name}.policies",
        "HUIYAN_SHADOW_DECISION_TOPIC": f"{name}.decisions.shadow",
        "HUIYAN_STRIKE_TOPIC": f"{name}.strikes",
    }


@pytest.fixture
def deployment(broker: str, tmp_path: Path) -> Iterator[Deployment]:
    env = {**isolated_env(broker, "test"), "HUIYAN_TOPIC_PARTITIONS": "3", "HUIYAN_LOG_LEVEL": "info"}
    settings = Settings.from_env(env)
    create_topics(settings)
    deployment = Deployment(settings=settings, env=env, workdir=tmp_path)
    yield deployment
    for process in deployment.workers:
        if process.poll() is None:
            process.kill()
            process.wait()
