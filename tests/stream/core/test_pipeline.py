"""The pure core: one decision per valid event with reasons and provenance; scores against thresholds;
a failing classifier or a bug on one event never loses the batch."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from classifiers.content import ContentEvent
from classifiers.scores import ClassifierOutput, Evidence
from stream.core.pipeline import EventLimits, ModerationContext, RawEvent, moderate, moderate_raw
from stream.core.policy import parse_policy
from stream.core.records import load_schema, parse_event
from tests.fixtures.events import ABSENT, CODE, DISCLOSURE, event_doc

POLICY = parse_policy("""
name: unit
label_severity: {violation: flag, warning: allow, info: allow}
label_findings: {biometric_edit_without_consent: block}
categories:
  rumor: {flag: 0.5, block: 0.9}
  vulgar: {flag: 0.6, block: 0.95}
classifier_failure: flag
""")
LIMITS = EventLimits(100_000, 100_000)
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _doc(content_id: str, **fields: Any) -> dict[str, Any]:
    """A labelled event; a field given as None is left out."""
    fields = {key: ABSENT if value is None else value for key, value in fields.items()}
    fields.setdefault("text", "今天天气很好，适合出门散步。" + DISCLOSURE)
    return event_doc(content_id, labelled=True, **fields)


def _event(content_id: str, **fields: Any) -> ContentEvent:
    parsed = parse_event(
        json.dumps(_doc(content_id, **fields)).encode(), max_event_bytes=100_000, max_media_bytes=100_000
    )
    assert isinstance(parsed, ContentEvent), parsed
    return parsed


class FixedScores:
    """Test double with the classifier interface: returns the scores it was given, per text."""

    name = "fixed"
    version = "test-1"
    categories = ("rumor", "vulgar")

    def __init__(self, by_text: dict[str, dict[str, float]]) -> None:
        self.by_text = by_text
        self.calls: list[list[str]] = []

    def predict_detailed(self, texts: Sequence[str]) -> list[ClassifierOutput]:
        self.calls.append(list(texts))
        return [
            ClassifierOutput(
                self.by_text.get(t, {"rumor": 0.0, "vulgar": 0.0}), truncated=len(t) > 50, tokens=len(t)
            )
            for t in texts
        ]


class Broken:
    name = "broken"
    version = "0"
    categories = ("rumor",)

    def predict_detailed(self, texts: Sequence[str]) -> list[ClassifierOutput]:
        raise RuntimeError("model file is corrupt")


def _context(*classifiers: Any) -> ModerationContext:
    return ModerationContext(
        policy=POLICY, limits=LIMITS, platform_code=CODE, classifiers=classifiers, clock=lambda: NOW
    )


def test_compliant_event_is_allowed_with_full_provenance() -> None:
    (decision,) = moderate([_event("ok")], _context())
    assert decision.action == "allow"
    assert decision.reasons == ()
    assert decision.label_status == "compliant"
    assert decision.notice.level == "confirmed"
    assert decision.provenance.policy_version == POLICY.version
    assert decision.provenance.input_sha256 == _event("ok").input_sha256
    assert decision.timing.decided_at == "2026-11-25T12:00:00.000Z"
    jsonschema.Draft202012Validator(load_schema("decision.v1")).validate(json.loads(decision.to_json()))


def test_label_violation_is_flagged_with_the_article_in_the_reason() -> None:
    (decision,) = moderate([_event("nolabel", implicit_label=None)], _context())
    assert decision.action == "flag"
    reason = next(r for r in decision.reasons if r.code == "implicit_label_missing")
    assert reason.category == "label"
    assert "Art. 16" in reason.basis and "policy unit" in reason.basis


def test_refused_consent_blocks_under_the_consent_category() -> None:
    (decision,) = moderate(
        [
            _event(
                "swap", content_type="video", service_type="face_swap", depicted_persons=[{"consent": False}]
            )
        ],
        _context(),
    )
    assert decision.action == "block"
    assert any(
        r.code == "biometric_edit_without_consent" and r.category == "consent" for r in decision.reasons
    )


def test_scores_are_compared_with_policy_thresholds() -> None:
    texts = {"谣言": {"rumor": 0.93, "vulgar": 0.1}, "可疑": {"rumor": 0.55, "vulgar": 0.1}}
    classifier = FixedScores(texts)
    events = [_event("a", text="谣言"), _event("b", text="可疑"), _event("c", text="正常")]
    decisions = moderate(events, _context(classifier))
    assert [d.action for d in decisions] == ["block", "flag", "flag"]  # "c" lacks the in-text explicit label
    rumor = next(r for r in decisions[0].reasons if r.category == "rumor")
    assert (rumor.score, rumor.threshold, rumor.action) == (0.93, 0.9, "block")
    assert decisions[0].scores == {"rumor": 0.93, "vulgar": 0.1}
    assert [m.name for m in decisions[0].provenance.models] == ["fixed"]
    assert classifier.calls == [["谣言", "可疑", "正常"]]  # one batched call


def test_over_long_text_is_scored_with_a_note_not_refused() -> None:
    long_text = "长" * 60
    (decision,) = moderate([_event("long", text=long_text)], _context(FixedScores({})))
    assert decision.scores == {"rumor": 0.0, "vulgar": 0.0}
    assert [n.code for n in decision.notes] == ["text_truncated"]
    assert "60 tokens or more" in decision.notes[0].message


def test_failing_classifier_fails_closed_to_flag() -> None:
    (decision,) = moderate([_event("x")], _context(Broken()))
    assert decision.action == "flag"
    assert [r.code for r in decision.reasons] == ["classifier_failed"]
    assert [n.code for n in decision.notes] == ["classifier_unscored"]
    assert "broken failed; rumor unscored" in decision.notes[0].message


FAILURE_SCOPES = parse_policy("""
name: unit-failure-scopes
label_severity: {violation: flag, warning: allow, info: allow}
categories:
  rumor: {flag: 0.5, block: 0.9}
  vulgar: {flag: 0.6, block: 0.95}
