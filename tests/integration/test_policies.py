"""Policies on the real broker: pushed live without a restart, rejected when bad, run in shadow, replayed."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from kafka import KafkaProducer

from stream.core.policy import load_policy, parse_policy
from stream.core.strikes import StrikeBook, StrikeRecord
from stream.kafka.clients import create_topics, open_reader, partition_ids
from stream.kafka.followers import load_strikes
from tests.fixtures.events import CODE, event_bytes
from tests.fixtures.kafka import Deployment, run_huiyan

pytestmark = pytest.mark.integration

LABEL = "（本内容由人工智能生成）"
# The default policy allows these texts (the label rules see a compliant text event); the candidate
# blocks the first through a term list and flags the second through an AND/NOT rule.
LISTED = "办理各类证件，可以办证刻章，加微信详谈。" + LABEL
RULED = "我是平台客服，您的订单可以退款，请点击链接。" + LABEL
PLAIN = "今天的晚霞很好看，大家周末愉快。" + LABEL
CANDIDATE = """
name: candidate
label_severity: {violation: flag, warning: allow, info: allow}
categories:
  rumor: {flag: 0.5, block: 0.95}
term_lists:
  - {name: 违法办证, action: block, terms: [办证刻章]}
  - name: 冒充客服退款
    action: review
    category: impersonation
    rules: [{all: [客服, 退款], any: [链接, 点击], none: [官方APP]}]
"""
# Broken on purpose: a threshold above 1. The CLI refuses it; pushed raw, workers must reject it.
BAD = """
name: bad
label_severity: {violation: flag, warning: allow, info: allow}
categories: {rumor: {flag: 2, block: 3}}
"""
SHADOW = """
name: shadow-strict
label_severity: {violation: block, warning: allow, info: allow}
term_lists:
  - {name: 违法办证, action: block, terms: [办证刻章]}
