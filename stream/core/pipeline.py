"""The pure moderation core: a batch of validated content events in, one decision per event out.

``moderate(events, context)`` runs the label checks, the text classifiers (when configured) and the
policy, and builds each :class:`~stream.core.records.Decision` with its reasons, evidence and provenance.
It knows nothing of Kafka, files or metrics: the Faust agent, the offline ``huiyan moderate`` command
and the tests are thin adapters around it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Protocol, cast

from classifiers.content import ContentEvent
from classifiers.labels.codes import FINDING_CODES
from classifiers.labels.compliance import LabelReport, check_event_labels
from classifiers.labels.findings import LabelFinding
from classifiers.scores import ClassifierOutput, Evidence
from stream import __version__
from stream.core.policy import Policy, Rules
from stream.core.records import (
    Decision,
    EventRejected,
    ModelVersion,
    Note,
    Provenance,
    Reason,
    Timing,
    isoformat,
    parse_event,
    printable,
)
from stream.core.strikes import StrikeRecord
from stream.core.terms import TermMatch
from stream.core.vocab import ACTION_RANK, Action, CallOutcome, ReasonCategory

if TYPE_CHECKING:  # built by stream.runtime; the OCR engine is not imported with the core
    from stream.core.pixels import PendingRead, PixelRunner

log = logging.getLogger(__name__)


class TextClassifier(Protocol):
    """A batch text classifier: one score in [0, 1] per category for each text."""

    name: str
    version: str
    categories: tuple[str, ...]

    def predict_detailed(self, texts: Sequence[str]) -> Sequence[ClassifierOutput]: ...


@dataclass(frozen=True, slots=True)
class EventLimits:
    """Size limits applied when raw bytes are parsed into events (settings ``HUIYAN_MAX_*``)."""

    max_event_bytes: int
    max_media_bytes: int


@dataclass(frozen=True, slots=True)
class ModerationContext:
    """Everything ``moderate`` needs besides the events: policy, limits, classifiers, the platform's code."""

    policy: Policy
    limits: EventLimits
    platform_code: str = ""
    classifiers: tuple[TextClassifier, ...] = ()
    # Producer code -> SM2 public key (hex) for label signatures; PEM text of trusted C2PA signers.
    signing_keys: Mapping[str, str] = field(default_factory=dict)
    c2pa_trust_anchors: str | None = None
    # When a decision is made (decided_at, the time of a strike) and how its processing time is measured.
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    timer: Callable[[], float] = time.perf_counter
    # (tenant, user_id, window in seconds, now) -> the account's strikes in the window before now, which the
    # core takes from its clock (stream.core.strikes.StrikeBook.count).
    strike_counts: Callable[[str, str, float, float], int] | None = None
    # A classifier call that takes longer is abandoned: its categories go unscored and the policy's
    # classifier_failure action applies (None: wait however long it takes).
    classifier_timeout_s: float | None = None
    # The thread that classifier calls with a timeout run on (one per context, built with it).
    classifier_runner: ClassifierRunner = field(default_factory=lambda: ClassifierRunner())
    # Where image and video pixels are read for the visible label, off the text path (None: not read,
    # the explicit label is judged as declared).
    pixel_runner: PixelRunner | None = None


@dataclass(frozen=True, slots=True)
class Judged:
    """One event and its decisions, one per policy it was judged under, in the order they were given."""

    event: ContentEvent
    decisions: tuple[Decision, ...]