classifier_failure: flag
term_lists:
  - {name: 官方公告, action: allow, terms: [市政府公告]}
overrides:
  - tenant: recipes
    categories: {rumor: {enabled: false, flag: 0.5, block: 0.9}}
""")


AI_NOTICE = "。（本内容由人工智能生成）"


@pytest.mark.parametrize(
    ("tenant", "text", "acted_on"),
    [
        pytest.param("shop", "这是一段普通的生成文本" + AI_NOTICE, True, id="scored"),
        pytest.param("shop", "市政府公告：明天上午停水" + AI_NOTICE, False, id="allow-list"),
        pytest.param("recipes", "这是一段普通的生成文本" + AI_NOTICE, False, id="categories-off"),
    ],
)
def test_a_classifier_failure_is_acted_on_only_where_its_scores_would_be(
    tenant: str, text: str, acted_on: bool
) -> None:
    context = dataclasses.replace(_context(Broken()), policy=FAILURE_SCOPES)
    (decision,) = moderate([_event("x", text=text, tenant=tenant)], context)
    assert ("classifier_failed" in [r.code for r in decision.reasons]) is acted_on
    assert decision.action == ("flag" if acted_on else "allow")
    # The failure is recorded on the decision either way.
    assert [n.code for n in decision.notes] == ["classifier_unscored"]


class Slow:
    name = "slow"
    version = "0"
    categories = ("rumor",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def predict_detailed(self, texts: Sequence[str]) -> list[ClassifierOutput]:
        import time

        time.sleep(self.seconds)
        return [ClassifierOutput({"rumor": 0.0}) for _ in texts]


def test_a_classifier_that_times_out_fails_closed_and_a_fast_one_does_not() -> None:
    slow = dataclasses.replace(_context(Slow(0.5)), classifier_timeout_s=0.05)
    (decision,) = moderate([_event("late")], slow)
    assert decision.action == "flag"
    (reason,) = decision.reasons
    assert reason.code == "classifier_failed" and "timed out after 0.05 s" in reason.message
    assert decision.scores == {}
    fast = dataclasses.replace(_context(Slow(0.0)), classifier_timeout_s=5.0)
    (decision,) = moderate([_event("on-time")], fast)
    assert decision.action == "allow" and decision.scores == {"rumor": 0.0}


def test_the_runner_counts_each_call_by_classifier_and_outcome() -> None:
    slow = dataclasses.replace(_context(Slow(0.5)), classifier_timeout_s=0.05)
    moderate([_event("late")], slow)
    assert slow.classifier_runner.calls() == {("slow", "timed_out"): 1}
    broken = _context(Broken())
    moderate([_event("a"), _event("b")], broken)
    # The failed batch call is bisected: the batch, then each text alone.
    assert broken.classifier_runner.calls() == {("broken", "failed"): 3}
    fast = _context(Slow(0.0))
    moderate([_event("x")], fast)
    moderate([_event("y")], fast)
    assert fast.classifier_runner.calls() == {("slow", "ok"): 2}


def test_moderate_raw_accounts_for_every_input_in_order() -> None:
    raws = [
        RawEvent(json.dumps(_doc("one")).encode(), NOW),
        RawEvent(b"{broken", NOW),
        RawEvent(None, NOW),
        RawEvent(json.dumps(_doc("two")).encode(), NOW),
    ]
    outcome = moderate_raw(raws, _context())
    assert [(i, d.content_id) for i, d in outcome.decisions] == [(0, "one"), (3, "two")]
    assert [(i, r.reason) for i, r in outcome.rejections] == [(1, "invalid_json"), (2, "invalid_json")]
    assert outcome.decisions[0][1].timing.received_at == "2026-11-25T12:00:00.000Z"


def test_a_bug_on_one_event_dead_letters_only_that_event(monkeypatch: pytest.MonkeyPatch) -> None:
    from classifiers.labels import compliance

    real = compliance.check_event_labels

    def exploding(event: ContentEvent, **options: Any) -> Any:
        if event.content_id == "poison":
            raise ZeroDivisionError("bug")
        return real(event, **options)

    monkeypatch.setattr("stream.core.pipeline.check_event_labels", exploding)
    raws = [RawEvent(json.dumps(_doc(cid)).encode(), NOW) for cid in ("a", "poison", "b")]
    outcome = moderate_raw(raws, _context())
    assert [d.content_id for _, d in outcome.decisions] == ["a", "b"]
    assert [(i, r.reason, r.event_id) for i, r in outcome.rejections] == [(1, "internal_error", "e-poison")]
    assert "ZeroDivisionError" in outcome.rejections[0][1].detail


def test_unreadable_media_goes_to_review_under_the_default_policy() -> None:
    from stream.core.policy import load_policy
    from tests.fixtures.labels import media_fields, png_with_text

    png = png_with_text(("Comment", "x"))
    context = ModerationContext(policy=load_policy(""), limits=LIMITS, platform_code=CODE, clock=lambda: NOW)
    raws = [RawEvent(json.dumps(_doc("broken", **media_fields(png[:40]))).encode(), NOW)]
    [(_, decision)] = moderate_raw(raws, context).decisions
    assert decision.action == "flag"
    unreadable = [r for r in decision.reasons if r.code == "media_unreadable"]
    assert unreadable and unreadable[0].action == "flag"
    assert "file_label_missing" not in {f.code for f in decision.label_findings}  # not read: not "missing"


def test_decision_json_matches_dataclasses_asdict() -> None:
    # to_dict skips asdict's deep copies for speed; the JSON must stay what asdict would give, nested
    # reasons, findings, notes and provenance included.
    import dataclasses

    event = _event("nolabel", implicit_label=None, text="长" * 60)
    (decision,) = moderate([event], _context(FixedScores({"rumor": 0.99})))
    assert decision.reasons and decision.label_findings and decision.notes
    expected = json.loads(json.dumps(dataclasses.asdict(decision), ensure_ascii=False))
    assert json.loads(decision.to_json()) == expected
    assert decision.to_dict() == expected


LISTS_POLICY = parse_policy("""
name: lists
label_severity: {violation: flag, warning: allow, info: allow}
categories:
  rumor: {flag: 0.5, block: 0.9}
