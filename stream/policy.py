"""Trust-and-safety policy as data: what each label finding and each classifier score leads to.

A policy is a YAML file, validated on load and versioned by the hash of its content, so every
decision names the exact policy it used. This module maps findings and scores to actions; it does not
compute findings or scores, and it does not know where events come from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from classifiers.labels.codes import FINDING_CODES
from stream.records import Action, LabelFinding

ACTIONS: Final = ("allow", "flag", "block")
SEVERITIES: Final = ("violation", "warning", "info")
CATEGORIES: Final = ("rumor", "vulgar", "impersonation")


class PolicyError(ValueError):
    """A policy file that cannot be used; the message says which key is wrong and why."""


@dataclass(frozen=True, slots=True)
class CategoryThresholds:
    """Thresholds of one category: a score at or above ``block`` blocks, at or above ``flag`` flags."""

    enabled: bool
    flag: float
    block: float


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    version: str
    finding_actions: Mapping[str, Action]
    severity_actions: Mapping[str, Action]
    categories: Mapping[str, CategoryThresholds]
    classifier_failure_action: Action

    def action_for_finding(self, finding: LabelFinding) -> Action:
        """The finding's own rule if the policy names its code, else the rule for its severity."""
        return self.finding_actions.get(finding.code, self.severity_actions[finding.severity])

    def action_for_score(self, category: str, score: float) -> tuple[Action, float | None]:
        """The action a score leads to and the threshold it crossed (None when it crossed none)."""
        rule = self.categories.get(category)
        if rule is None or not rule.enabled:
            return "allow", None
        if score >= rule.block:
            return "block", rule.block
        if score >= rule.flag:
            return "flag", rule.flag
        return "allow", None


def _action(value: Any, where: str) -> Action:
    if value not in ACTIONS:
        raise PolicyError(f"{where}: {value!r} is not one of {', '.join(ACTIONS)}")
    result: Action = value
    return result


def _threshold(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise PolicyError(f"{where}: {value!r} is not a number between 0 and 1")
    return float(value)


def _mapping(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key, {})
    if not isinstance(value, Mapping):
        raise PolicyError(f"{key}: must be a mapping")
    return value


def parse_policy(text: str) -> Policy:
    """Parses and validates policy YAML; raises :class:`PolicyError` naming the bad key."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise PolicyError("a policy must be a YAML mapping")
    known = {"name", "description", "label_findings", "label_severity", "categories", "classifier_failure"}
    if unknown := sorted(set(doc) - known):
        raise PolicyError(f"unknown top-level keys: {', '.join(map(str, unknown))}")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError("name: required, a non-empty string")

    finding_actions: dict[str, Action] = {}
    for code, action in _mapping(doc, "label_findings").items():
        if code not in FINDING_CODES:
            raise PolicyError(f"label_findings.{code}: unknown finding code")
        finding_actions[code] = _action(action, f"label_findings.{code}")

    severity_doc = _mapping(doc, "label_severity")
    if missing := [s for s in SEVERITIES if s not in severity_doc]:
        raise PolicyError(f"label_severity: missing {', '.join(missing)}")
    if unknown := sorted(set(severity_doc) - set(SEVERITIES)):
        raise PolicyError(f"label_severity: unknown severities {', '.join(map(str, unknown))}")
    severity_actions = {s: _action(severity_doc[s], f"label_severity.{s}") for s in SEVERITIES}

    categories: dict[str, CategoryThresholds] = {}
    for category, rule in _mapping(doc, "categories").items():
        where = f"categories.{category}"
        if category not in CATEGORIES:
            raise PolicyError(f"{where}: unknown category (known: {', '.join(CATEGORIES)})")
        if not isinstance(rule, Mapping):
            raise PolicyError(f"{where}: must be a mapping with flag and block thresholds")
        flag = _threshold(rule.get("flag"), f"{where}.flag")
        block = _threshold(rule.get("block"), f"{where}.block")
        if block < flag:
            raise PolicyError(f"{where}: block threshold {block} is below flag threshold {flag}")
        enabled = rule.get("enabled", True)
        if not isinstance(enabled, bool):
            raise PolicyError(f"{where}.enabled: must be true or false")
        categories[category] = CategoryThresholds(enabled=enabled, flag=flag, block=block)

    failure = _action(doc.get("classifier_failure", "flag"), "classifier_failure")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return Policy(
        name=name,
        version=f"{name}@sha256:{digest}",
        finding_actions=finding_actions,
        severity_actions=severity_actions,
        categories=categories,
        classifier_failure_action=failure,
    )


def load_policy(path: str | Path | None = None) -> Policy:
    """Loads a policy file, or the bundled default policy when ``path`` is empty."""
    if not path:
        text = resources.files("stream.policies").joinpath("default.yaml").read_text("utf-8")
    else:
        try:
            text = Path(path).read_text("utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from exc
    return parse_policy(text)
