"""Trust-and-safety policy as data: what each label finding and each classifier score leads to.

A policy is a YAML file, validated on load and versioned by the hash of its content, so every
decision names the exact policy it used. This module maps findings and scores to actions; it does not
compute findings or scores, and it does not know where events come from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from classifiers.labels.codes import FINDING_CODES
from classifiers.labels.findings import SEVERITIES, LabelFinding
from classifiers.scores import CATEGORIES
from stream.core.terms import TermListError, TermLists, parse_term_lists
from stream.core.vocab import ACTIONS, Action


class PolicyError(ValueError):
    """A policy file that cannot be used; the message says which key is wrong and why."""


@dataclass(frozen=True, slots=True)
class CategoryThresholds:
    """Thresholds of one category: a score at or above ``block`` blocks, at or above ``flag`` flags."""

    enabled: bool
    flag: float
    block: float


@dataclass(frozen=True, slots=True)
class Rules:
    """The rules one event is judged by: the policy's base rules with the overrides for its tenant and
    scene applied (``scope`` names them, ``base`` when none applied)."""

    scope: str
    finding_actions: Mapping[str, Action]
    severity_actions: Mapping[str, Action]
    categories: Mapping[str, CategoryThresholds]
    classifier_failure_action: Action
    term_lists: TermLists

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


@dataclass(frozen=True, slots=True)
class Override:
    """Rules for one tenant, one scene, or one tenant's scene; only the keys it sets replace the base."""

    tenant: str | None
    scene: str | None
    finding_actions: Mapping[str, Action]
    categories: Mapping[str, CategoryThresholds]
    classifier_failure_action: Action | None
    term_list_docs: tuple[Any, ...]

    def applies(self, tenant: str | None, scene: str | None) -> bool:
        return self.tenant in (None, tenant) and self.scene in (None, scene)

    @property
    def specificity(self) -> int:
        """Scene-only overrides apply first, then tenant-only, then tenant-and-scene (the last wins)."""
        return (2 if self.tenant is not None else 0) + (1 if self.scene is not None else 0)

    @property
    def label(self) -> str:
        parts = [f"tenant={self.tenant}"] if self.tenant is not None else []
        return ",".join(parts + ([f"scene={self.scene}"] if self.scene is not None else []))


