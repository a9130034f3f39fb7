"""Prometheus beside the demo's worker: Debian's ``prometheus`` (when installed) with Huiyan's rules,
scraping the worker and ``huiyan lag --serve``. ``huiyan demo`` starts both and says where to look;
docs/operations.md describes the same set-up for a deployment.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from stream.settings import Settings
from stream.tools.deployment import free_port

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
# The address the demo's Prometheus listens on, when it is free (Prometheus' own default port).
DEFAULT_PORT = 9090
# Series the demo prints at its end: what an SRE looks at first.
SUMMARY = (
    ("consumer lag (records)", "huiyan:consumer_lag:sum"),
    ("decisions late or not made, 5 min", "huiyan:decisions_late:ratio_rate5m"),
    ("dead-letter ratio, 5 min", "huiyan:dead_letters:ratio_rate5m"),
)


class DemoPrometheus:
    """A Prometheus process and the lag reporter it scrapes, for the demo's deployment."""

    def __init__(self, settings: Settings, binary: str) -> None:
        workdir = Path(settings.data_dir) / "prometheus"
        self.port = DEFAULT_PORT if _free(DEFAULT_PORT) else free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # deploy/prometheus/prometheus.yml with the demo's targets, rules by absolute path, 5 s scrapes.
        config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text("utf-8"))
        config["global"] = {"scrape_interval": "5s", "evaluation_interval": "5s"}
        config["rule_files"] = [str(PROMETHEUS_DIR / name) for name in config["rule_files"]]
        targets = {
            "huiyan": f"{settings.web_host}:{settings.web_port}",
            "huiyan-lag": f"{settings.web_host}:{settings.lag_port}",
        }
        config["scrape_configs"] = [
            {"job_name": job, "static_configs": [{"targets": [target]}]} for job, target in targets.items()
        ]
        self.process, self.log_path = launch_prometheus(binary, workdir, config, self.port)
        with (Path(settings.data_dir) / "demo-lag.log").open("wb") as log:
            self.lag = subprocess.Popen(
                [sys.executable, "-m", "stream.cli", "lag", "--serve"], stdout=log, stderr=subprocess.STDOUT
            )

    @classmethod
    def start(cls, settings: Settings) -> DemoPrometheus | None:
        """Starts both when Prometheus is installed; otherwise says how to install it and returns None."""
        binary = shutil.which("prometheus")
        if binary is None:
            print(
                "Prometheus is not installed, so the demo runs without it (as root: apt-get install "
                "prometheus; docs/operations.md)."
            )
            return None
        return cls(settings, binary)

    def query(self, expr: str) -> list[dict[str, Any]]:
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.loads(response.read())
        return list(body["data"]["result"]) if body.get("status") == "success" else []

    def wait_until_scraped(self, timeout_s: float = 90) -> bool:
        """Waits until Prometheus has scraped every target once (the worker is then ready), so that the
        events sent next show up as rates; False when that took longer than ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/targets", timeout=5) as response:
                    targets = json.loads(response.read())["data"]["activeTargets"]
                if targets and all(t["health"] == "up" for t in targets):
                    return True
            except OSError:
                pass
            time.sleep(1)
        return False

    def report(self, wait_s: float = 40) -> None:
        """Prints where to look, and the service level, lag, rules and alerts as Prometheus has them.

        Waits (``wait_s`` at most) until the rules were evaluated and the lag reads 0: the last decisions
        (images, whose pixels are read last) are committed a little after they arrive, and the lag
        reaches Prometheus through the lag reporter's read, a scrape and a rule evaluation."""
        deadline = time.monotonic() + wait_s
        rules: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/rules", timeout=10) as response:
                    rules = [r for g in json.loads(response.read())["data"]["groups"] for r in g["rules"]]
                evaluated = rules and all(r.get("lastEvaluation", "").startswith("20") for r in rules)
                # Rules evaluated on two scrapes of the worker around the events (else 0/0: NaN).
                settled = self.query("huiyan:dead_letters:ratio_rate5m >= 0") and self.query(
                    "huiyan:consumer_lag:sum == 0"
                )
                if evaluated and settled:
                    break
            except OSError:
                pass
            time.sleep(1)
        print(f"\nPrometheus: {self.url} (log {self.log_path}), scraping the worker and the lag reporter.")
        try:
            for title, expr in SUMMARY:
                found = self.query(expr)
                number = float(found[0]["value"][1]) if found else float("nan")
                value = "no data yet" if number != number else f"{number:.3g}"  # NaN: 0/0, no events
                print(f"  {title:<36} {value:>12}   ({expr})")
            alerts = self.query("ALERTS")
        except OSError as exc:
            print(f"  Prometheus did not answer: {exc}")
            return
        healthy = sum(1 for r in rules if r.get("health") == "ok")
        print(f"  rules loaded: {len(rules)} ({healthy} healthy); alerts: {self.url}/alerts")
        for alert in alerts:
            labels = alert["metric"]
            print(f"  alert {labels.get('alertname')}: {labels.get('alertstate')}")
        print(
            "  Grafana dashboards: deploy/grafana/dashboards/*.json (to import as docs/operations.md says); "
            f"runbooks: {REPO / 'docs' / 'runbooks'}"
        )

    def stop(self) -> None:
        for process in (self.lag, self.process):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()

    def pids(self) -> str:
        return f"Prometheus pid {self.process.pid} on {self.url}, lag reporter pid {self.lag.pid}"


def launch_prometheus(
    binary: str, workdir: Path, config: dict[str, Any], port: int
) -> tuple[subprocess.Popen[bytes], Path]:
    """Starts ``binary`` with ``config`` (written to ``workdir``), its data in ``workdir``, listening on
    127.0.0.1:``port``; returns the process and the path of its log."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False), "utf-8")
    log_path = workdir / "prometheus.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={workdir / 'prometheus.yml'}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    return process, log_path


def _free(port: int) -> bool:
    with socket.socket() as s:
        # As Prometheus binds: a port a stopped process left in TIME_WAIT is free to it.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
