"""Huiyan's Prometheus metrics: one :class:`Metrics` object with a hook per thing that happens,
built by the process that serves them and passed to whatever records (the agent, the followers).

Each object has its own registry, so two in one process (tests, a future API beside a worker) never
share a series. Label values come only from closed sets (actions, categories, content types, finding
codes, reject reasons): never an event id, tenant or any other producer-supplied free text. The worker
exposes the registry, together with Faust's own sensor, on ``/metrics``. This module records; it
decides nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Final, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from classifiers.content import CONTENT_TYPES
from classifiers.labels.codes import FINDING_CODES, JUDGED_LABELS
from classifiers.labels.findings import LABEL_STATUSES
from stream import __version__
from stream.core.records import Decision
from stream.core.vocab import (
    ACTIONS,
    CALL_OUTCOMES,
    NOTE_CODES,
    PIXEL_OUTCOMES,
    REASON_CATEGORIES,
    REJECT_REASONS,
    CallOutcome,
    PixelOutcome,
    RejectReason,
)

# The *_created series double the output and say nothing a dashboard uses.
disable_created_metrics()  # type: ignore[no-untyped-call]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

# The tenant label of an event whose tenant has no label of its own (see Metrics.tenant_label).
OTHER_TENANT = "other"


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
        self.shadow_disagreements = Counter(
            "huiyan_shadow_disagreements",
            "Events whose shadow action differs from the live one (a share of huiyan_shadow_decisions_total)",
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
        # Label checks, strikes, classifier calls, consumer lag.
        self.label_status = Counter(
            "huiyan_label_status",
            "Decisions by the overall label status (compliant, noncompliant, not_found, inconclusive) "
            "and content type",
            ["status", "content_type"],
            registry=self.registry,
        )
        self.label_verdicts = Counter(
            "huiyan_label_verdicts",
            "Decisions by each label's own verdict: label is implicit or explicit, status as for "
            "huiyan_label_status",
            ["label", "status", "content_type"],
            registry=self.registry,
        )
        self.strikes = Counter(
            "huiyan_strikes",
            "Strikes recorded against accounts (one per live decision the policy's strikes rules count)",
            registry=self.registry,
        )
        # The group's consumer lag, read from the broker by the worker (and by huiyan lag --serve).
        self.lag = LagMetrics(self.registry)
        # Per tenant: a tenant named in HUIYAN_METRICS_TENANTS or in the live policy's overrides, else
        # "other" (tenant_label).
        self.tenant_decisions = Counter(
            "huiyan_tenant_decisions",
            "Decisions by tenant and action",
            ["tenant", "action"],
            registry=self.registry,
        )
        self.tenant_reasons = Counter(
            "huiyan_tenant_decision_reasons",
            "Reasons that fired, by tenant, category and reason code",
            ["tenant", "category", "code"],
            registry=self.registry,
        )
        self.tenant_end_to_end_seconds = Histogram(
            "huiyan_tenant_end_to_end_latency_seconds",
            "From event time to the acknowledged decision, by tenant",
            ["tenant"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.build_info.labels(version=__version__).set(1)
        # Series of closed label sets start at 0, so that rate() and increase() see their first event
        # (a series born at 1 looks like no change) and a quiet panel shows 0 rather than no data.
        for reason in REJECT_REASONS:
            self.dead_letters.labels(reason)
        for code in NOTE_CODES:
            self.notes.labels(code)
        for category in REASON_CATEGORIES:
            for action in ACTIONS:
                self.reasons.labels(category, action)
        for code, spec in FINDING_CODES.items():
            self.label_findings.labels(code, spec.severity)
        for status in LABEL_STATUSES:
            for content_type in CONTENT_TYPES:
                self.label_status.labels(status, content_type)
                for judged in JUDGED_LABELS:
                    self.label_verdicts.labels(judged, status, content_type)
        for kind in ("decisions", "dead_letters", "shadow_decisions", "strikes"):
            self.send_retries.labels(kind)
        for slot in ("live", "shadow", "unknown"):
            for outcome in ("applied", "rejected"):
                self.policy_updates.labels(slot, outcome)
        self.strikes.inc(0)
        self.known_tenants: frozenset[str] = frozenset()

    def tenant_label(self, tenant: str, named: Collection[str] = ()) -> str:
        """``tenant`` when it is one of ``known_tenants`` or ``named`` (the live policy's), else "other"."""
        return tenant if tenant in self.known_tenants or tenant in named else OTHER_TENANT

    def watch_classifier_calls(
        self, calls: Callable[[], Mapping[tuple[str, CallOutcome], int]], names: Sequence[str]
    ) -> None:
        """Serves ``huiyan_classifier_calls_total`` from ``calls`` (the classifier runner's counts), with
        every outcome of each of ``names`` from 0."""
        self.registry.register(_ClassifierCalls(calls, tuple(names)))

    def watch_pixel_reads(self, runner: PixelCounts) -> None:
        """Serves ``huiyan_pixel_reads_total``, ``huiyan_pixel_read_seconds_total`` and
        ``huiyan_pixel_reads_pending`` from the pixel runner (OCR of the visible label)."""
        self.registry.register(_PixelReads(runner))

    def watch_strike_book(self, accounts: Callable[[], int]) -> None:
        """Serves ``huiyan_strike_accounts``: accounts with strikes held in memory."""
        gauge = Gauge(
            "huiyan_strike_accounts",
            "Accounts whose recent strikes this worker holds (from the strike topic)",
            registry=self.registry,
        )
        gauge.set_function(lambda: float(accounts()))

    def strikes_recorded(self, count: int) -> None:
        self.strikes.inc(count)

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

    def batch_received(self, size: int, *, from_topic: bool = True) -> None:
        """A batch taken for deciding: from the content topic (a worker), or not (the API's requests,
        which are not events read from the topic and have their own request counters)."""
        if from_topic:
            self.events_received.inc(size)
        self.batch_size.observe(size)

    def batch_decided(self, seconds: float) -> None:
        self.processing_seconds.observe(seconds)

    def batch_delivered(self, seconds: float) -> None:
        self.delivery_seconds.observe(seconds)

    def decision_acknowledged(self, seconds_since_event: float, tenant: str = OTHER_TENANT) -> None:
        """One decision acknowledged ``seconds_since_event`` after its event time; ``tenant`` is its
        tenant label (tenant_label)."""
        seconds = max(0.0, seconds_since_event)
        self.end_to_end_seconds.observe(seconds)
        self.tenant_end_to_end_seconds.labels(tenant).observe(seconds)

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
                if live_actions[index] != decision.action:
                    self.shadow_disagreements.inc()

    def decisions(self, decisions: Sequence[Decision], named_tenants: Collection[str] = ()) -> None:
        """Counts ``decisions``; ``named_tenants`` (the live policy's) get their own tenant label."""
        for decision in decisions:
            tenant = self.tenant_label(decision.tenant, named_tenants)
            self.tenant_decisions.labels(tenant, decision.action).inc()
            self.label_status.labels(decision.label_status, decision.content_type).inc()
            self.label_verdicts.labels(
                "implicit", decision.implicit_label_status, decision.content_type
            ).inc()
            self.label_verdicts.labels(
                "explicit", decision.explicit_label_status, decision.content_type
            ).inc()
            strongest = max(
                (r for r in decision.reasons if r.action == decision.action),
                default=None,
                key=lambda r: r.score or 0,
            )
            category = strongest.category if strongest is not None else "none"
            self.decisions_total.labels(decision.action, category, decision.content_type).inc()
            for reason in decision.reasons:
                self.reasons.labels(reason.category, reason.action).inc()
                self.tenant_reasons.labels(tenant, reason.category, reason.code).inc()
            for finding in decision.label_findings:
                self.label_findings.labels(finding.code, finding.severity).inc()
            for note in decision.notes:
                self.notes.labels(note.code).inc()

    def dead_letter(self, reason: RejectReason) -> None:
        self.dead_letters.labels(reason).inc()


class _ClassifierCalls:
    """``huiyan_classifier_calls_total`` read from the classifier runner's counts at each scrape."""

    def __init__(self, calls: Callable[[], Mapping[tuple[str, CallOutcome], int]], names: tuple[str, ...]):
        self.calls = calls
        self.names = names

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        counts = {(name, outcome): 0 for name in self.names for outcome in CALL_OUTCOMES}
        counts.update(self.calls())
        for (name, outcome), value in sorted(counts.items()):
            family.add_metric([name, outcome], value)
        yield family

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily(
            "huiyan_classifier_calls",
            "Classifier calls by classifier and outcome: ok, failed (raised), timed_out "
            "(HUIYAN_CLASSIFIER_TIMEOUT_MS), refused_hung (too many abandoned calls still running). A failed "
            "batch call is bisected, so one bad text costs several failed calls",
            labels=["classifier", "outcome"],
        )


class PixelCounts(Protocol):
    """What the pixel runner (stream.core.pixels.PixelRunner) tells the metrics."""

    def outcomes(self) -> dict[tuple[str, PixelOutcome], int]: ...
    def seconds(self) -> dict[str, float]: ...
    def pending(self) -> int: ...


class _PixelReads:
    """The pixel runner's counts, read at each scrape; every outcome of image and video from 0."""

    def __init__(self, runner: PixelCounts) -> None:
        self.runner = runner

    def describe(self) -> list[Metric]:
        return list(self._families())

    def collect(self) -> Iterator[Metric]:
        reads, seconds, pending = self._families()
        counts = {(kind, outcome): 0 for kind in _SEEN_TYPES for outcome in PIXEL_OUTCOMES}
        counts.update(self.runner.outcomes())
        for (kind, outcome), value in sorted(counts.items()):
            reads.add_metric([kind, outcome], value)
        spent = {kind: 0.0 for kind in _SEEN_TYPES}
        spent.update(self.runner.seconds())
        for kind, total in sorted(spent.items()):
            seconds.add_metric([kind], total)
        pending.add_metric([], self.runner.pending())
        yield from (reads, seconds, pending)

    @staticmethod
    def _families() -> tuple[CounterMetricFamily, CounterMetricFamily, GaugeMetricFamily]:
        return (
            CounterMetricFamily(
                "huiyan_pixel_reads",
                "Looks at an image's or video's pixels for the visible label, by content type and outcome: "
                "read, unreadable (not decodable), busy (HUIYAN_PIXEL_QUEUE reads pending: skipped), "
                "timed_out (the batch stopped waiting, HUIYAN_PIXEL_TIMEOUT_MS), failed (a bug)",
                labels=["content_type", "outcome"],
            ),
            CounterMetricFamily(
                "huiyan_pixel_read_seconds",
                "Seconds spent decoding media and running OCR, by content type (finished reads)",
                labels=["content_type"],
            ),
            GaugeMetricFamily("huiyan_pixel_reads_pending", "Pixel reads started and not finished yet"),
        )


_SEEN_TYPES: Final = ("image", "video")


class LagMetrics:
    """The worker group's offsets on the content topic, per partition, as last read from the broker:
    ``huiyan_consumer_lag`` (end offset minus committed offset), ``huiyan_topic_end_offsets_total``
    (records ever written: its rate is the rate events arrive, whether or not a worker reads them) and
    ``huiyan_consumer_lag_errors_total``. Held by :class:`Metrics`, or alone by ``huiyan lag --serve``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.consumer_lag = Gauge(
            "huiyan_consumer_lag",
            "Records of the content topic not yet committed by the worker group: the partition's end "
            "offset minus the group's committed offset, as the broker has them",
            ["topic", "partition"],
            registry=registry,
        )
        self.errors = Counter(
            "huiyan_consumer_lag_errors",
            "Reads of the group's offsets that failed (the lag keeps its last values meanwhile)",
            registry=registry,
        )
        self._ends: dict[tuple[str, int], int] = {}
        registry.register(_EndOffsets(self._ends))

    def read(self, topic: str, offsets: Mapping[int, tuple[int, int]]) -> None:
        """``offsets``: partition -> (end offset, lag), as just read from the broker."""
        for partition, (end, lag) in offsets.items():
            self.consumer_lag.labels(topic, str(partition)).set(lag)
            self._ends[topic, partition] = end

    def failed(self) -> None:
        self.errors.inc()


class _EndOffsets:
    """``huiyan_topic_end_offsets_total``: a partition's end offset only grows, so it is a counter."""

    def __init__(self, ends: Mapping[tuple[str, int], int]) -> None:
        self.ends = ends

    def describe(self) -> list[Metric]:
        return [self._family()]

    def collect(self) -> Iterator[Metric]:
        family = self._family()
        for (topic, partition), end in sorted(self.ends.items()):
            family.add_metric([topic, str(partition)], end)
        yield family

    @staticmethod
    def _family() -> CounterMetricFamily:
        return CounterMetricFamily(
            "huiyan_topic_end_offsets",
            "End offset of each partition of the content topic (records ever written to it), as last read "
            "from the broker",
            labels=["topic", "partition"],
        )
