"""The Grafana dashboards (deploy/grafana) and the Prometheus rules (deploy/prometheus/rules) against the
metrics a worker serves: the committed JSON is what the generator writes, every query names only
metrics that exist, and the JSON has the shape Grafana loads. The queries themselves run against a live
Prometheus in tests/integration/test_operations.py."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from tests.fixtures.prometheus import known_metric_names, rules

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "deploy" / "grafana"
# A PromQL metric name of ours: huiyan_* or a recorded huiyan:* series.
METRIC = re.compile(r"\bhuiyan[a-z0-9_:]*")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("huiyan_dashboards", GRAFANA / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text("utf-8")) for p in sorted((GRAFANA / "dashboards").glob("*.json"))}


def _targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for p in doc["panels"] for t in p.get("targets", [])]


def test_the_committed_dashboards_are_what_the_generator_writes() -> None:
    rendered = _generator().rendered()
    committed = {p.name: p.read_text("utf-8") for p in (GRAFANA / "dashboards").glob("*.json")}
    assert committed == rendered, "regenerate with: python3 deploy/grafana/generate.py"


def test_every_query_names_only_metrics_a_worker_serves_or_a_rule_records() -> None:
    known = known_metric_names()
    exprs = [t["expr"] for doc in _dashboards().values() for t in _targets(doc)]
    exprs += [rule["expr"] for rule in rules()]
    unknown = {name for expr in exprs for name in METRIC.findall(re.sub(r"\"[^\"]*\"", "", expr))} - known
    assert not unknown, f"queries name metrics nobody serves: {sorted(unknown)}"
    # And the check itself sees a typo.
    assert METRIC.findall("rate(huiyan_decisons_total[5m])")[0] not in known


def test_the_fleet_dashboard_covers_what_an_sre_asks_first() -> None:
    fleet = _dashboards()["huiyan-fleet.json"]
    exprs = " ".join(t["expr"] for t in _targets(fleet))
    for metric in (
        "huiyan_events_received_total",
        "huiyan_decisions_total",
        "huiyan_dead_letters_total",
        "huiyan_consumer_lag",
        "huiyan_end_to_end_latency_seconds_bucket",
        "huiyan_batch_processing_seconds_bucket",
        "huiyan_batch_size_bucket",
        "huiyan_classifier_calls_total",
        "huiyan_label_status_total",
        "huiyan_label_verdicts_total",
        "huiyan_policy_info",
        "huiyan_shadow_disagreements_total",
        "huiyan_strikes_total",
    ):
        assert metric in exprs, metric
    tenant = " ".join(t["expr"] for t in _targets(_dashboards()["huiyan-tenant.json"]))
    for metric in (
        "huiyan_tenant_decisions_total",
        "huiyan_tenant_decision_reasons_total",
        "huiyan_tenant_end_to_end_latency_seconds_bucket",
    ):
        assert f'{metric}{{tenant="$tenant"' in tenant, metric


def test_the_dashboards_have_the_shape_grafana_loads() -> None:
    for name, doc in _dashboards().items():
        assert doc["uid"] and doc["title"] and doc["schemaVersion"] >= 36, name
        variables = {v["name"]: v for v in doc["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        ids = [p["id"] for p in doc["panels"]]
        assert len(ids) == len(set(ids)), name
        cells: set[tuple[int, int]] = set()
        for panel in doc["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, (name, panel["title"])
            mine = {
                (x, y)
                for x in range(grid["x"], grid["x"] + grid["w"])
                for y in range(grid["y"], grid["y"] + grid["h"])
            }
            assert not mine & cells, f"{name}: {panel['title']} overlaps another panel"
            cells |= mine
            if panel["type"] == "row":
                continue
            assert panel["description"] and panel["targets"], (name, panel["title"])
            for target in panel["targets"]:
                assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
                used = set(re.findall(r"\$(\w+)", target["expr"])) - {"__rate_interval", "__range"}
                assert used <= set(variables), (name, target["expr"])


def test_the_provisioning_file_loads_the_dashboards_folder() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "huiyan.yml").read_text("utf-8"))
    assert provider["apiVersion"] == 1
    (only,) = provider["providers"]
    assert only["type"] == "file" and only["options"]["path"]
    source = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "huiyan-prometheus.yml").read_text("utf-8")
    )
    assert source["datasources"][0]["type"] == "prometheus"