def judge(
    events: Sequence[ContentEvent],
    context: ModerationContext,
    policies: Sequence[Policy] | None = None,
    reads: Sequence[PendingRead | None] | None = None,
) -> list[Judged]:
    """Decides the batch under each of ``policies`` (default: ``context.policy`` alone), per event.

    The one entry point of the core. The classifiers and label checks run once; only the policy step is
    repeated, so a shadow policy or a replayed candidate costs almost nothing beside the live one.
    Everything it uses comes from its arguments: the clock and timer, the classifiers and their runner,
    strike counts and the policies. It never drops an event (a failing classifier yields a fallback
    reason). ``reads`` are the events' pixel reads when the caller started them already (one per event,
    None for an event without pixels); else they are started here.
    """
    policies = (context.policy,) if policies is None else tuple(policies)
    started = context.timer()
    # Pixel reads start first and run on their own threads while the texts are scored.
    runner = context.pixel_runner
    if reads is None:
        reads = [runner.submit(e) if runner is not None and runner.wants(e) else None for e in events]
    scored = _score(events, context.classifiers, context.classifier_timeout_s, context.classifier_runner)
    for event, scores in zip(events, scored, strict=True):
        if event.normalised:
            where = ", ".join(f"{path} ({count})" for path, count in event.normalised)
            scores.notes.insert(
                0, Note("text_normalised", f"lone surrogates (unencodable) replaced by U+FFFD in {where}")
            )
    models = tuple(ModelVersion(c.name, c.version) for c in context.classifiers)
    per_event_ms = (context.timer() - started) * 1000 / max(len(events), 1)
    judged: list[Judged] = []
    for event, scores, read in zip(events, scored, reads, strict=True):
        event_started = context.timer()
        report = check_event_labels(
            event,
            platform_code=context.platform_code,
            signing_keys=context.signing_keys,
            c2pa_trust_anchors=context.c2pa_trust_anchors,
            seen=runner.result(read) if runner is not None and read is not None else None,
        )
        decisions = []
        for policy in policies:
            rules = policy.rules_for(event.tenant, event.scene)
            matches = rules.term_lists.match(event.text) if event.text else ()
            reasons = _label_reasons(report.findings, policy, rules)
            reasons += _term_reasons(matches, policy, rules)
            if not any(m.action == "allow" for m in matches):  # an allow list: scores are not acted on
                reasons += _score_reasons(scores.scores, scores.evidence, policy, rules)
                reasons += _failure_reasons(scores.failures, policy, rules)
            reasons += _strike_reasons(event, policy, context)
            action = _strongest(reasons)
            decided_at = context.clock()
            elapsed_ms = per_event_ms + (context.timer() - event_started) * 1000
            decisions.append(
                _decision(
                    event,
                    report,
                    reasons,
                    action,
                    scores.scores,
                    scores.notes,
                    models,
                    policy,
                    decided_at,
                    elapsed_ms,
                )
            )
        judged.append(Judged(event, tuple(decisions)))
    return judged


def moderate(events: Sequence[ContentEvent], context: ModerationContext) -> list[Decision]:
    """The decisions under ``context.policy``, in event order: :func:`judge` with one policy."""
    return [judged.decisions[0] for judged in judge(events, context)]


@dataclass(frozen=True, slots=True)
class RawEvent:
    """An event as it arrived: its bytes (None for an empty Kafka record) and when it was received."""

    value: bytes | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """Per input position: a decision, or the reason the event was rejected. Together they cover the batch.

    ``shadow`` holds the shadow policy's decision for each decided event, when a shadow policy is set.
    """

    decisions: list[tuple[int, Decision]]
    rejections: list[tuple[int, EventRejected]]
    shadow: list[tuple[int, Decision]] = field(default_factory=list)
    # Strikes the live decisions count against their accounts (the policy's ``strikes`` rules).
    strikes: list[StrikeRecord] = field(default_factory=list)


def parse_raw(raw: RawEvent, limits: EventLimits) -> ContentEvent | EventRejected:
    """One event parsed at the edge: a :class:`ContentEvent`, or why it cannot be decided. Never raises:
    a parser bug found by an input is that input's ``internal_error``."""
    if raw.value is None:
        return EventRejected("invalid_json", "empty record (no value)")
    try:
        return parse_event(
            raw.value,
            max_event_bytes=limits.max_event_bytes,
            max_media_bytes=limits.max_media_bytes,
            received_at=raw.received_at,
        )
    except Exception as exc:  # parse_event refuses bad input as a value; this is a bug, found by an input
        log.exception("parsing an event failed")
        return EventRejected("internal_error", f"parsing failed: {type(exc).__name__}: {exc}"[:300])


