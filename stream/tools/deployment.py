"""A Huiyan deployment of its own on a running broker: fresh topics and consumer group, and the
processes (workers, baselines) that run on them, each with its own web port, data directory and log.

The benchmark and the broker tests both build on it, so a test deploys exactly as the bench measures.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Mapping
from pathlib import Path

from stream.kafka.clients import create_topics
from stream.settings import Settings

REPO = Path(__file__).resolve().parents[2]
WORKER = (sys.executable, "-m", "stream.cli", "worker")


def free_port() -> int:
    """A TCP port nothing listens on now (the OS's choice)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_ready(
    url: str, process: subprocess.Popen[bytes], timeout_s: float, interval_s: float = 0.5
) -> str | None:
    """Polls ``url`` until it answers 200; None then, or why not: ``process`` exited, or the time ran out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if (status := process.poll()) is not None:
            return f"exited with status {status}"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return None
        except OSError:
            pass
        time.sleep(interval_s)
    return f"not ready within {timeout_s:g} s"


def isolated_env(broker: str, prefix: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with a group and topics no other deployment
    shares, named ``<prefix>-<random>``."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    return {
        **(os.environ if base is None else base),
        "HUIYAN_BROKER": broker if "://" in broker else f"kafka://{broker}",
        "HUIYAN_APP_ID": name,
        "HUIYAN_CONTENT_TOPIC": f"{name}.content",
        "HUIYAN_DECISION_TOPIC": f"{name}.decisions",
        "HUIYAN_DEAD_LETTER_TOPIC": f"{name}.dead-letter",
        "HUIYAN_POLICY_TOPIC": f"{name}.policies",
        "HUIYAN_SHADOW_DECISION_TOPIC": f"{name}.decisions.shadow",
        "HUIYAN_STRIKE_TOPIC": f"{name}.strikes",
    }


class Deployment:
    """Topics created from ``env``'s settings, and the processes started on them (``processes``)."""

    def __init__(
        self,
        env: Mapping[str, str],
        workdir: Path,
        topic_configs: Mapping[str, Mapping[str, str]] | None = None,
        *,
        make_topics: bool = True,
    ) -> None:
        """``make_topics=False``: the topics exist already (made by an operator on a broker with ACLs)."""
        self.env = dict(env)
        self.settings = Settings.from_env(self.env)
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []
        if make_topics:
            create_topics(self.settings, topic_configs)

    def start(
        self, command: list[str] | tuple[str, ...], cpu: int | None = None, **env: str
    ) -> subprocess.Popen[bytes]:
        """Starts one process with the deployment's environment and ``env``; ``cpu`` pins it (and the
        threads it will start) to that CPU. Its output goes to ``process-<n>.log`` in the workdir; its web
        port is ``process.web_port``."""
        index = len(self.processes)
        full_env = {
            **self.env,
            "HUIYAN_WEB_PORT": str(free_port()),
            "HUIYAN_DATA_DIR": str(self.workdir / f"process-{index}"),
            **env,
        }
        pin = None if cpu is None else functools.partial(os.sched_setaffinity, 0, {cpu})
        with (self.workdir / f"process-{index}.log").open("wb") as log:
            process = subprocess.Popen(
                list(command), env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, preexec_fn=pin
            )
        process.web_port = int(full_env["HUIYAN_WEB_PORT"])  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def start_worker(self, cpu: int | None = None, **env: str) -> subprocess.Popen[bytes]:
        """Starts a ``huiyan worker`` process."""
        return self.start(WORKER, cpu, **env)

    def stop(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 60) -> int:
        """Signals one process and waits for it; kills it and raises when it outlives ``timeout_s``."""
        process.send_signal(sig)
        try:
            return process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise TimeoutError(
                f"process {process.pid} did not stop within {timeout_s:g} s of signal {sig}"
            ) from None

    def stop_all(self, timeout_s: float = 60) -> None:
        """SIGTERM to every process still running, then waits; kills the ones that outlive ``timeout_s``."""
        running = [p for p in self.processes if p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()

    def log(self, index: int = 0) -> str:
        return (self.workdir / f"process-{index}.log").read_text(errors="replace")
