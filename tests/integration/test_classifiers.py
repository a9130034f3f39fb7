"""Texts with a known risk go through the real broker and come out flagged or blocked by the classifier;
benign texts come out allowed; every decision carries the scores and the model version."""

from __future__ import annotations

import pytest

from classifiers.text_model import TextRiskModel
from tests.fixtures.events import DISCLOSURE, event_bytes
from tests.fixtures.kafka import Deployment

pytestmark = pytest.mark.integration

CODE = "001191110108MA01ABCD2X1HY01"
# Written for this test. Each risky text is unambiguous for its category; the benign ones are everyday
# generated texts. (Hard negatives such as an official weather warning are a known weakness of the
# model, measured and listed in classifiers/MODEL_CARD.md, not a plumbing question for this test.)
TEXTS = {
    "rumor": "紧急扩散！明天起全国自来水都被污染了，喝了会得癌症，官方一直在隐瞒，赶紧囤水转发给家人！",
    "vulgar": "你个傻逼，脑子有病吧，滚回你那个穷地方去，真他妈恶心。",
    "impersonation": (
        "您好，我是市公安局刑侦支队的民警，您的银行卡涉嫌洗钱，请立即将资金转入我们指定的安全账户配合调查。"
    ),
    "benign-1": "根据您的描述，建议多喝水、注意休息，如果发烧超过三天请及时就医。",
    "benign-2": "这家店的牛肉面汤头浓郁，面条劲道，就是排队的人有点多。",
}


def _event(key: str) -> bytes:
    return event_bytes(key, TEXTS[key] + DISCLOSURE, event_id=f"clf-{key}", tenant="it", labelled=True)


def test_risky_texts_are_flagged_or_blocked_and_benign_texts_allowed(deployment: Deployment) -> None:
    deployment.start_worker()
    deployment.produce([_event(key) for key in TEXTS])
    decisions = {d["content_id"]: d for d in deployment.decisions(len(TEXTS))}
    assert set(decisions) == set(TEXTS), deployment.log()

    version = TextRiskModel().version
    for key, decision in decisions.items():
        assert set(decision["scores"]) == {"rumor", "vulgar", "impersonation"}
        assert decision["provenance"]["models"] == [{"name": "huiyan-text", "version": version}]
        if key.startswith("benign"):
            assert decision["action"] == "allow", (key, decision["scores"], decision["reasons"])
        else:
            assert decision["action"] in {"flag", "block"}, (key, decision["scores"])
            fired = [r for r in decision["reasons"] if r["category"] == key]
            assert fired and fired[0]["score"] >= fired[0]["threshold"], (key, decision["reasons"])