"""


def _event(text: str, tenant: str = "it", *, labelled: bool = True, user: str | None = None) -> bytes:
    """A text event of the tests' producer; ``labelled`` gives it the implicit label the default policy
    asks for."""
    content_id = uuid.uuid4().hex[:12]
    producer = {"provider_code": CODE, **({"user_id": user} if user else {})}
    return event_bytes(content_id, text, tenant=tenant, labelled=labelled, producer=producer)


def _cli(deployment: Deployment, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run_huiyan(deployment.env, *args, check=check)


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


class Decisions:
    """Reads a decision topic from its start and finds decisions by event id."""

    def __init__(self, deployment: Deployment, topic: str) -> None:
        self.consumer = open_reader(deployment.settings, [topic], from_beginning=True)
        self.seen: dict[str, dict[str, object]] = {}

    def wait(self, event_ids: list[str], timeout_s: float = 60) -> list[dict[str, object]]:
        deadline = time.monotonic() + timeout_s
        while not all(e in self.seen for e in event_ids) and time.monotonic() < deadline:
            for records in self.consumer.poll(timeout_ms=200).values():
                for record in records:
                    decision = json.loads(record.value)
                    self.seen[decision["event_id"]] = decision
        missing = [e for e in event_ids if e not in self.seen]
        assert not missing, f"no decision for {missing} within {timeout_s}s"
        return [self.seen[e] for e in event_ids]

    def close(self) -> None:
        self.consumer.close()


def _ids(lines: list[bytes]) -> list[str]:
    return [json.loads(line)["event_id"] for line in lines]


def test_a_pushed_policy_decides_later_events_within_seconds_and_a_bad_one_is_rejected(
    deployment: Deployment, tmp_path: Path
) -> None:
    worker = deployment.start_worker(HUIYAN_CLASSIFIERS="0")
    decisions = Decisions(deployment, deployment.settings.decision_topic)
    default_version = load_policy().version
    candidate_version = parse_policy(CANDIDATE).version
    try:
        before = [_event(LISTED), _event(RULED), _event(PLAIN)]
        deployment.produce(before)
        assert [d["action"] for d in decisions.wait(_ids(before), timeout_s=90)] == ["allow"] * 3
        assert {d["provenance"]["policy_version"] for d in decisions.seen.values()} == {default_version}  # type: ignore[index]

        pushed = _cli(
            deployment, "policy", "push", _write(tmp_path, "candidate.yaml", CANDIDATE), "--by", "t&s"
        )
        assert candidate_version in pushed.stdout
        pushed_at = time.monotonic()
        applied_after = None
        while applied_after is None:
            assert time.monotonic() - pushed_at < 20, "the pushed policy was not applied within 20 s"
            probe = [_event(PLAIN)]
            deployment.produce(probe)
            (decision,) = decisions.wait(_ids(probe))
            if decision["provenance"]["policy_version"] == candidate_version:  # type: ignore[index]
                applied_after = time.monotonic() - pushed_at
        assert applied_after < 20

        after = [_event(LISTED), _event(RULED), _event(PLAIN)]
        deployment.produce(after)
        listed, ruled, plain = decisions.wait(_ids(after))
        assert (listed["action"], ruled["action"], plain["action"]) == ("block", "flag", "allow")
        (reason,) = listed["reasons"]  # type: ignore[misc]
        assert reason["code"] == "term_list" and reason["spans"][0]["term"] == "办证刻章"
        assert LISTED[reason["spans"][0]["start"] : reason["spans"][0]["end"]] == "办证刻章"
        assert "rules[0]" in ruled["reasons"][0]["basis"]  # type: ignore[index]

        # The CLI refuses a bad policy and pushes nothing.
        refused = _cli(deployment, "policy", "push", _write(tmp_path, "bad.yaml", BAD), check=False)
        assert refused.returncode != 0 and "categories.rumor.flag" in refused.stderr
        # Pushed around the CLI, the worker rejects it and keeps the candidate.
        producer = KafkaProducer(bootstrap_servers=deployment.settings.bootstrap_servers, acks="all")
        record = {
            "slot": "live",
            "version": "bad@x",
            "name": "bad",
            "pushed_at": "",
            "pushed_by": "raw",
            "yaml": BAD,
        }
        producer.send(
            deployment.settings.policy_topic, key=b"live:bad@x", value=json.dumps(record).encode()
        ).get(30)
        producer.close()
        deployment.metrics_with(worker, 'huiyan_policy_updates_total{outcome="rejected",slot="live"} 1.0')
        still = [_event(LISTED)]
        deployment.produce(still)
        (decision,) = decisions.wait(_ids(still))
        assert decision["action"] == "block"
        assert decision["provenance"]["policy_version"] == candidate_version  # type: ignore[index]
        assert "rejected" in deployment.log() and "categories.rumor.flag" in deployment.log()

        shown = _cli(deployment, "policy", "show").stdout
        assert candidate_version in shown and "t&s" in shown
        history = [
            json.loads(line) for line in _cli(deployment, "policy", "history", "--json").stdout.splitlines()
        ]
        assert [(h["version"], h["state"]) for h in history] == [
            (candidate_version, "in force"),
            ("bad@x", "rejected"),
        ]

        # A worker started now replays the history and ends up with the same policy in force.
        late = deployment.start_worker(HUIYAN_CLASSIFIERS="0")
        assert f'huiyan_policy_info{{version="{candidate_version}"}} 1.0' in deployment.metrics(late)
    finally:
        decisions.close()


def test_a_shadow_policy_never_changes_live_decisions(deployment: Deployment, tmp_path: Path) -> None:
    worker = deployment.start_worker(HUIYAN_CLASSIFIERS="0")
    shadow_version = parse_policy(SHADOW).version
    _cli(deployment, "policy", "push", "--shadow", _write(tmp_path, "shadow.yaml", SHADOW))
    deadline = time.monotonic() + 60
    while f'huiyan_shadow_policy_info{{version="{shadow_version}"}} 1.0' not in deployment.metrics(worker):
        assert time.monotonic() < deadline, deployment.log()
        time.sleep(0.5)
    live = Decisions(deployment, deployment.settings.decision_topic)
    shadow = Decisions(deployment, deployment.settings.shadow_decision_topic)
    try:
        # LISTED: allowed live, blocked by the shadow's list. No implicit label: flagged live, blocked in
        # shadow (its violations block).
        events = [_event(LISTED), _event(PLAIN, labelled=False), _event(PLAIN)]
        deployment.produce(events)
        live_decisions = live.wait(_ids(events), timeout_s=90)
        shadow_decisions = shadow.wait(_ids(events))
        assert [d["action"] for d in live_decisions] == ["allow", "flag", "allow"]
        assert [d["action"] for d in shadow_decisions] == ["block", "block", "allow"]
        assert {d["provenance"]["policy_version"] for d in live_decisions} == {load_policy().version}  # type: ignore[index]
        assert {d["provenance"]["policy_version"] for d in shadow_decisions} == {shadow_version}  # type: ignore[index]
    finally:
        live.close()
        shadow.close()
    deployment.metrics_with(
        worker, 'huiyan_shadow_decisions_total{live_action="allow",shadow_action="block"} 1.0'
    )
    report = json.loads(_cli(deployment, "shadow", "report", "--json").stdout)
    assert (report["compared"], report["changed"]) == (3, 2)
    assert {"category": "terms", "baseline": "allow", "candidate": "block", "events": 1} in report[
        "categories"
    ]

    _cli(deployment, "policy", "clear-shadow")
    deadline = time.monotonic() + 20
    while "huiyan_shadow_policy_info{" in deployment.metrics(worker):
        assert time.monotonic() < deadline
        time.sleep(0.5)


def test_replay_reports_what_a_candidate_would_change_and_produces_nothing(
    deployment: Deployment, tmp_path: Path
) -> None:
    events = [_event(LISTED, tenant="shop"), _event(RULED, tenant="bank"), _event(PLAIN), _event(PLAIN)]
    deployment.produce([*events, b"{not json"])
    candidate = _write(tmp_path, "candidate.yaml", CANDIDATE)
    report = json.loads(
        _cli(deployment, "replay", "--from-offset", "0", "--policy", candidate, "--json").stdout
    )
    assert report["read"] == 5 and report["rejected"] == {"invalid_json": 1}
    assert (report["compared"], report["changed"]) == (4, 2)
    actions = {(a["baseline"], a["candidate"]): a["events"] for a in report["actions"]}
    assert actions == {("allow", "block"): 1, ("allow", "flag"): 1, ("allow", "allow"): 2}
    tenants = {(t["tenant"], t["baseline"], t["candidate"]): t["events"] for t in report["tenants"]}
    assert tenants == {("shop", "allow", "block"): 1, ("bank", "allow", "flag"): 1}
    assert report["candidate_policies"] == {parse_policy(CANDIDATE).version: 4}
    assert [e["event_id"] for e in report["examples"]["allow->block"]] == [json.loads(events[0])["event_id"]]

    text = _cli(deployment, "replay", "--from-offset", "0", "--policy", candidate).stdout
    assert "4 events compared, 2 decided differently" in text
    future = json.loads(
        _cli(deployment, "replay", "--from-time", "2099-01-01", "--policy", candidate, "--json").stdout
    )
    assert future["read"] == 0
    since = _cli(
        deployment, "replay", "--from-time", "2020-01-01T08:00:00+08:00", "--policy", candidate, "--json"
    )
    assert json.loads(since.stdout)["read"] == 5
    assert deployment.read(deployment.settings.decision_topic, 1, timeout_s=3) == []


STRIKES = """
name: strikes
label_severity: {violation: allow, warning: allow, info: allow}
term_lists:
  - {name: 违法办证, action: block, terms: [办证刻章]}
