"""The review queue and what reviews teach: verdicts on flagged decisions, and thresholds from them.

A reviewer records ``violation``, ``no_violation`` or ``escalate`` on a flagged decision; the review is
stored with who and when, and produced to the review topic for other tools. ``review_examples`` turns
the final verdicts into labelled scores per category, for ``huiyan tune --from-reviews``: a flag was
raised by its strongest category reason, so the verdict labels that category's score.

Only flagged decisions are reviewed, so the examples all score at or above the flag threshold in force:
they can show that a threshold should rise (too many ``no_violation``), never that it could fall.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import yaml

from classifiers.scores import CATEGORIES
from stream.settings import Settings
from stream.store.db import VERDICTS, Review, Store, StoreError, Verdict


def record_review(
    store: Store,
    tenant: str,
    event_id: str,
    verdict: str,
    reviewer: str,
    note: str = "",
    *,
    publish: Callable[[Review], None] | None = None,
    now: datetime | None = None,
) -> Review:
    """Stores a verdict on a decision of ``tenant`` (it must be stored) and publishes it."""
    if verdict not in VERDICTS:
        raise StoreError(f"verdict {verdict!r}: expected one of {', '.join(VERDICTS)}")
    if not reviewer:
        raise StoreError("a review names its reviewer")
    decision = store.decision(event_id)
    if decision is None or decision["tenant"] != tenant:
        raise StoreError(f"no stored decision {event_id!r} of tenant {tenant!r}")
    checked: Verdict = verdict
    at = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
    review = Review(tenant, event_id, checked, reviewer, at, note)
    store.add_review(review)
    if publish is not None:
        publish(review)
    return review


class ReviewPublisher:
    """Produces reviews to the review topic, keyed by tenant and event id (acknowledged by every
    in-sync replica before :meth:`publish` returns). The producer opens on the first review."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: Any = None

    def publish(self, review: Review) -> None:
        if self._producer is None:
            from kafka import KafkaProducer

            from stream.kafka.auth import kafka_python_options

            self._producer = KafkaProducer(
                bootstrap_servers=self.settings.bootstrap_servers,
                acks="all",
                **kafka_python_options(self.settings),
            )
        key = f"{review.tenant}\x1f{review.event_id}".encode()
        self._producer.send(self.settings.review_topic, key=key, value=review.to_json()).get(timeout=30)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.close()


def _category(decision: Mapping[str, Any]) -> str | None:
    """The category whose score raised the decision's action (its strongest category reason)."""
    raised = [
        r for r in decision["reasons"] if r["action"] == decision["action"] and r["category"] in CATEGORIES
    ]
    if not raised:
        return None
    strongest: str = max(raised, key=lambda r: r.get("score") or 0)["category"]
    return strongest


def review_examples(store: Store, tenant: str | None = None) -> dict[str, tuple[list[int], list[float]]]:
    """Per category, (labels, scores) of the decisions whose last verdict is final: 1 for
    ``violation``, 0 for ``no_violation``."""
    last: dict[tuple[str, str], Review] = {}
    for review in store.reviews(tenant):
        if review.verdict != "escalate":
            last[(review.tenant, review.event_id)] = review
    examples: dict[str, tuple[list[int], list[float]]] = {}
    for (_, event_id), review in last.items():
        row = store.decision(event_id)
        if row is None:
            continue
        decision = json.loads(row["doc"])
        category = _category(decision)
        if category is None or category not in decision["scores"]:
            continue
        labels, scores = examples.setdefault(category, ([], []))
        labels.append(1 if review.verdict == "violation" else 0)
        scores.append(float(decision["scores"][category]))
    return {c: examples[c] for c in CATEGORIES if c in examples}


def candidate_policy(policy_text: str, thresholds: Mapping[str, tuple[float, float]], source: str) -> str:
    """The policy with new ``(flag, block)`` thresholds per category, renamed ``<name>-reviewed``, as
    YAML to check, push as a shadow policy, and promote."""
    doc = yaml.safe_load(policy_text)
    categories = dict(doc.get("categories") or {})
    for category, (flag, block) in thresholds.items():
        categories[category] = {**(categories.get(category) or {}), "flag": flag, "block": max(block, flag)}
    doc["categories"] = categories
    doc["name"] = f"{doc.get('name', 'policy')}-reviewed"
    header = f"# Thresholds proposed by huiyan tune --from-reviews ({source}).\n"
    return header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