term_lists:
  - {name: 冒充公检法, action: block, category: impersonation, terms: [安全账户]}
  - name: 退款话术
    action: review
    rules: [{all: [客服, 退款], none: [官方APP]}]
  - {name: 媒体白名单, action: allow, terms: [新华社电]}
overrides:
  - tenant: strict
    categories: {rumor: {flag: 0.1, block: 0.2}}
""")


def _lists_context(*classifiers: Any) -> ModerationContext:
    return ModerationContext(
        policy=LISTS_POLICY, limits=LIMITS, platform_code=CODE, classifiers=classifiers, clock=lambda: NOW
    )


def test_term_list_match_blocks_with_spans_in_the_reason() -> None:
    text = "请把钱转到安全账户。（本内容由人工智能生成）"
    (decision,) = moderate([_event("list", text=text)], _lists_context())
    assert decision.action == "block"
    (reason,) = [r for r in decision.reasons if r.code == "term_list"]
    assert reason.category == "impersonation"
    assert "冒充公检法" in reason.basis
    assert reason.spans is not None
    assert [(s.term, s.start, s.end) for s in reason.spans] == [("安全账户", 5, 9)]
    assert text[5:9] == "安全账户"
    payload = json.loads(decision.to_json())
    jsonschema.Draft202012Validator(load_schema("decision.v1")).validate(payload)
    assert payload["reasons"][0]["spans"] == [{"term": "安全账户", "start": 5, "end": 9, "text": "安全账户"}]


def test_term_list_rule_with_not_only_fires_without_the_excluded_term() -> None:
    fires = _event("a", text="客服说可以退款，加我微信。（本内容由人工智能生成）")
    excluded = _event("b", text="客服说可以在官方APP退款。（本内容由人工智能生成）")
    first, second = moderate([fires, excluded], _lists_context())
    assert first.action == "flag" and any("rules[0]" in r.basis for r in first.reasons)
    assert second.action == "allow" and second.reasons == ()


def test_allow_list_stops_score_reasons_but_not_block_lists() -> None:
    text = "新华社电 某地发生地震。（本内容由人工智能生成）"
    scores = FixedScores({text: {"rumor": 0.99}})
    (decision,) = moderate([_event("allow", text=text)], _lists_context(scores))
    assert decision.action == "allow"
    assert [r.code for r in decision.reasons] == ["term_list"]
    assert "not acted on" in decision.reasons[0].basis
    assert decision.scores["rumor"] == 0.99  # the score is still reported


def test_tenant_override_changes_thresholds_and_is_named_in_the_basis() -> None:
    text = "据说明天停水。（本内容由人工智能生成）"
    scores = FixedScores({text: {"rumor": 0.3}})
    base, strict = moderate(
        [_event("base", text=text), _event("strict", text=text, tenant="strict")], _lists_context(scores)
    )
    assert base.action == "allow"
    assert strict.action == "block"
    assert "(tenant=strict)" in strict.reasons[0].basis


def test_shadow_policy_decides_beside_the_live_one_with_one_scoring_pass() -> None:
    text = "据说明天停水。（本内容由人工智能生成）"
    scores = FixedScores({text: {"rumor": 0.7}})
    shadow = parse_policy("""