def moderate_raw(
    raw_events: Sequence[RawEvent], context: ModerationContext, shadow: Policy | None = None
) -> BatchOutcome:
    """Parses raw events at the edge, then decides the valid ones; every input ends in exactly one list.

    With a ``shadow`` policy, each decided event is also decided under it (never acted on).
    """
    valid, rejections = parse_batch(raw_events, context.limits)
    return moderate_parsed(valid, context, shadow, rejections)


def parse_batch(
    raw_events: Sequence[RawEvent], limits: EventLimits
) -> tuple[list[tuple[int, ContentEvent]], list[tuple[int, EventRejected]]]:
    """Each raw event parsed (:func:`parse_raw`): the valid ones and the rejected ones, by position."""
    valid: list[tuple[int, ContentEvent]] = []
    rejections: list[tuple[int, EventRejected]] = []
    for index, raw in enumerate(raw_events):
        parsed = parse_raw(raw, limits)
        if isinstance(parsed, EventRejected):
            rejections.append((index, parsed))
        else:
            valid.append((index, parsed))
    return valid, rejections


def moderate_parsed(
    valid: Sequence[tuple[int, ContentEvent]],
    context: ModerationContext,
    shadow: Policy | None = None,
    rejections: list[tuple[int, EventRejected]] | None = None,
    reads: Mapping[int, PendingRead] | None = None,
) -> BatchOutcome:
    """Decides events parsed already (``(position, event)`` pairs, as :func:`moderate_raw` after its
    parse, or the API after its admission checks); a bug on one event dead-letters that event only.
    ``reads`` holds, by position, the pixel reads the caller started already (:func:`judge`)."""
    rejections = [] if rejections is None else rejections
    policies = (context.policy,) if shadow is None else (context.policy, shadow)
    decided: list[tuple[int, Decision]] = []
    shadowed: list[tuple[int, Decision]] = []

    def reads_of(pairs: Sequence[tuple[int, ContentEvent]]) -> list[PendingRead | None] | None:
        return None if reads is None else [reads.get(index) for index, _ in pairs]

    try:
        judged = judge([event for _, event in valid], context, policies, reads_of(valid))
        decided = [(index, one.decisions[0]) for (index, _), one in zip(valid, judged, strict=True)]
        if shadow is not None:
            shadowed = [(index, one.decisions[1]) for (index, _), one in zip(valid, judged, strict=True)]
    except Exception:
        # A bug must not stop the stream: find the events that trigger it and dead-letter only those.
        log.exception("deciding a batch of %d events failed; deciding them one by one", len(valid))
        decided, shadowed = [], []
        for index, event in valid:
            try:
                (alone,) = judge([event], context, policies, reads_of([(index, event)]))
            except Exception as exc:
                log.exception("deciding event %s failed", event.event_id)
                detail = f"{type(exc).__name__}: {exc}"[:300]
                rejections.append((index, EventRejected("internal_error", detail, event.event_id)))
                continue
            decided.append((index, alone.decisions[0]))
            if shadow is not None:
                shadowed.append((index, alone.decisions[1]))
    rejections.sort(key=lambda pair: pair[0])
    strikes = strikes_of(valid, decided, context.policy, at=context.clock().timestamp())
    return BatchOutcome(decisions=decided, rejections=rejections, shadow=shadowed, strikes=strikes)


@dataclass(frozen=True, slots=True)
class EncodedOutcome:
    """A batch's outcome as the bytes to write, by input position. Every input is in exactly one of
    ``decisions`` and ``rejections``; an event whose outputs could not be encoded is a rejection."""

    decisions: list[tuple[int, Decision, bytes]]
    rejections: list[tuple[int, EventRejected]]
    shadow: list[tuple[int, Decision, bytes]]
    # (Kafka key, value) of each strike.
    strikes: list[tuple[bytes, bytes]]


