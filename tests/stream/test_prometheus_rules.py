"""The Prometheus configuration, rules and alerts are valid, and the alerts behave as their unit tests
(deploy/prometheus/tests/*.yml) say: promtool checks and runs them. Every alert is linked to its runbook,
and is tested both firing and silent."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.fixtures.prometheus import alerts, prometheus_binary

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS = REPO / "deploy" / "prometheus"
RULES = sorted(PROMETHEUS.glob("rules/*.yml"))
RULE_TESTS = sorted(PROMETHEUS.glob("tests/*.yml"))
RUNBOOK = re.compile(r"docs/runbooks/(?P<name>[A-Za-z]+)\.md")


def promtool(*args: str | Path) -> None:
    """Runs ``promtool args`` in the repository and fails with its output unless it succeeds; skips
    where promtool is not installed (fails instead under HUIYAN_REQUIRE_PROMETHEUS=1)."""
    found = prometheus_binary("promtool")
    relative = [str(arg.relative_to(REPO)) if isinstance(arg, Path) else arg for arg in args]
    done = subprocess.run(
        [found, *relative], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"promtool {' '.join(relative)}:\n{done.stdout}{done.stderr}"


def _tested_alerts() -> tuple[set[str], set[str]]:
    """Names of the alerts the unit tests expect to fire at some point, and of those they expect silent at
    some point (``exp_alerts`` empty or absent)."""
    firing: set[str] = set()
    silent: set[str] = set()
    for path in RULE_TESTS:
        for group in yaml.safe_load(path.read_text("utf-8"))["tests"]:
            for case in group.get("alert_rule_test") or ():
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
    return firing, silent


def test_rule_files_are_valid() -> None:
    """Every rule file parses, and every expression and template is valid PromQL and Go template."""
    assert {path.name for path in RULES} >= {"slo.yml", "alerts.yml"}
    promtool("check", "rules", *RULES)


def test_prometheus_config_is_valid() -> None:
    """prometheus.yml is a valid configuration and its rule files exist and are valid."""
    promtool("check", "config", PROMETHEUS / "prometheus.yml")


def test_rules_pass_their_unit_tests() -> None:
    """The recording rules compute what slo_test.yml expects and the alerts fire (or stay silent) as
    alerts_test.yml expects, labels and rendered annotations included."""
    assert RULE_TESTS, "no unit tests in deploy/prometheus/tests"
    promtool("test", "rules", *RULE_TESTS)


def test_every_alert_has_a_severity_and_a_runbook() -> None:
    """Each alert says how urgent it is and links its runbook, docs/runbooks/<alert>.md (the two burn-rate
    alerts of one objective, <alert> less Fast/Slow, share one)."""
    found = alerts()
    assert len(found) >= 13
    for rule in found:
        name = rule["alert"]
        assert rule.get("labels", {}).get("severity") in {"critical", "warning"}, name
        link = RUNBOOK.fullmatch(rule.get("annotations", {}).get("runbook_url", ""))
        assert link is not None, f"{name}: runbook_url is not docs/runbooks/<Name>.md"
        assert name in {link["name"], link["name"] + "Fast", link["name"] + "Slow"}, name


def test_every_alert_is_tested_firing_and_silent() -> None:
    """A new alert without unit tests fails here: each alert of alerts.yml has a case where it fires and one
    where it does not, and no case names an alert that alerts.yml lacks (such a case would pass silently)."""
    names = {rule["alert"] for rule in alerts()}
    firing, silent = _tested_alerts()
    assert names - firing == set(), "never tested firing"
    assert names - silent == set(), "never tested silent"
    assert (firing | silent) - names == set(), "tested but not in alerts.yml"