name: shadow
label_severity: {violation: block, warning: allow, info: allow}
categories: {rumor: {flag: 0.2, block: 0.6}}
""")
    raws = [RawEvent(json.dumps(_doc(c, text=text)).encode(), NOW) for c in ("x", "y")]
    raws.append(RawEvent(b"{broken", NOW))
    outcome = moderate_raw(raws, _context(scores), shadow)
    assert len(scores.calls) == 1
    assert [(i, d.action) for i, d in outcome.decisions] == [(0, "flag"), (1, "flag")]
    assert [(i, d.action) for i, d in outcome.shadow] == [(0, "block"), (1, "block")]
    assert {d.provenance.policy_version for _, d in outcome.shadow} == {shadow.version}
    assert {d.provenance.policy_version for _, d in outcome.decisions} == {POLICY.version}
    assert [i for i, _ in outcome.rejections] == [2]
    assert moderate_raw(raws, _context(scores)).shadow == []


def test_a_score_reason_carries_the_evidence_spans_its_classifier_gave() -> None:
    text = "紧急通知：明天全市停水三天"

    class WithEvidence(FixedScores):
        def predict_detailed(self, texts: Sequence[str]) -> list[ClassifierOutput]:
            span = Evidence(5, 9, text[5:9], 1.25)
            return [
                ClassifierOutput({"rumor": 0.9, "vulgar": 0.3}, evidence={"rumor": (span,), "vulgar": ()})
                for _ in texts
            ]

    (decision,) = moderate([_event("ev", text=text)], _context(WithEvidence({})))
    reason = next(r for r in decision.reasons if r.code == "rumor_score")
    assert reason.evidence == (Evidence(5, 9, "明天全市", 1.25),)
    document = json.loads(decision.to_json())
    jsonschema.Draft202012Validator(load_schema("decision.v1")).validate(document)
    (shown,) = [r for r in document["reasons"] if r["code"] == "rumor_score"]
    assert shown["evidence"] == [{"start": 5, "end": 9, "text": "明天全市", "weight": 1.25}]


def test_the_core_reads_its_time_from_the_context_only() -> None:
    """No hidden clock: decided_at, the processing time and a strike's time all come from the context."""
    from stream.core.policy import parse_policy

    policy = parse_policy(
        "name: t\nlabel_severity: {violation: allow, warning: allow, info: allow}\n"
        "term_lists: [{name: 违禁, action: block, terms: [办证刻章]}]\n"
        "strikes: {count: [block], window_hours: 1, escalate: [{at: 9, action: flag}]}\n"
    )
    moment = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    ticks = iter(float(n) for n in range(1000))
    context = dataclasses.replace(_context(), policy=policy, clock=lambda: moment, timer=lambda: next(ticks))
    doc = _doc("strike", text="办证刻章", producer={"provider_code": CODE, "user_id": "u1"})
    outcome = moderate_raw([RawEvent(json.dumps(doc, ensure_ascii=False).encode(), moment)], context)
    (_, decision), (strike,) = outcome.decisions[0], outcome.strikes
    assert decision.timing.decided_at == "2030-01-02T03:04:05.000Z"
    assert decision.timing.processing_ms == 2000.0  # two ticks of the context's timer, no wall clock
    assert strike.at == moment.timestamp()


def test_judge_gives_every_event_its_decision_under_each_policy_in_order() -> None:
    from stream.core.pipeline import judge
    from stream.core.policy import parse_policy

    strict = parse_policy(
        "name: strict\nlabel_severity: {violation: block, warning: allow, info: allow}\n"
        "term_lists: [{name: 违禁, action: block, terms: [办证刻章]}]\n"
    )
    events = [_event("a"), _event("b")]
    judged = judge(events, _context(), (_context().policy, strict))
    assert [j.event.event_id for j in judged] == [e.event_id for e in events]
    assert all(len(j.decisions) == 2 for j in judged)
    assert [d.provenance.policy_version for d in judged[0].decisions] == [
        _context().policy.version,
        strict.version,
    ]
    assert [j.decisions[0] for j in judged] == [
        dataclasses.replace(d, timing=j.decisions[0].timing)
        for d, j in zip(moderate(events, _context()), judged, strict=True)
    ]