def encode_outcome(outcome: BatchOutcome) -> EncodedOutcome:
    """Serialises every decision, shadow decision and strike of ``outcome``, one event at a time.

    The edge makes every string encodable, so a failure here is a bug; it costs its own event only
    (a dead letter, ``internal_error``), never the batch: an exception in a delivery task once lost a
    whole batch without a trace.
    """
    failed: dict[int, str] = {}

    def encode(index: int, render: Callable[[], bytes]) -> bytes | None:
        try:
            return render()
        except Exception as exc:
            log.exception("encoding the outputs of event %d of the batch failed", index)
            failed.setdefault(index, f"its decision could not be encoded: {type(exc).__name__}: {exc}"[:300])
            return None

    decisions = [(i, d, encode(i, d.to_json)) for i, d in outcome.decisions]
    shadow = [(i, d, encode(i, d.to_json)) for i, d in outcome.shadow]
    index_of = {d.event_id: i for i, d in outcome.decisions}
    strikes = []
    for strike in outcome.strikes:
        index = index_of.get(strike.event_id, -1)
        value = encode(index, strike.to_json)
        key = encode(index, lambda strike=strike: strike.key)  # type: ignore[misc]
        if key is not None and value is not None:
            strikes.append((index, key, value))
    rejections = list(outcome.rejections)
    if failed:
        ids = {i: d.event_id for i, d in outcome.decisions}
        rejections += [
            (i, EventRejected("internal_error", why, printable(ids.get(i))))
            for i, why in failed.items()
            if i >= 0
        ]
        rejections.sort(key=lambda pair: pair[0])
    return EncodedOutcome(
        decisions=[(i, d, b) for i, d, b in decisions if b is not None and i not in failed],
        rejections=rejections,
        shadow=[(i, d, b) for i, d, b in shadow if b is not None and i not in failed],
        strikes=[(k, v) for i, k, v in strikes if i not in failed],
    )


@dataclass(frozen=True, slots=True)
class ClassifierFailure:
    """A classifier that failed or timed out on a batch: its categories went unscored."""

    name: str
    why: str
    categories: tuple[str, ...]


# Per category, the spans of the text that drove its score.
_Evidence = dict[str, tuple[Evidence, ...]]


@dataclass(slots=True)
class _Scored:
    """What the classifiers said of one event's text: scores, their evidence, notes, and failures."""

    scores: dict[str, float] = field(default_factory=dict)
    evidence: _Evidence = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    failures: list[ClassifierFailure] = field(default_factory=list)


def _score(
    events: Sequence[ContentEvent],
    classifiers: Sequence[TextClassifier],
    timeout_s: float | None,
    runner: ClassifierRunner,
) -> list[_Scored]:
    """Scores the events' texts with every classifier, in one batch per classifier.

    Returns per event its scores, the evidence of each score (where the classifier gives it), its notes
    (an over-long text is cut, with a note, never refused; a
    text a classifier could not score gets a ``classifier_unscored`` note) and the classifiers that
    could not score it, with why. A failure is isolated, not fatal: when a batch call fails or times
    out, the batch is bisected until the texts that fail alone are found, and only they go unscored.
    """
    scored = [_Scored() for _ in events]
    indices = [i for i, e in enumerate(events) if e.text]
    texts = [events[i].text or "" for i in indices]
    for classifier in classifiers:
        if not texts:
            break
        outcomes = score_isolated(classifier, texts, timeout_s, runner)
        for i, output in zip(indices, outcomes, strict=True):
            one = scored[i]
            if isinstance(output, str):
                one.failures.append(ClassifierFailure(classifier.name, output, classifier.categories))
                one.notes.append(
                    Note(
                        "classifier_unscored",
                        f"classifier {classifier.name} {output}; {', '.join(classifier.categories)} unscored",
                    )
                )
                continue
            one.scores.update(output.scores)
            one.evidence.update(output.evidence)
            if output.truncated:
                # A classifier may count the tokens of a long text's start only (TextRiskModel does).
                size = f"{len(events[i].text or '')} characters, {output.tokens} tokens or more"
                read = f"{classifier.name} read the start of the text ({size})"
                one.notes.append(Note("text_truncated", read))
    return scored