@dataclass(frozen=True, slots=True)
class StrikeRule:
    """Repeat offenders: decisions with an action in ``counted`` are strikes against the account; with
    at least ``at`` strikes within ``window_s``, the account's next events get at least ``action``."""

    counted: frozenset[str]
    window_s: float
    escalate: tuple[tuple[int, Action], ...]  # ascending by count

    def escalation(self, strikes: int) -> tuple[int, Action] | None:
        """The highest step the count reaches: (its count, its action), or None."""
        reached = [step for step in self.escalate if strikes >= step[0]]
        return reached[-1] if reached else None


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    version: str
    base: Rules
    overrides: tuple[Override, ...] = ()
    term_list_docs: tuple[Any, ...] = ()
    strikes: StrikeRule | None = None
    # (tenant, scene) -> the rules, for every tenant and scene an override names (None: any other),
    # resolved when the policy is built: reading a policy changes nothing in it.
    _table: Mapping[tuple[str | None, str | None], Rules] = field(
        init=False, compare=False, repr=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        tenants = [None, *sorted({o.tenant for o in self.overrides if o.tenant is not None})]
        scenes = [None, *sorted({o.scene for o in self.overrides if o.scene is not None})]
        # The overrides that apply (their indices) -> the rules they make: built once per combination,
        # however many tenants or scenes share it, since a combination with term lists compiles an
        # automaton.
        combined: dict[tuple[int, ...], Rules] = {}
        table: dict[tuple[str | None, str | None], Rules] = {}
        for tenant in tenants:
            for scene in scenes:
                applying = tuple(
                    sorted(
                        (i for i, o in enumerate(self.overrides) if o.applies(tenant, scene)),
                        key=lambda i: self.overrides[i].specificity,
                    )
                )
                if (rules := combined.get(applying)) is None:
                    rules = combined[applying] = self._combine([self.overrides[i] for i in applying])
                table[(tenant, scene)] = rules
        object.__setattr__(self, "_table", MappingProxyType(table))

    @property
    def tenants(self) -> frozenset[str]:
        """The tenants its overrides name."""
        return frozenset(o.tenant for o in self.overrides if o.tenant is not None)

    @property
    def finding_actions(self) -> Mapping[str, Action]:
        return self.base.finding_actions

    @property
    def severity_actions(self) -> Mapping[str, Action]:
        return self.base.severity_actions

    @property
    def categories(self) -> Mapping[str, CategoryThresholds]:
        return self.base.categories

    @property
    def classifier_failure_action(self) -> Action:
        return self.base.classifier_failure_action

    def action_for_finding(self, finding: LabelFinding) -> Action:
        return self.base.action_for_finding(finding)

    def action_for_score(self, category: str, score: float) -> tuple[Action, float | None]:
        return self.base.action_for_score(category, score)

    def rules_for(self, tenant: str, scene: str) -> Rules:
        """The rules for an event of ``tenant`` in ``scene``: base, then every override that applies."""
        known_tenant = tenant if (tenant, None) in self._table else None
        known_scene = scene if (None, scene) in self._table else None
        return self._table[(known_tenant, known_scene)]

    def _combine(self, applying: list[Override]) -> Rules:
        """The base with ``applying`` laid over it, in order (the last wins)."""
        if not applying:
            return self.base
        docs = list(self.term_list_docs)
        findings = dict(self.base.finding_actions)
        categories = dict(self.base.categories)
        failure = self.base.classifier_failure_action
        for override in applying:
            findings.update(override.finding_actions)
            categories.update(override.categories)
            failure = override.classifier_failure_action or failure
            docs += override.term_list_docs
        return Rules(
            scope=" + ".join(o.label for o in applying),
            finding_actions=findings,
            severity_actions=self.base.severity_actions,
            categories=categories,
            classifier_failure_action=failure,
            # Validated when the policy was parsed; names stay unique across base and overrides.
            term_lists=parse_term_lists(docs) if docs != list(self.term_list_docs) else self.base.term_lists,
        )


def _action(value: Any, where: str) -> Action:
    if value not in ACTIONS:
        raise PolicyError(f"{where}: {value!r} is not one of {', '.join(ACTIONS)}")
    result: Action = value
    return result


def _threshold(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise PolicyError(f"{where}: {value!r} is not a number between 0 and 1")
    return float(value)


def _mapping(doc: Mapping[str, Any], key: str, where: str | None = None) -> Mapping[str, Any]:
    value = doc.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PolicyError(f"{where or key}: must be a mapping")
    return value


def parse_policy(text: str) -> Policy:
    """Parses and validates policy YAML; raises :class:`PolicyError` naming the bad key."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"not valid YAML: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise PolicyError("a policy must be a YAML mapping")
    known = {
        "name",
        "description",
        "label_findings",
        "label_severity",
        "categories",
        "classifier_failure",
        "term_lists",
        "overrides",
        "strikes",
    }
    if unknown := sorted(set(doc) - known, key=str):
        raise PolicyError(f"unknown top-level keys: {', '.join(map(str, unknown))}")
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        raise PolicyError("name: required, a non-empty string")

    finding_actions = _finding_actions(_mapping(doc, "label_findings"), "label_findings")
    severity_doc = _mapping(doc, "label_severity")
    if missing := [s for s in SEVERITIES if s not in severity_doc]:
        raise PolicyError(f"label_severity: missing {', '.join(missing)}")
    if unknown := sorted(set(severity_doc) - set(SEVERITIES), key=str):
        raise PolicyError(f"label_severity: unknown severities {', '.join(map(str, unknown))}")
    severity_actions = {s: _action(severity_doc[s], f"label_severity.{s}") for s in SEVERITIES}
    categories = _categories(_mapping(doc, "categories"), "categories")
    failure = _action(doc.get("classifier_failure", "flag"), "classifier_failure")
    list_docs = _list_docs(doc.get("term_lists"), "term_lists")
    base = Rules(
        scope="base",
        finding_actions=finding_actions,
        severity_actions=severity_actions,
        categories=categories,
        classifier_failure_action=failure,
        term_lists=_term_lists(list_docs, "term_lists"),
    )
    overrides = _overrides(doc.get("overrides"), list_docs)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return Policy(
        name=name,
        version=f"{name}@sha256:{digest}",
        base=base,
        overrides=overrides,
        term_list_docs=tuple(list_docs),
        strikes=_strikes(doc.get("strikes")),
    )


def _strikes(value: Any) -> StrikeRule | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise PolicyError("strikes: must be a mapping with count, window_hours and escalate")
    if unknown := sorted(set(value) - {"count", "window_hours", "escalate"}, key=str):
        raise PolicyError(f"strikes: unknown keys {', '.join(map(str, unknown))}")
    counted = value.get("count", ["block"])
    if not isinstance(counted, list) or not counted:
        raise PolicyError("strikes.count: must be a non-empty list of actions")
    actions = frozenset(_action(a, "strikes.count") for a in counted)
    if "allow" in actions:
        raise PolicyError("strikes.count: allow cannot be a strike")
    hours = value.get("window_hours", 168)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 744:
        raise PolicyError(f"strikes.window_hours: {hours!r} is not a number of hours in (0, 744] (31 days)")
    steps = value.get("escalate")
    if not isinstance(steps, list) or not steps:
        raise PolicyError("strikes.escalate: must be a non-empty list of {at, action}")
    escalate: list[tuple[int, Action]] = []
    for index, step in enumerate(steps):
        where = f"strikes.escalate[{index}]"
        if not isinstance(step, Mapping) or set(step) != {"at", "action"}:
            raise PolicyError(f"{where}: must be a mapping with exactly at and action")
        at = step["at"]
        if isinstance(at, bool) or not isinstance(at, int) or not 1 <= at <= 100:
            raise PolicyError(f"{where}.at: {at!r} is not a whole number of strikes from 1 to 100")
        action = _action(step["action"], f"{where}.action")
        if action == "allow":
            raise PolicyError(f"{where}.action: escalating to allow does nothing")
        if escalate and (at <= escalate[-1][0] or ACTIONS.index(action) < ACTIONS.index(escalate[-1][1])):
            raise PolicyError(f"{where}: steps must rise in count, and never weaken the action")
        escalate.append((at, action))
    return StrikeRule(counted=actions, window_s=float(hours) * 3600, escalate=tuple(escalate))


def _finding_actions(doc: Mapping[str, Any], where: str) -> dict[str, Action]:
    actions: dict[str, Action] = {}
    for code, action in doc.items():
        if code not in FINDING_CODES:
            raise PolicyError(f"{where}.{code}: unknown finding code")
        actions[code] = _action(action, f"{where}.{code}")
    return actions


def _categories(doc: Mapping[str, Any], where: str) -> dict[str, CategoryThresholds]:
    categories: dict[str, CategoryThresholds] = {}
    for category, rule in doc.items():
        at = f"{where}.{category}"
        if category not in CATEGORIES:
            raise PolicyError(f"{at}: unknown category (known: {', '.join(CATEGORIES)})")
        if not isinstance(rule, Mapping):
            raise PolicyError(f"{at}: must be a mapping with flag and block thresholds")
        if unknown := sorted(set(rule) - {"flag", "block", "enabled"}, key=str):
            raise PolicyError(f"{at}: unknown keys {', '.join(map(str, unknown))}")
        flag = _threshold(rule.get("flag"), f"{at}.flag")
        block = _threshold(rule.get("block"), f"{at}.block")
        if block < flag:
            raise PolicyError(f"{at}: block threshold {block} is below flag threshold {flag}")
        enabled = rule.get("enabled", True)
        if not isinstance(enabled, bool):
            raise PolicyError(f"{at}.enabled: must be true or false")
        categories[category] = CategoryThresholds(enabled=enabled, flag=flag, block=block)
    return categories


def _list_docs(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"{where}: must be a list of term lists")
    return list(value)


def _term_lists(docs: list[Any], where: str) -> TermLists:
    try:
        return parse_term_lists(docs, where)
    except TermListError as exc:
        raise PolicyError(str(exc)) from exc


def _overrides(value: Any, base_lists: list[Any]) -> tuple[Override, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise PolicyError("overrides: must be a list")
    overrides: list[Override] = []
    seen: dict[tuple[str | None, str | None], int] = {}
    for index, doc in enumerate(value):
        where = f"overrides[{index}]"
        if not isinstance(doc, Mapping):
            raise PolicyError(f"{where}: must be a mapping")
        allowed = {"tenant", "scene", "label_findings", "categories", "classifier_failure", "term_lists"}
        if unknown := sorted(set(doc) - allowed, key=str):
            raise PolicyError(f"{where}: unknown keys {', '.join(map(str, unknown))}")
        tenant, scene = doc.get("tenant"), doc.get("scene")
        for key, got in (("tenant", tenant), ("scene", scene)):
            if got is not None and (not isinstance(got, str) or not got):
                raise PolicyError(f"{where}.{key}: must be a non-empty string")
        if tenant is None and scene is None:
            raise PolicyError(f"{where}: needs a tenant, a scene or both")
        if (tenant, scene) in seen:
            raise PolicyError(f"{where}: same tenant and scene as overrides[{seen[tenant, scene]}]")
        seen[tenant, scene] = index
        lists = _list_docs(doc.get("term_lists"), f"{where}.term_lists")
        # Validate the lists as they will be used: with the base lists (names must stay unique).
        _term_lists(base_lists + lists, "term_lists (base lists, then " + f"{where}.term_lists)")
        failure = doc.get("classifier_failure")
        overrides.append(
            Override(
                tenant=tenant,
                scene=scene,
                finding_actions=_finding_actions(
                    _mapping(doc, "label_findings", f"{where}.label_findings"), f"{where}.label_findings"
                ),
                categories=_categories(
                    _mapping(doc, "categories", f"{where}.categories"), f"{where}.categories"
                ),
                classifier_failure_action=None
                if failure is None
                else _action(failure, f"{where}.classifier_failure"),
                term_list_docs=tuple(lists),
            )
        )
    return tuple(overrides)


def policy_text(path: str | Path | None = None) -> str:
    """The YAML of a policy file, or of the bundled default policy when ``path`` is empty."""
    if not path:
        return resources.files("stream.policies").joinpath("default.yaml").read_text("utf-8")
    try:
        return Path(path).read_text("utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy file {path}: {exc.strerror}") from exc


def load_policy(path: str | Path | None = None) -> Policy:
    """Loads a policy file, or the bundled default policy when ``path`` is empty."""
    return parse_policy(policy_text(path))
