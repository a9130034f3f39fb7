"""Pushed policy records: what a worker applies, what it rejects, and what stays in force."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from stream.core.policy import PolicyError, load_policy, parse_policy
from stream.kafka.policy_store import PolicyState, decode_record, in_force, new_record

LIVE = "name: candidate\nlabel_severity: {violation: block, warning: allow, info: allow}\n"
SHADOW = "name: strict\nlabel_severity: {violation: block, warning: flag, info: allow}\n"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _value(slot: str, text: str | None) -> bytes:
    return new_record(slot, text, "tester", NOW).to_json()  # type: ignore[arg-type]


def test_a_valid_push_replaces_the_live_policy() -> None:
    state = PolicyState(load_policy())
    outcome = state.apply(0, _value("live", LIVE))
    assert outcome.applied and outcome.slot == "live"
    assert state.live.version == parse_policy(LIVE).version == outcome.version
    assert state.shadow is None
    assert state.position == 1


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "not a JSON object"),
        (json.dumps({"slot": "canary", "yaml": LIVE}).encode(), "slot must be one of"),
        (json.dumps({"slot": "live", "yaml": "name: [broken"}).encode(), "not valid YAML"),
        (json.dumps({"slot": "live", "yaml": "name: x\n"}).encode(), "label_severity: missing"),
        (json.dumps({"slot": "live", "yaml": None}).encode(), "live slot cannot be cleared"),
        (None, "empty record"),
    ],
)
def test_a_bad_record_is_rejected_and_the_previous_policy_stays(value: bytes | None, error: str) -> None:
    state = PolicyState(load_policy())
    state.apply(0, _value("live", LIVE))
    outcome = state.apply(1, value)
    assert not outcome.applied
    assert outcome.error is not None and error in outcome.error
    assert state.live.name == "candidate"
    assert state.position == 2


def test_shadow_is_set_and_cleared_without_touching_live() -> None:
    state = PolicyState(load_policy())
    before = state.live
    assert state.apply(0, _value("shadow", SHADOW)).applied
    assert state.shadow is not None and state.shadow.name == "strict"
    assert state.live is before
    assert state.apply(1, _value("shadow", None)).applied
    assert state.shadow is None and state.live is before


def test_replaying_history_keeps_the_last_valid_push() -> None:
    state = PolicyState(load_policy())
    outcomes = state.apply_all(
        [
            (0, _value("live", LIVE)),
            (1, json.dumps({"slot": "live", "yaml": "broken: ["}).encode()),
            (2, _value("shadow", SHADOW)),
        ]
    )
    assert [o.applied for o in outcomes] == [True, False, True]
    assert state.live.name == "candidate" and state.shadow is not None


def test_new_record_validates_before_anything_is_pushed() -> None:
    with pytest.raises(PolicyError, match="label_severity: missing"):
        new_record("live", "name: x\n", "tester")
    with pytest.raises(PolicyError, match="live slot cannot be cleared"):
        new_record("live", None, "tester")
    record = new_record("live", LIVE, "tester", NOW)
    assert record.key == f"live:{parse_policy(LIVE).version}".encode()
    assert record.pushed_at == "2026-11-25T12:00:00.000Z"


def test_in_force_is_the_newest_valid_record_of_each_slot() -> None:
    records = [
        decode_record(0, _value("live", LIVE)),
        decode_record(1, json.dumps({"slot": "live", "yaml": "name: [x"}).encode()),
        decode_record(2, _value("shadow", SHADOW)),
        decode_record(3, _value("shadow", None)),
    ]
    current = in_force(records)
    assert current["live"] is not None and current["live"].offset == 0
    assert current["shadow"] is not None and current["shadow"].yaml is None


@pytest.mark.parametrize(
    "version",
    [None, "forged@sha256:0000", parse_policy(LIVE).version],
    ids=["no-version", "made-up", "another-policy's"],
)
def test_a_record_whose_version_is_not_the_hash_of_its_body_is_refused(version: str | None) -> None:
    state = PolicyState(load_policy())
    state.apply(0, _value("live", LIVE))
    forged = json.loads(_value("live", SHADOW))
    forged["version"] = version
    outcome = state.apply(1, json.dumps(forged).encode())
    assert not outcome.applied and outcome.error is not None
    assert "its body is" in outcome.error and "refused" in outcome.error
    assert state.live.name == "candidate"
    # Nor is it shown as in force.
    records = [decode_record(0, _value("live", LIVE)), decode_record(1, json.dumps(forged).encode())]
    assert in_force(records)["live"] == records[0]


def test_a_record_names_the_principal_that_pushed_it() -> None:
    record = new_record("live", LIVE, "alice", NOW, principal="User:huiyan-admin")
    decoded = decode_record(7, record.to_json())
    assert decoded.principal == "User:huiyan-admin" and decoded.pushed_by == "alice"
    assert decoded.pusher == "User:huiyan-admin (alice)"
    anonymous = decode_record(8, new_record("live", LIVE, "bob", NOW).to_json())
    assert anonymous.principal is None and anonymous.pusher == "bob (unauthenticated)"


@pytest.mark.parametrize(
    "value",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"slot": "live", "n": ' + b"9" * 5000 + b"}",
        b'{"slot": "live", "yaml": 1e999}',
    ],
    ids=["deep", "huge-int", "inf"],
)
def test_a_hostile_policy_record_is_rejected_not_raised(value: bytes) -> None:
    state = PolicyState(load_policy())
    outcome = state.apply(0, value)
    assert not outcome.applied and state.position == 1