# A sub-call of a bisection gets its share of the timeout, never less than this share of it: a text alone
# takes milliseconds, so a tenth of the timeout is still a wide margin.
_MIN_TIMEOUT_SHARE: Final = 0.1
# The whole isolation of one batch may take this many timeouts; texts not yet resolved then go unscored.
_ISOLATION_BUDGET: Final = 3.0


def score_isolated(
    classifier: TextClassifier,
    texts: Sequence[str],
    timeout_s: float | None,
    runner: ClassifierRunner | None = None,
) -> list[ClassifierOutput | str]:
    """Per text, its output or why it went unscored (``failed``, ``timed out after ...``).

    One call scores the whole batch. When it raises or times out, the batch is halved and each half
    scored the same way, down to single texts: one poisoned text costs about 2 log2(n) extra calls and
    leaves its neighbours scored. With a timeout, a half gets its share of it (at least a tenth) and the
    whole search at most three timeouts: a text that hangs alone costs about twice the timeout.
    Calls with a timeout run on ``runner``'s thread (a fresh runner when none is given).
    """
    if runner is None:
        runner = ClassifierRunner()
    results: list[ClassifierOutput | str | None] = [None] * len(texts)
    deadline = None if timeout_s is None else runner.monotonic() + _ISOLATION_BUDGET * timeout_s
    pending = [(0, len(texts))]
    while pending:
        lo, hi = pending.pop()
        limit = None
        if timeout_s is not None and deadline is not None:
            share = timeout_s * max((hi - lo) / len(texts), _MIN_TIMEOUT_SHARE)
            limit = min(share, deadline - runner.monotonic())
            if limit <= 0:
                results[lo:hi] = [
                    f"timed out (isolating failures took over {_ISOLATION_BUDGET:g}x {timeout_s:g} s)"
                ] * (hi - lo)
                continue
        try:
            outputs = runner.call(classifier, list(texts[lo:hi]), limit)
            if len(outputs) != hi - lo:
                raise ValueError(f"{len(outputs)} outputs for {hi - lo} texts")
        except FutureTimeout:
            why = f"timed out after {limit:.3g} s"
        except _ClassifierBusy as exc:
            why = str(exc)
            results[lo:hi] = [why] * (hi - lo)  # no thread left to try the halves on
            continue
        except Exception:  # A broken model must not stop the stream: the policy's fallback action applies.
            log.exception("classifier %s failed on %d texts", classifier.name, hi - lo)
            why = "failed"
        else:
            results[lo:hi] = outputs
            continue
        if hi - lo == 1:
            log.error("classifier %s could not score a text (%s)", classifier.name, why)
            results[lo] = why
            continue
        mid = (lo + hi) // 2
        pending += [(mid, hi), (lo, mid)]
    return [r if r is not None else "failed" for r in results]


class _ClassifierBusy(Exception):
    """Too many abandoned classifier calls are still running: the classifier is treated as hung."""


