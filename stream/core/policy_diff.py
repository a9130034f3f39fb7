"""Where two policies disagree: the shadow report and the replay report share this comparison.

Both compare pairs of decisions on the same events (as JSON objects, the decision.v1 contract): the
decision that acted or would act (live, or the baseline of a replay) and the one a candidate policy
gave. The report counts the changes per action, per reason category and per tenant, and keeps a few
examples of each change; it never produces anything.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from stream.core.vocab import ACTION_RANK

EXAMPLES_PER_CHANGE: Final = 5


def category_actions(decision: Mapping[str, Any]) -> dict[str, str]:
    """The strongest action of each reason category in a decision (categories without reasons: none)."""
    strongest: dict[str, str] = {}
    for reason in decision.get("reasons") or ():
        category, action = str(reason.get("category")), str(reason.get("action"))
        # Decisions are read back from JSON: an unknown action ranks lowest.
        if ACTION_RANK.get(action, 0) >= ACTION_RANK.get(strongest.get(category, "allow"), 0):
            strongest[category] = action
    return strongest


@dataclass
class DiffReport:
    """Counts of how a candidate's decisions differ from the baseline's on the same events."""

    baseline_versions: Counter[str] = field(default_factory=Counter)
    candidate_versions: Counter[str] = field(default_factory=Counter)
    compared: int = 0
    changed: int = 0
    # (baseline action, candidate action) -> events; includes the unchanged pairs.
    actions: Counter[tuple[str, str]] = field(default_factory=Counter)
    # (category, baseline action, candidate action) -> events whose strongest reason of that category moved.
    categories: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    # (tenant, baseline action, candidate action) -> changed events of that tenant.
    tenants: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, baseline: Mapping[str, Any], candidate: Mapping[str, Any]) -> None:
        self.compared += 1
        self.baseline_versions[_policy(baseline)] += 1
        self.candidate_versions[_policy(candidate)] += 1
        before, after = str(baseline.get("action")), str(candidate.get("action"))
        self.actions[before, after] += 1
        old, new = category_actions(baseline), category_actions(candidate)
        for category in sorted(set(old) | set(new)):
            if old.get(category, "allow") != new.get(category, "allow"):
                self.categories[category, old.get(category, "allow"), new.get(category, "allow")] += 1
        if before == after:
            return
        self.changed += 1
        self.tenants[str(baseline.get("tenant")), before, after] += 1
        examples = self.examples.setdefault(f"{before}->{after}", [])
        if len(examples) < EXAMPLES_PER_CHANGE:
            examples.append(
                {
                    "event_id": baseline.get("event_id"),
                    "content_id": baseline.get("content_id"),
                    "tenant": baseline.get("tenant"),
                    "scene": baseline.get("scene"),
                    "baseline_reasons": [r.get("code") for r in baseline.get("reasons") or ()],
                    "candidate_reasons": [r.get("code") for r in candidate.get("reasons") or ()],
                    "candidate_messages": [r.get("message") for r in candidate.get("reasons") or ()][:3],
                }
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline_policies": dict(self.baseline_versions),
            "candidate_policies": dict(self.candidate_versions),
            "compared": self.compared,
            "changed": self.changed,
            "actions": [
                {"baseline": b, "candidate": c, "events": n} for (b, c), n in sorted(self.actions.items())
            ],
            "categories": [
                {"category": k, "baseline": b, "candidate": c, "events": n}
                for (k, b, c), n in sorted(self.categories.items())
            ],
            "tenants": [
                {"tenant": t, "baseline": b, "candidate": c, "events": n}
                for (t, b, c), n in sorted(self.tenants.items())
            ],
            "examples": self.examples,
        }

    def render(self, baseline_name: str = "baseline", candidate_name: str = "candidate") -> str:
        """A plain-text report for a terminal."""
        lines = [
            f"{baseline_name}: {', '.join(sorted(self.baseline_versions)) or '-'}",
            f"{candidate_name}: {', '.join(sorted(self.candidate_versions)) or '-'}",
            f"{self.compared} events compared, {self.changed} decided differently"
            + (f" ({self.changed / self.compared:.1%})" if self.compared else ""),
            "",
            f"actions ({baseline_name} -> {candidate_name}):",
        ]
        lines += [f"  {b:>5} -> {c:<5} {n:>8}" for (b, c), n in sorted(self.actions.items())]
        if self.categories:
            lines += ["", "by reason category (strongest action of that category's reasons):"]
            lines += [
                f"  {k:<14} {b:>5} -> {c:<5} {n:>8}" for (k, b, c), n in sorted(self.categories.items())
            ]
        if self.tenants:
            lines += ["", "changed events by tenant:"]
            lines += [f"  {t:<20} {b:>5} -> {c:<5} {n:>8}" for (t, b, c), n in sorted(self.tenants.items())]
        for change, examples in sorted(self.examples.items()):
            lines += ["", f"examples {change}:"]
            for example in examples:
                lines.append(
                    f"  {example['event_id']} (tenant {example['tenant']}, scene {example['scene']}): "
                    f"{', '.join(map(str, example['baseline_reasons'])) or 'no reasons'} -> "
                    f"{', '.join(map(str, example['candidate_reasons'])) or 'no reasons'}"
                )
        return "\n".join(lines)


def _policy(decision: Mapping[str, Any]) -> str:
    provenance = decision.get("provenance")
    return str(provenance.get("policy_version")) if isinstance(provenance, Mapping) else "?"


def pair_by_event(
    baseline: Iterable[bytes], candidate: Iterable[bytes]
) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], int, int]:
    """Joins two streams of decision JSON by ``event_id`` (the newest of each wins, as redeliveries may
    repeat one). Returns the pairs, and how many decisions of each side had no partner."""
    first = _by_event(baseline)
    second = _by_event(candidate)
    pairs = [(first[e], second[e]) for e in first if e in second]
    return pairs, len(set(first) - set(second)), len(set(second) - set(first))


def _by_event(values: Iterable[bytes]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for value in values:
        try:
            doc = json.loads(value)
        except ValueError:
            continue
        if isinstance(doc, dict) and isinstance(doc.get("event_id"), str):
            found[doc["event_id"]] = doc
    return found