strikes:
  count: [block]
  window_hours: 1
  escalate: [{at: 2, action: flag}]
"""


def _account_event(text: str, user: str) -> bytes:
    return _event(text, user=user)


def test_repeat_offenders_are_escalated_by_their_strikes(deployment: Deployment, tmp_path: Path) -> None:
    deployment.start_worker(
        HUIYAN_CLASSIFIERS="0", HUIYAN_POLICY_FILE=_write(tmp_path, "strikes.yaml", STRIKES)
    )
    decisions = Decisions(deployment, deployment.settings.decision_topic)
    try:
        offences = [_account_event(LISTED, "user-1"), _account_event(LISTED, "user-1")]
        deployment.produce(offences)
        assert [d["action"] for d in decisions.wait(_ids(offences), timeout_s=90)] == ["block", "block"]
        # Strikes reach every worker through the strike topic, about a second after the decisions.
        deadline = time.monotonic() + 20
        while True:
            probe = [_account_event(PLAIN, "user-1"), _account_event(PLAIN, "user-2")]
            deployment.produce(probe)
            repeat, other = decisions.wait(_ids(probe))
            if repeat["action"] == "flag":
                break
            assert time.monotonic() < deadline, "the strikes did not escalate the account within 20 s"
            time.sleep(0.5)
        assert other["action"] == "allow"
        (reason,) = repeat["reasons"]  # type: ignore[misc]
        assert reason["code"] == "repeat_offender" and reason["category"] == "account"
        assert "2 strikes" in reason["message"]
    finally:
        decisions.close()
    strikes = [json.loads(r.value) for r in deployment.read(deployment.settings.strike_topic, 2, timeout_s=5)]
    assert sorted((s["user_id"], s["action"]) for s in strikes) == [("user-1", "block"), ("user-1", "block")]


def test_a_starting_worker_reads_the_recorded_strikes_before_it_decides(deployment: Deployment) -> None:
    settings = deployment.settings
    create_topics(settings)
    now = time.time()
    records = [
        StrikeRecord("it", "user-1", "e-1", "block", now - 60),
        StrikeRecord("it", "user-1", "e-2", "block", now - 30),
        StrikeRecord("it", "user-2", "e-3", "block", now - 10),
    ]
    producer = KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    for record in records:
        producer.send(
            settings.strike_topic, record.to_json(), key=record.key, timestamp_ms=int(record.at * 1000)
        )
    producer.send(settings.strike_topic, b"not a strike", key=records[0].key)  # skipped, not fatal
    producer.flush()
    producer.close()
    partitions = partition_ids(settings, settings.strike_topic)
    book = StrikeBook()
    assert load_strikes(settings, partitions, book) == 3
    assert book.count("it", "user-1", window_s=3600, now=time.time()) == 2
    assert book.count("it", "user-2", window_s=3600, now=time.time()) == 1
    # The follower goes on from the end of what was read.
    ends = {p: 0 for p in partitions}
    for record in deployment.read(settings.strike_topic, 4, timeout_s=5):
        ends[record.partition] = record.offset + 1
    assert book.position == ends