class ClassifierRunner:
    """Runs classifier calls that have a timeout on one long-lived thread, so the caller can stop waiting.

    A call that overran keeps its thread until it returns; the thread is then abandoned and the next call
    gets a fresh one, so the halves of a bisection are not queued behind it. Past ``_MAX_ABANDONED``
    abandoned calls still running, the classifier counts as hung and every call fails at once, closed,
    instead of piling up threads. Calls run on one thread, not a new one each: ONNX Runtime keeps
    per-thread buffers that a fresh thread would allocate again.
    """

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        # The timeouts' clock; the thread is started on the first call with a timeout.
        self.monotonic = monotonic
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="huiyan-classifier")
        self._lock = threading.Lock()
        self._abandoned = 0
        # (classifier name, outcome) -> calls so far; read by the worker's metrics (calls()).
        self._calls: Counter[tuple[str, CallOutcome]] = Counter()

    def calls(self) -> dict[tuple[str, CallOutcome], int]:
        """Calls so far by classifier name and outcome (a bisection's sub-calls count one each)."""
        with self._lock:
            return dict(self._calls)

    def call(
        self, classifier: TextClassifier, texts: list[str], timeout_s: float | None
    ) -> Sequence[ClassifierOutput]:
        outcome: CallOutcome = "failed"
        try:
            outputs = self._call(classifier, texts, timeout_s)
            outcome = "ok"
            return outputs
        except FutureTimeout:
            outcome = "timed_out"
            raise
        except _ClassifierBusy:
            outcome = "refused_hung"
            raise
        finally:
            with self._lock:
                self._calls[classifier.name, outcome] += 1

    def _call(
        self, classifier: TextClassifier, texts: list[str], timeout_s: float | None
    ) -> Sequence[ClassifierOutput]:
        if timeout_s is None:
            return classifier.predict_detailed(texts)
        with self._lock:
            if self._abandoned >= _MAX_ABANDONED:
                raise _ClassifierBusy(f"is hung ({self._abandoned} abandoned calls still running)")
            executor = self._executor
            future = executor.submit(classifier.predict_detailed, texts)
        try:
            return future.result(timeout=timeout_s)
        except FutureTimeout:
            with self._lock:
                if self._executor is executor:
                    self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="huiyan-classifier")
                    executor.shutdown(wait=False, cancel_futures=True)
                self._abandoned += 1
            future.add_done_callback(self._released)
            raise

    def _released(self, _future: Future[Sequence[ClassifierOutput]]) -> None:
        with self._lock:
            self._abandoned -= 1


_MAX_ABANDONED: Final = 16


def _basis(policy: Policy, rules: Rules) -> str:
    """Names the policy, and the override scope when one applied."""
    return f"policy {policy.name}" + ("" if rules.scope == "base" else f" ({rules.scope})")


def _label_reasons(findings: Sequence[LabelFinding], policy: Policy, rules: Rules) -> list[Reason]:
    reasons = []
    for finding in findings:
        action = rules.action_for_finding(finding)
        if action == "allow":
            continue
        category: ReasonCategory = FINDING_CODES[finding.code].category
        reasons.append(
            Reason(
                code=finding.code,
                category=category,
                action=action,
                basis=f"{_basis(policy, rules)}: label finding {finding.code} -> {action}; {finding.article}",
                message=finding.message,
            )
        )
    return reasons


def _term_reasons(matches: Sequence[TermMatch], policy: Policy, rules: Rules) -> list[Reason]:
    """One reason per list that fired, with the matched spans. An allow list's reason says the
    classifier scores were not acted on (label duties and block/review lists still apply)."""
    reasons = []
    for match in matches:
        rule = "" if match.term_rule is None else f", rules[{match.rule}]: {match.term_rule.describe()}"
        effect = "classifier scores not acted on" if match.action == "allow" else match.action
        reasons.append(
            Reason(
                code="term_list",
                category=cast(ReasonCategory, match.category),
                action=match.action,
                basis=f"{_basis(policy, rules)}: term list {match.name}{rule} -> {effect}",
                message=match.describe(),
                spans=match.spans,
            )
        )
    return reasons


def _score_reasons(
    scores: dict[str, float], evidence: _Evidence, policy: Policy, rules: Rules
) -> list[Reason]:
    reasons = []
    for category, score in sorted(scores.items()):
        action, threshold = rules.action_for_score(category, score)
        if action == "allow":
            continue
        reasons.append(
            Reason(
                code=f"{category}_score",
                category=category,  # type: ignore[arg-type]  # policy validated the category names
                action=action,
                basis=f"{_basis(policy, rules)}: {category} score >= {action} threshold {threshold}",
                message=f"{category} score {score:.3f} >= {threshold}",
                score=score,
                threshold=threshold,
                evidence=evidence.get(category) or None,
            )
        )
    return reasons


