"""The README's own commands: the demo against the running broker, and the broker script's lifecycle."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from stream.tools.deployment import REPO, free_port, isolated_env

pytestmark = pytest.mark.integration

BROKER_SCRIPT = REPO / "deploy" / "kafka" / "broker.sh"


def test_demo_answers_every_sample_event_and_stops_its_worker(broker: str, tmp_path: Path) -> None:
    env = {
        **isolated_env(broker, "demo"),
        "HUIYAN_WEB_PORT": str(free_port()),
        "HUIYAN_DATA_DIR": str(tmp_path),
        "HUIYAN_STORE_URL": f"sqlite:///{tmp_path / 'store.db'}",
        "HUIYAN_CONSOLE_USERS_FILE": str(tmp_path / "console-users.json"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "stream.cli", "demo"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "17 of 17 events answered" in result.stdout
    assert "BLOCK vid-0006" in result.stdout
    assert "dead letter: missing_field" in result.stdout
    assert "huiyan_decisions_total" in result.stdout
    # The demo fills the store and says how to open the console, with a user to log in as.
    assert "holds 14 decisions and 3 dead letters" in result.stdout
    assert "http://127.0.0.1:8090/" in result.stdout and "log in as demo / " in result.stdout
    assert (tmp_path / "console-users.json").exists()
    # The demo found the broker running, so it leaves it running; its own worker is gone.
    assert subprocess.run([str(BROKER_SCRIPT), "status"], check=False).returncode == 0
    pid = re.search(r"worker started \(pid (\d+)", result.stdout)
    assert pid is not None
    assert not Path(f"/proc/{pid.group(1)}").exists()


def test_broker_script_is_safe_to_repeat_and_stops_its_own_broker(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "HUIYAN_KAFKA_HOME": str(tmp_path / "kafka"),
        "HUIYAN_KAFKA_PORT": str(free_port()),
        "HUIYAN_KAFKA_CONTROLLER_PORT": str(free_port()),
    }

    def broker(command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BROKER_SCRIPT), command], env=env, capture_output=True, text=True, timeout=180, check=False
        )

    try:
        assert broker("start").returncode == 0
        pid = (tmp_path / "kafka" / "broker.pid").read_text().strip()
        again = broker("start")
        assert again.returncode == 0 and "already running" in again.stderr
        assert broker("status").returncode == 0
        assert broker("stop").returncode == 0
        assert not Path(f"/proc/{pid}").exists()
        assert broker("status").returncode == 1
        assert broker("stop").returncode == 0  # stopping a stopped broker is fine
        # A restart keeps the formatted storage (no second format).
        restart = broker("start")
        assert restart.returncode == 0 and "ready" in restart.stderr
        assert "formatting storage" not in restart.stderr
    finally:
        broker("stop")
