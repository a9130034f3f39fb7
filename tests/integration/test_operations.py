"""The operations pack against real parts: Debian's Prometheus scrapes a real worker (and ``huiyan lag
--serve``) on the real broker while events flow, with Huiyan's rule files loaded.

Every rule evaluates without error, every recorded series and every dashboard query returns data, and
when the worker stops while events keep arriving, the lag grows and the lag and burn-rate alerts go
pending (their ``for`` durations, minutes long, are covered by the promtool unit tests in
deploy/prometheus/tests/).
"""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer

from stream.kafka.auth import kafka_python_options
from stream.kafka.lag import LagReader
from stream.tools.deployment import REPO, free_port
from tests.fixtures.events import event_bytes
from tests.fixtures.kafka import Deployment, run_huiyan
from tests.fixtures.prometheus import Prometheus, prometheus_binary, rules

LIVE = """
name: ops-live
label_severity: {violation: allow, warning: allow, info: allow}
term_lists:
  - {name: 违法办证, action: block, terms: [办证刻章]}
strikes: {count: [block], window_hours: 1, escalate: [{at: 2, action: flag}]}
"""
# The shadow flags what the live policy blocks: every listed event is a disagreement.
SHADOW = LIVE.replace("ops-live", "ops-shadow").replace("action: block, terms", "action: flag, terms")
LISTED = "需要办证刻章请联系我们。"
TENANT = "shop"
# What the dashboards' variables stand for in the queries run here (1 s scrapes: 20 s hold 20 samples).
VARIABLES = {"$__rate_interval": "20s", "$__range": "2m", "$instance": ".*", "$tenant": TENANT}


class Traffic(threading.Thread):
    """Produces a round of events every half second until stopped: allowed and blocked texts of two
    tenants, a repeat offender, a labelled event and a broken record (a dead letter)."""

    def __init__(self, deployment: Deployment) -> None:
        super().__init__(daemon=True)
        settings = deployment.settings
        self.topic = settings.content_topic
        self.producer = KafkaProducer(
            bootstrap_servers=settings.bootstrap_servers, acks="all", **kafka_python_options(settings)
        )
        self.halt = threading.Event()
        self.sent = 0

    def run(self) -> None:
        while not self.halt.is_set():
            tag = uuid.uuid4().hex[:8]
            for record in (
                event_bytes(f"plain-{tag}", tenant=TENANT),
                event_bytes(f"other-{tag}"),
                event_bytes(f"listed-{tag}", LISTED, tenant=TENANT, user="user-1"),
                event_bytes(f"repeat-{tag}", tenant=TENANT, user="user-1"),
                event_bytes(f"labelled-{tag}", labelled=True),
                b'{"event_id": "broken", ',
            ):
                self.producer.send(self.topic, record)
                self.sent += 1
            self.producer.flush()
            self.halt.wait(0.5)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=30)
        self.producer.close()


def _dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard, panel title, query with the variables filled in) for every target of every panel."""
    found = []
    for path in sorted((REPO / "deploy" / "grafana" / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text("utf-8"))["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for name, value in VARIABLES.items():
                    expr = expr.replace(name, value)
                assert "$" not in expr, (path.name, panel["title"], expr)
                found.append((path.name, panel["title"], expr))
    return found


def _wait(what: str, check: Any, timeout_s: float, prometheus: Prometheus) -> Any:
    """Polls ``check()`` until it is done: a collection of what is still missing, done when empty, or
    a truth value. Fails with the last answer and Prometheus' log after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        last = check()
        if _done(last):
            return last
        log = prometheus.log_path.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, f"{what} within {timeout_s:g} s; still: {last!r}\n{log}"
        time.sleep(1)


def _done(value: Any) -> bool:
    # A check returns what is still missing (done when empty) or a truth value.
    return not value if isinstance(value, list | dict | set) else bool(value)


