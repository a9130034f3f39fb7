"""Strikes against accounts: the book's counting, the policy's rules and the escalation reason."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from classifiers.content import ContentEvent
from stream.core.pipeline import EventLimits, ModerationContext, RawEvent, moderate, moderate_raw
from stream.core.policy import PolicyError, parse_policy
from stream.core.records import parse_event
from stream.core.strikes import MAX_STRIKES_PER_ACCOUNT, StrikeBook, StrikeRecord, decode_strike
from tests.fixtures.events import event_bytes

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
POLICY = parse_policy("""
name: strikes
label_severity: {violation: allow, warning: allow, info: allow}
term_lists: [{name: 违禁, action: block, terms: [办证刻章]}]
strikes:
  count: [block]
  window_hours: 24
  escalate: [{at: 2, action: flag}, {at: 4, action: block}]
""")


def _raw(content_id: str, text: str, user: str | None = "u1", tenant: str = "t") -> RawEvent:
    return RawEvent(event_bytes(content_id, text, tenant=tenant, user=user), NOW)


def _context(book: StrikeBook) -> ModerationContext:
    return ModerationContext(
        policy=POLICY,
        limits=EventLimits(100_000, 100_000),
        # The deciding clock: strikes count back from it (they are recorded at 999,000 s and so on).
        clock=lambda: datetime.fromtimestamp(1_000_000.0, UTC),
        strike_counts=book.count,
    )


def test_book_counts_each_event_once_within_the_window() -> None:
    book = StrikeBook()
    book.add(StrikeRecord("t", "u1", "e1", "block", 1_000.0))
    book.add(StrikeRecord("t", "u1", "e1", "block", 1_001.0))  # a redelivery of the same decision
    book.add(StrikeRecord("t", "u1", "e2", "block", 5_000.0))
    book.add(StrikeRecord("other", "u1", "e3", "block", 5_000.0))
    assert book.count("t", "u1", window_s=10_000, now=6_000) == 2
    assert book.count("t", "u1", window_s=2_000, now=6_000) == 1
    assert book.count("t", "nobody", window_s=10_000, now=6_000) == 0
    assert book.count("other", "u1", window_s=10_000, now=6_000) == 1


def test_book_keeps_a_bounded_number_of_strikes_per_account() -> None:
    book = StrikeBook()
    for i in range(MAX_STRIKES_PER_ACCOUNT + 50):
        book.add(StrikeRecord("t", "u", f"e{i}", "block", float(i)))
    assert book.count("t", "u", window_s=10**6, now=10_000) == MAX_STRIKES_PER_ACCOUNT


def test_strike_records_round_trip_and_garbage_is_skipped() -> None:
    record = StrikeRecord("租户", "用户", "e1", "block", 12.5)
    assert decode_strike(record.to_json()) == record
    assert record.key == "租户\x1f用户".encode()
    assert decode_strike(b"{not json") is None
    assert decode_strike(json.dumps({"tenant": "t"}).encode()) is None


def test_blocked_events_become_strikes_and_repeat_offenders_are_escalated() -> None:
    book = StrikeBook()
    outcome = moderate_raw(
        [
            _raw("a", "可以办证刻章"),
            _raw("b", "今天天气不错"),
            _raw("c", "办证刻章找我", user=None),
            _raw("d", "办证刻章", user="u2", tenant="t2"),
        ],
        _context(book),
    )
    assert [(s.user_id, s.event_id, s.action) for s in outcome.strikes] == [
        ("u1", "e-a", "block"),
        ("u2", "e-d", "block"),
    ]
    for strike in outcome.strikes:
        book.add(StrikeRecord(strike.tenant, strike.user_id, strike.event_id, strike.action, 999_000.0))
    # One strike: below the first step.
    (decision,) = moderate([_event("e", "今天天气不错")], _context(book))
    assert decision.action == "allow"
    book.add(StrikeRecord("t", "u1", "e-x", "block", 999_500.0))
    (decision,) = moderate([_event("f", "今天天气不错")], _context(book))
    assert decision.action == "flag"
    (reason,) = decision.reasons
    assert (reason.code, reason.category) == ("repeat_offender", "account")
    assert "2 strikes" in reason.message and "24 h" in reason.basis
    for i in range(2):
        book.add(StrikeRecord("t", "u1", f"e-y{i}", "block", 999_600.0))
    (decision,) = moderate([_event("g", "今天天气不错")], _context(book))
    assert decision.action == "block"
    # Strikes older than the window no longer count.
    old = StrikeBook()
    for i in range(5):
        old.add(StrikeRecord("t", "u1", f"e{i}", "block", 1_000.0))
    (decision,) = moderate([_event("h", "今天天气不错")], _context(old))
    assert decision.action == "allow"


def test_an_escalated_decision_is_not_itself_a_strike() -> None:
    # Four strikes reach the block step: a harmless post is blocked for the account's record, but that
    # block must not count again, or the account would stay blocked for as long as it kept posting.
    book = StrikeBook()
    for i in range(4):
        book.add(StrikeRecord("t", "u1", f"old{i}", "block", 999_000.0))
    outcome = moderate_raw([_raw("a", "今天天气不错"), _raw("b", "办证刻章找我")], _context(book))
    assert [d.action for _, d in outcome.decisions] == ["block", "block"]
    assert [d.reasons[0].code for _, d in outcome.decisions] == ["repeat_offender", "term_list"]
    # Only the post that was blocked on its own merits strikes.
    assert [(s.event_id, s.action) for s in outcome.strikes] == [("e-b", "block")]


def _event(content_id: str, text: str) -> ContentEvent:
    raw = _raw(content_id, text)
    parsed = parse_event(raw.value or b"", max_event_bytes=100_000, max_media_bytes=100_000)
    assert isinstance(parsed, ContentEvent)
    return parsed


@pytest.mark.parametrize(
    ("strikes", "message"),
    [
        ("[1]", "strikes: must be a mapping"),
        ("{escalate: [{at: 2, action: flag}], colour: red}", "strikes: unknown keys colour"),
        ("{count: [allow], escalate: [{at: 2, action: flag}]}", "strikes.count: allow cannot be a strike"),
        ("{count: [], escalate: [{at: 2, action: flag}]}", "strikes.count: must be a non-empty list"),
        ("{window_hours: 0, escalate: [{at: 2, action: flag}]}", "strikes.window_hours: 0 is not"),
        ("{window_hours: 1000, escalate: [{at: 2, action: flag}]}", "(0, 744]"),
        ("{escalate: []}", "strikes.escalate: must be a non-empty list"),
        ("{escalate: [{at: 0, action: flag}]}", "strikes.escalate[0].at: 0 is not a whole number"),
        ("{escalate: [{at: 2, action: allow}]}", "escalating to allow does nothing"),
        ("{escalate: [{at: 3, action: block}, {at: 5, action: flag}]}", "never weaken the action"),
        ("{escalate: [{at: 3, action: flag}, {at: 3, action: block}]}", "must rise in count"),
        ("{escalate: [{at: 3}]}", "exactly at and action"),
    ],
)
def test_invalid_strike_rules_are_rejected(strikes: str, message: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(
            f"name: x\nlabel_severity: {{violation: flag, warning: allow, info: allow}}\nstrikes: {strikes}\n"
        )
    assert message in str(caught.value)


def test_without_a_strike_rule_nothing_is_counted() -> None:
    policy = parse_policy("name: x\nlabel_severity: {violation: flag, warning: allow, info: allow}\n")
    assert policy.strikes is None
    context = ModerationContext(policy=policy, limits=EventLimits(100_000, 100_000), clock=lambda: NOW)
    assert moderate_raw([_raw("a", "办证刻章")], context).strikes == []


def test_a_hostile_strike_record_is_skipped() -> None:
    from stream.core.strikes import decode_strike

    assert decode_strike(b"[" * 5000 + b"]" * 5000) is None
    assert decode_strike(b'{"tenant": ' + b"9" * 5000 + b"}") is None
