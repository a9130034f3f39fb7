"""The alert rules name metrics that the worker exports (a misspelt name would never fire)."""

from __future__ import annotations

import re

import yaml

from stream.metrics import Metrics
from tests.fixtures import REPO

ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}  # others: the name


def exported_names() -> set[str]:
    """Every series name the worker's registry can expose, with or without samples yet."""
    return {
        family.name + suffix
        for family in Metrics().registry.collect()
        for suffix in SUFFIXES.get(family.type, ("",))
    }


def used_names(alerts: str) -> set[str]:
    rules = yaml.safe_load(alerts)["groups"][0]["rules"]
    return {name for rule in rules for name in re.findall(r"\bhuiyan_[a-z_]+", rule["expr"])}


def test_every_alert_names_metrics_the_worker_exports() -> None:
    text = ALERTS.read_text("utf-8")
    used = used_names(text)
    assert {"huiyan_dead_letters_total", "huiyan_decision_notes_total"} <= used
    assert used <= exported_names(), used - exported_names()
    misspelt = text.replace("huiyan_decision_notes_total", "huiyan_decision_note_total")
    assert not used_names(misspelt) <= exported_names()
