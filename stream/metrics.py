"""Huiyan's Prometheus metrics: one :class:`Metrics` object with a hook per thing that happens,
built by the process that serves them and passed to whatever records (the agent, the followers).

Each object has its own registry, so two in one process (tests, a future API beside a worker) never
share a series. Label values come only from closed sets (actions, categories, content types, finding
codes, reject reasons): never an event id, tenant or any other producer-supplied free text. The worker
exposes the registry, together with Faust's own sensor, on ``/metrics``. This module records; it
decides nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

from stream import __version__
from stream.core.records import Decision
from stream.core.vocab import RejectReason

# The *_created series double the output and say nothing a dashboard uses.
disable_created_metrics()  # type: ignore[no-untyped-call]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """The worker's metrics in their own registry, and the hooks that record them."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.build_info = Gauge(
            "huiyan_build_info", "Huiyan version of this worker", ["version"], registry=self.registry
        )
        self.policy_info = Gauge(
            "huiyan_policy_info", "Policy version in force (value 1)", ["version"], registry=self.registry
        )
        self.shadow_policy_info = Gauge(
            "huiyan_shadow_policy_info",
            "Shadow policy version decided beside the live one (value 1; no series while there is none)",
            ["version"],
            registry=self.registry,
        )
        self.policy_updates = Counter(
            "huiyan_policy_updates",
            "Records read from the policy topic, by slot and outcome (applied, or rejected: the previous "
            "policy stays in force)",
            ["slot", "outcome"],
            registry=self.registry,
        )
        self.shadow_decisions = Counter(
            "huiyan_shadow_decisions",
            "Events decided under the shadow policy, by the live and the shadow action (they differ where "
            "the two policies disagree)",
            ["live_action", "shadow_action"],
            registry=self.registry,
        )
        self.events_received = Counter(
            "huiyan_events_received", "Events read from the content topic", registry=self.registry
        )
        self.decisions_total = Counter(
            "huiyan_decisions",
            "Decisions produced, by action, the category of the strongest reason ('none' if none) and "
            "content type",
            ["action", "category", "content_type"],
            registry=self.registry,
        )
        self.reasons = Counter(
            "huiyan_decision_reasons",
            "Reasons that fired, by category and action",
            ["category", "action"],
            registry=self.registry,
        )
        self.label_findings = Counter(
            "huiyan_label_findings",
            "Label-compliance findings, by code and severity",
            ["code", "severity"],
            registry=self.registry,
        )
        self.notes = Counter(
            "huiyan_decision_notes",
            "Notes on decisions, by code: text_truncated, text_normalised (unencodable code points replaced "
            "at the edge), or classifier_unscored (a classifier failed or timed out on the event's text, "
            "whether or not the policy acted on it)",
            ["code"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "huiyan_dead_letters",
            "Events sent to the dead-letter topic, by reason code",
            ["reason"],
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "huiyan_batch_size",
            "Events per decided batch",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=self.registry,
        )
        self.processing_seconds = Histogram(
            "huiyan_batch_processing_seconds",
            "Time to decide one batch (parse, label checks, classifiers, policy), excluding Kafka delivery",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.delivery_seconds = Histogram(
            "huiyan_batch_delivery_seconds",
            "Time until the broker acknowledged a batch's decisions",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.end_to_end_seconds = Histogram(
            "huiyan_end_to_end_latency_seconds",
            "From event time (created_at, else the Kafka record time) to the acknowledged decision",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.delivery_failures = Counter(
            "huiyan_delivery_failures",
            "Batches whose delivery failed for a reason other than the broker (a bug): the worker stops "
            "acknowledging and exits, and the batch is redone from the committed offsets",
            registry=self.registry,
        )
        self.send_retries = Counter(
            "huiyan_send_retries",
            "Produce attempts that failed and were retried, by topic kind",
            ["topic"],
            registry=self.registry,
        )
        # huiyan serve (the HTTP door) and its audit trail.
        self.api_requests = Counter(
            "huiyan_api_requests",
            "HTTP requests to huiyan serve, by route and status code",
            ["route", "status"],
            registry=self.registry,
        )
        self.api_seconds = Histogram(
            "huiyan_api_request_seconds",
            "Time from a request's arrival to its answer, by route",
            ["route"],
            buckets=(0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.api_rejections = Counter(
            "huiyan_api_rejections",
            "Events the API refused as invalid (422), by the dead-letter reason code",
            ["reason"],
            registry=self.registry,
        )
        self.api_replays = Counter(
            "huiyan_api_idempotent_replays",
            "Requests answered with an earlier decision of the same tenant and event_id",
            registry=self.registry,
        )
        self.spooling = Gauge(
            "huiyan_api_spooling",
            "1 while the API cannot reach the broker and keeps its decisions on disk",
            registry=self.registry,
        )
        self.spool_bytes = Gauge(
            "huiyan_api_spool_bytes", "Bytes of decisions waiting in the spool", registry=self.registry
        )
        self.spooled_records = Counter(
            "huiyan_api_spooled_records", "Records written to the spool", registry=self.registry
        )
        self.spool_lost_records = Counter(
            "huiyan_api_spool_lost_records",
            "Records that neither the broker nor the full spool took (should stay 0: the API answers 503 "
            "before the spool is full)",
            registry=self.registry,
        )
        self.build_info.labels(version=__version__).set(1)

    def api_request(self, route: str, status: int, seconds: float) -> None:
        self.api_requests.labels(route, str(status)).inc()
        self.api_seconds.labels(route).observe(seconds)

    def api_rejected(self, reason: str) -> None:
        self.api_rejections.labels(reason).inc()

    def api_replay(self) -> None:
        self.api_replays.inc()

    def spool_state(self, spooling: bool, size: int) -> None:
        self.spooling.set(1 if spooling else 0)
        self.spool_bytes.set(size)

    def spooled(self, count: int, size: int) -> None:
        self.spooled_records.inc(count)
        self.spool_bytes.set(size)

    def spool_lost(self, count: int) -> None:
        self.spool_lost_records.inc(count)

    def batch_received(self, size: int) -> None:
        self.events_received.inc(size)
        self.batch_size.observe(size)

    def batch_decided(self, seconds: float) -> None:
        self.processing_seconds.observe(seconds)

    def batch_delivered(self, seconds: float) -> None:
        self.delivery_seconds.observe(seconds)

    def decision_acknowledged(self, seconds_since_event: float) -> None:
        self.end_to_end_seconds.observe(max(0.0, seconds_since_event))

    def delivery_failed(self) -> None:
        self.delivery_failures.inc()

    def send_retried(self, kind: str) -> None:
        self.send_retries.labels(kind).inc()

    def policy(self, version: str) -> None:
        self.policy_info.clear()
        self.policy_info.labels(version=version).set(1)

    def shadow_policy(self, version: str | None) -> None:
        self.shadow_policy_info.clear()
        if version:
            self.shadow_policy_info.labels(version=version).set(1)

    def policy_update(self, slot: str | None, applied: bool) -> None:
        self.policy_updates.labels(slot or "unknown", "applied" if applied else "rejected").inc()

    def shadow(self, live: Sequence[tuple[int, Decision]], shadow: Sequence[tuple[int, Decision]]) -> None:
        """Counts each event's live action against its shadow action (paired by batch position)."""
        live_actions = {index: decision.action for index, decision in live}
        for index, decision in shadow:
            if index in live_actions:
                self.shadow_decisions.labels(live_actions[index], decision.action).inc()

    def decisions(self, decisions: Sequence[Decision]) -> None:
        for decision in decisions:
            strongest = max(
                (r for r in decision.reasons if r.action == decision.action),
                default=None,
                key=lambda r: r.score or 0,
            )
            category = strongest.category if strongest is not None else "none"
            self.decisions_total.labels(decision.action, category, decision.content_type).inc()
            for reason in decision.reasons:
                self.reasons.labels(reason.category, reason.action).inc()
            for finding in decision.label_findings:
                self.label_findings.labels(finding.code, finding.severity).inc()
            for note in decision.notes:
                self.notes.labels(note.code).inc()

    def dead_letter(self, reason: RejectReason) -> None:
        self.dead_letters.labels(reason).inc()
