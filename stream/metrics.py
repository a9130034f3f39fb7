"""Huiyan's Prometheus metrics, all in one registry with bounded label values.

Label values come only from closed sets (actions, categories, content types, finding codes, reject
reasons): never an event id, tenant or any other producer-supplied free text. The worker exposes this
registry, together with Faust's own sensor, on ``/metrics``. This module records; it decides nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from stream import __version__
from stream.records import Decision, RejectReason

# The *_created series double the output and say nothing a dashboard uses.
disable_created_metrics()  # type: ignore[no-untyped-call]
REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

BUILD_INFO = Gauge("huiyan_build_info", "Huiyan version of this worker", ["version"], registry=REGISTRY)
POLICY_INFO = Gauge("huiyan_policy_info", "Policy version in force (value 1)", ["version"], registry=REGISTRY)
SHADOW_POLICY_INFO = Gauge(
    "huiyan_shadow_policy_info",
    "Shadow policy version decided beside the live one (value 1; no series while there is none)",
    ["version"],
    registry=REGISTRY,
)
POLICY_UPDATES = Counter(
    "huiyan_policy_updates",
    "Records read from the policy topic, by slot and outcome (applied, or rejected: the previous policy "
    "stays in force)",
    ["slot", "outcome"],
    registry=REGISTRY,
)
SHADOW_DECISIONS = Counter(
    "huiyan_shadow_decisions",
    "Events decided under the shadow policy, by the live and the shadow action (they differ where the "
    "two policies disagree)",
    ["live_action", "shadow_action"],
    registry=REGISTRY,
)
EVENTS_RECEIVED = Counter("huiyan_events_received", "Events read from the content topic", registry=REGISTRY)
DECISIONS = Counter(
    "huiyan_decisions",
    "Decisions produced, by action, the category of the strongest reason ('none' if none) and content type",
    ["action", "category", "content_type"],
    registry=REGISTRY,
)
REASONS = Counter(
    "huiyan_decision_reasons",
    "Reasons that fired, by category and action",
    ["category", "action"],
    registry=REGISTRY,
)
LABEL_FINDINGS = Counter(
    "huiyan_label_findings",
    "Label-compliance findings, by code and severity",
    ["code", "severity"],
    registry=REGISTRY,
)
NOTES = Counter(
    "huiyan_decision_notes",
    "Notes on decisions, by code: text_truncated, text_normalised (unencodable code points replaced at "
    "the edge), or classifier_unscored (a classifier failed or timed out on the event's text, whether or "
    "not the policy acted on it)",
    ["code"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "huiyan_dead_letters",
    "Events sent to the dead-letter topic, by reason code",
    ["reason"],
    registry=REGISTRY,
)
BATCH_SIZE = Histogram(
    "huiyan_batch_size",
    "Events per decided batch",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
    registry=REGISTRY,
)
PROCESSING_SECONDS = Histogram(
    "huiyan_batch_processing_seconds",
    "Time to decide one batch (parse, label checks, classifiers, policy), excluding Kafka delivery",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
DELIVERY_SECONDS = Histogram(
    "huiyan_batch_delivery_seconds",
    "Time until the broker acknowledged a batch's decisions",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
END_TO_END_SECONDS = Histogram(
    "huiyan_end_to_end_latency_seconds",
    "From event time (created_at, else the Kafka record time) to the acknowledged decision",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
DELIVERY_FAILURES = Counter(
    "huiyan_delivery_failures",
    "Batches whose delivery failed for a reason other than the broker (a bug): the worker stops "
    "acknowledging and exits, and the batch is redone from the committed offsets",
    registry=REGISTRY,
)
SEND_RETRIES = Counter(
    "huiyan_send_retries",
    "Produce attempts that failed and were retried, by topic kind",
    ["topic"],
    registry=REGISTRY,
)

BUILD_INFO.labels(version=__version__).set(1)


def record_policy(version: str) -> None:
    POLICY_INFO.clear()
    POLICY_INFO.labels(version=version).set(1)


def record_shadow_policy(version: str | None) -> None:
    SHADOW_POLICY_INFO.clear()
    if version:
        SHADOW_POLICY_INFO.labels(version=version).set(1)


def record_policy_update(slot: str | None, applied: bool) -> None:
    POLICY_UPDATES.labels(slot or "unknown", "applied" if applied else "rejected").inc()


def record_shadow(live: Sequence[tuple[int, Decision]], shadow: Sequence[tuple[int, Decision]]) -> None:
    """Counts each event's live action against its shadow action (paired by batch position)."""
    live_actions = {index: decision.action for index, decision in live}
    for index, decision in shadow:
        if index in live_actions:
            SHADOW_DECISIONS.labels(live_actions[index], decision.action).inc()


def record_decisions(decisions: Sequence[Decision]) -> None:
    for decision in decisions:
        strongest = max(
            (r for r in decision.reasons if r.action == decision.action),
            default=None,
            key=lambda r: r.score or 0,
        )
        category = strongest.category if strongest is not None else "none"
        DECISIONS.labels(decision.action, category, decision.content_type).inc()
        for reason in decision.reasons:
            REASONS.labels(reason.category, reason.action).inc()
        for finding in decision.label_findings:
            LABEL_FINDINGS.labels(finding.code, finding.severity).inc()
        for note in decision.notes:
            NOTES.labels(note.code).inc()


def record_dead_letter(reason: RejectReason) -> None:
    DEAD_LETTERS.labels(reason).inc()