def test_rules_and_dashboards_run_on_prometheus_scraping_a_worker_and_its_alerts_fire_when_it_stops(
    deployment: Deployment, tmp_path: Path
) -> None:
    binary = prometheus_binary()
    live, shadow = tmp_path / "live.yaml", tmp_path / "shadow.yaml"
    live.write_text(LIVE, "utf-8")
    shadow.write_text(SHADOW, "utf-8")
    run_huiyan(deployment.env, "policy", "push", "--shadow", str(shadow))
    worker = deployment.start_worker(
        HUIYAN_POLICY_FILE=str(live), HUIYAN_METRICS_TENANTS=TENANT, HUIYAN_LAG_INTERVAL_S="1"
    )
    lag_port = free_port()
    deployment.start(
        [sys.executable, "-m", "stream.cli", "lag", "--serve"],
        HUIYAN_LAG_PORT=str(lag_port),
        HUIYAN_LAG_INTERVAL_S="1",
    )
    prometheus = Prometheus(
        binary,
        tmp_path / "prometheus",
        {
            "huiyan": [f"127.0.0.1:{worker.web_port}"],  # type: ignore[attr-defined]
            "huiyan-lag": [f"127.0.0.1:{lag_port}"],
        },
    )
    # Traffic starts once the worker decides: events waiting for a starting worker would be late.
    deployment.produce([event_bytes("warm-up")])
    deployment.metrics_with(worker, "huiyan_decisions_total{", timeout_s=120)
    traffic = Traffic(deployment)
    traffic.start()
    try:
        # Every rule is loaded and evaluates without error.
        loaded = {r["name"] for r in prometheus.rules()}
        assert loaded == {r.get("record") or r.get("alert") for r in rules()}

        def rule_errors() -> list[str]:
            return [
                f"{r['name']}: {r.get('lastError') or r['health']}"
                for r in prometheus.rules()
                if r["health"] != "ok"
            ]

        _wait("every rule healthy", rule_errors, 30, prometheus)

        # Every recorded series and every dashboard query returns data under this traffic.
        recorded = [r["record"] for r in rules() if "record" in r]
        queries = _dashboard_queries()

        def empty() -> list[str]:
            missing = [name for name in recorded if not prometheus.query(name)]
            missing += [
                f"{board} / {title}: {expr}" for board, title, expr in queries if not prometheus.query(expr)
            ]
            return missing

        _wait("data from every recorded series and dashboard query", empty, 120, prometheus)
        # Each alert expression is valid PromQL on live data (whether it holds is the unit tests' part).
        for rule in rules():
            if "alert" in rule:
                prometheus.query(rule["expr"])

        # The traffic is healthy: nothing late, under 1/6 of the events dead-lettered (the broken one).
        def late() -> list[float | None]:
            ratio = prometheus.value("huiyan:decisions_late:ratio_rate5m")
            return [] if ratio is not None and ratio < 0.05 else [ratio]

        _wait("under 5% of the decisions late", late, 60, prometheus)
        assert prometheus.value("huiyan:dead_letters:ratio_rate5m") == pytest.approx(1 / 6, abs=0.05)
        assert prometheus.value(f'sum(huiyan_tenant_decisions_total{{tenant="{TENANT}"}})')
        assert prometheus.query('huiyan_shadow_policy_info{version=~".+"}')
        # The lag as an operator reads it.
        printed = run_huiyan(deployment.env, "lag").stdout
        assert re.search(r"^\s+total\s+\d+$", printed, re.M), printed

        # The only worker stops; events keep coming. `huiyan lag --serve` still reads the lag.
        assert deployment.stop_worker(worker, signal.SIGTERM) == 0
        before = prometheus.value("huiyan:consumer_lag:sum") or 0.0

        def alerts_pending() -> set[str]:
            wanted = {"HuiyanConsumerLagGrowing", "HuiyanLatencyBudgetBurnFast", "HuiyanWorkerDown"}
            return wanted - set(prometheus.alerts())

        _wait("lag, burn-rate and worker-down alerts pending or firing", alerts_pending, 120, prometheus)
        assert (prometheus.value("huiyan:consumer_lag:sum") or 0.0) > max(before, 100)
        assert (prometheus.value("huiyan:decisions_late:ratio_rate5m") or 0.0) > 14.4 * 0.01
    finally:
        traffic.stop()
        prometheus.stop()
    assert traffic.sent > 0


def test_the_lag_counts_every_event_the_group_has_not_committed(deployment: Deployment) -> None:
    deployment.produce([event_bytes(f"waiting-{i}") for i in range(7)])
    reader = LagReader(deployment.settings)
    try:
        offsets = reader.read()
    finally:
        reader.close()
    assert len(offsets) == 3  # the deployment's partitions
    assert sum(o.lag for o in offsets.values()) == 7
    assert all(o.committed is None for o in offsets.values())  # no worker has read any
    printed = run_huiyan(deployment.env, "lag").stdout
    assert re.search(r"^\s+total\s+7$", printed, re.M), printed