def _failure_reasons(failures: Sequence[ClassifierFailure], policy: Policy, rules: Rules) -> list[Reason]:
    """The policy's ``classifier_failure`` action, for each failed classifier whose scores a rule would
    have acted on: one of its categories is enabled for this tenant and scene. The event's
    ``classifier_unscored`` note records every failure either way."""
    action = rules.classifier_failure_action
    return [
        Reason(
            code="classifier_failed",
            category="processing",
            action=action,
            basis=f"{_basis(policy, rules)}: classifier_failure -> {action} (fail closed)",
            message=f"classifier {failure.name} {failure.why}; its categories are unscored",
        )
        for failure in failures
        if any((rule := rules.categories.get(c)) is not None and rule.enabled for c in failure.categories)
    ]


REPEAT_OFFENDER: Final = "repeat_offender"


def _strike_reasons(event: ContentEvent, policy: Policy, context: ModerationContext) -> list[Reason]:
    rule, user = policy.strikes, event.producer.user_id if event.producer else None
    if rule is None or not user or context.strike_counts is None:
        return []
    strikes = context.strike_counts(event.tenant, user, rule.window_s, context.clock().timestamp())
    if (step := rule.escalation(strikes)) is None:
        return []
    at, action = step
    hours = f"{rule.window_s / 3600:g}"
    return [
        Reason(
            code=REPEAT_OFFENDER,
            category="account",
            action=action,
            basis=f"policy {policy.name}: strikes: {at} or more in {hours} h -> {action}",
            message=f"the producing account has {strikes} strikes ({', '.join(sorted(rule.counted))}) "
            f"in the last {hours} h",
        )
    ]


def strikes_of(
    events: Sequence[tuple[int, ContentEvent]],
    decided: Sequence[tuple[int, Decision]],
    policy: Policy,
    *,
    at: float,
) -> list[StrikeRecord]:
    """The strikes the live decisions count against their accounts under ``policy``.

    A strike is what the event itself did: an action that only the ``repeat_offender`` escalation
    raised does not count, or an account escalated to a counted action would strike itself on every
    later post, harmless or not, for as long as it kept posting within the window.
    """
    rule = policy.strikes
    if rule is None:
        return []
    by_index = dict(events)
    out = []
    for index, decision in decided:
        event = by_index[index]
        user = event.producer.user_id if event.producer else None
        action = _strongest([r for r in decision.reasons if r.code != REPEAT_OFFENDER])
        if user and action in rule.counted:
            out.append(StrikeRecord(event.tenant, user, event.event_id, action, at))
    return out


def _strongest(reasons: Sequence[Reason]) -> Action:
    return max((r.action for r in reasons), key=ACTION_RANK.__getitem__, default="allow")


def _decision(
    event: ContentEvent,
    report: LabelReport,
    reasons: list[Reason],
    action: Action,
    scores: dict[str, float],
    notes: list[Note],
    models: tuple[ModelVersion, ...],
    policy: Policy,
    decided_at: datetime,
    elapsed_ms: float,
) -> Decision:
    return Decision(
        event_id=event.event_id,
        tenant=event.tenant,
        scene=event.scene,
        content_id=event.content_id,
        content_type=event.content_type,
        service_type=event.service_type,
        action=action,
        reasons=tuple(reasons),
        scores=dict(scores),
        notes=tuple(notes),
        label_findings=report.findings,
        label_status=report.status,
        implicit_label_status=report.implicit_status,
        explicit_label_status=report.explicit_status,
        notice=report.notice,
        propagator_metadata=report.propagator_metadata,
        provenance=Provenance(
            huiyan_version=__version__,
            models=models,
            policy_version=policy.version,
            input_sha256=event.input_sha256,
        ),
        timing=Timing(
            event_time=isoformat(event.created_at) if event.created_at else None,
            received_at=isoformat(event.received_at) if event.received_at else None,
            decided_at=isoformat(decided_at),
            processing_ms=round(elapsed_ms, 3),
        ),
    )
