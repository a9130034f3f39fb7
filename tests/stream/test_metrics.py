"""What the worker's metrics record: per-tenant series with a bounded tenant label, label status,
shadow disagreements, classifier calls, the group's lag, and closed label sets that start at 0. (That
the rules and dashboards name only served metrics is tests/stream/test_dashboards.py.)"""

from __future__ import annotations

import dataclasses
from typing import Any

from prometheus_client import generate_latest

from stream.core.pipeline import moderate
from stream.core.policy import parse_policy
from stream.core.vocab import REJECT_REASONS
from stream.kafka.lag import LagReader, PartitionOffsets
from stream.metrics import Metrics
from stream.settings import Settings
from tests.fixtures.events import content_event

POLICY = parse_policy("""
name: unit-metrics
label_severity: {violation: flag, warning: allow, info: allow}
term_lists:
  - {name: 违法办证, action: block, terms: [办证刻章]}
overrides:
  - {tenant: bank, classifier_failure: block}
""")


def _sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    value = metrics.registry.get_sample_value(name, labels)
    return None if value is None else float(value)


def _decide(*events: Any) -> list[Any]:
    from stream.core.pipeline import EventLimits, ModerationContext

    context = ModerationContext(policy=POLICY, limits=EventLimits(1 << 20, 1 << 20))
    return moderate(list(events), context)


def test_a_tenant_gets_its_own_label_only_when_configured_or_named_by_the_policy() -> None:
    metrics = Metrics()
    metrics.known_tenants = frozenset({"shop"})
    decisions = _decide(
        content_event("a", tenant="shop"),
        content_event("b", "需要办证刻章请联系", tenant="bank"),
        content_event("c", tenant="anyone-at-all"),
    )
    metrics.decisions(decisions, POLICY.tenants)
    assert POLICY.tenants == {"bank"}
    for tenant, action in (("shop", "flag"), ("bank", "block"), ("other", "flag")):
        assert _sample(metrics, "huiyan_tenant_decisions_total", tenant=tenant, action=action) == 1.0
    assert "anyone-at-all" not in generate_latest(metrics.registry).decode()
    assert _sample(
        metrics, "huiyan_tenant_decision_reasons_total", tenant="bank", category="terms", code="term_list"
    )
    assert _sample(metrics, "huiyan_label_status_total", status="not_found", content_type="text") == 3.0
    for label in ("implicit", "explicit"):
        verdicts = [getattr(d, f"{label}_label_status") for d in decisions]
        assert _sample(
            metrics, "huiyan_label_verdicts_total", label=label, status=verdicts[0], content_type="text"
        ) == verdicts.count(verdicts[0])
    metrics.decision_acknowledged(0.2, metrics.tenant_label("shop"))
    assert _sample(metrics, "huiyan_tenant_end_to_end_latency_seconds_count", tenant="shop") == 1.0
    assert _sample(metrics, "huiyan_end_to_end_latency_seconds_count") == 1.0


def test_shadow_disagreements_count_only_events_whose_actions_differ() -> None:
    metrics = Metrics()
    live = _decide(content_event("a"), content_event("b"))
    shadow = [dataclasses.replace(live[0], action="block"), live[1]]
    metrics.shadow(list(enumerate(live)), list(enumerate(shadow)))
    assert _sample(metrics, "huiyan_shadow_decisions_total", live_action="flag", shadow_action="block") == 1.0
    assert _sample(metrics, "huiyan_shadow_decisions_total", live_action="flag", shadow_action="flag") == 1.0
    assert _sample(metrics, "huiyan_shadow_disagreements_total") == 1.0


def test_classifier_calls_are_served_from_the_runner_with_every_outcome_from_zero() -> None:
    metrics = Metrics()
    counts = {("huiyan-text", "ok"): 5, ("huiyan-text", "timed_out"): 2}
    metrics.watch_classifier_calls(lambda: counts, ["huiyan-text"])
    assert _sample(metrics, "huiyan_classifier_calls_total", classifier="huiyan-text", outcome="ok") == 5
    assert (
        _sample(metrics, "huiyan_classifier_calls_total", classifier="huiyan-text", outcome="timed_out") == 2
    )
    assert _sample(metrics, "huiyan_classifier_calls_total", classifier="huiyan-text", outcome="failed") == 0
    counts[("huiyan-text", "failed")] = 1  # read at each scrape, not copied once
    assert _sample(metrics, "huiyan_classifier_calls_total", classifier="huiyan-text", outcome="failed") == 1


def test_closed_label_sets_start_at_zero_so_the_first_event_shows_in_a_rate() -> None:
    metrics = Metrics()
    for reason in REJECT_REASONS:
        assert _sample(metrics, "huiyan_dead_letters_total", reason=reason) == 0.0
    assert _sample(metrics, "huiyan_policy_updates_total", slot="live", outcome="rejected") == 0.0
    assert _sample(metrics, "huiyan_decision_notes_total", code="classifier_unscored") == 0.0
    assert _sample(metrics, "huiyan_send_retries_total", topic="decisions") == 0.0
    assert _sample(metrics, "huiyan_strikes_total") == 0.0


def test_lag_and_end_offsets_are_recorded_per_partition() -> None:
    metrics = Metrics()
    metrics.lag.read("content", {0: (120, 20), 1: (7, 0)})
    assert _sample(metrics, "huiyan_consumer_lag", topic="content", partition="0") == 20
    assert _sample(metrics, "huiyan_consumer_lag", topic="content", partition="1") == 0
    assert _sample(metrics, "huiyan_topic_end_offsets_total", topic="content", partition="0") == 120
    metrics.lag.read("content", {0: (150, 0)})
    assert _sample(metrics, "huiyan_topic_end_offsets_total", topic="content", partition="0") == 150
    assert _sample(metrics, "huiyan_consumer_lag", topic="content", partition="0") == 0


def test_a_partition_never_committed_lags_from_its_earliest_offset() -> None:
    assert PartitionOffsets(end=50, committed=None, start=10).lag == 40
    assert PartitionOffsets(end=50, committed=45, start=10).lag == 5
    assert PartitionOffsets(end=50, committed=55, start=0).lag == 0  # a commit read before the end moved


class _Unreachable(LagReader):
    closed = 0

    def read(self) -> dict[int, PartitionOffsets]:
        raise ConnectionError("broker away")

    def close(self) -> None:
        self.closed += 1


def test_a_failed_lag_read_is_counted_keeps_the_last_values_and_reconnects_next_time() -> None:
    metrics = Metrics()
    metrics.lag.read("content", {0: (10, 3)})
    reader = _Unreachable(Settings.from_env({}))
    assert reader.record(metrics.lag) is False
    assert _sample(metrics, "huiyan_consumer_lag_errors_total") == 1
    assert _sample(metrics, "huiyan_consumer_lag", topic="content", partition="0") == 3
    assert reader.closed == 1
