"""The shipped classifier: loads without torch, scores in [0, 1], cuts long texts with a flag, matches
the torch model it was exported from, and keeps within the size budget."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from classifiers.text_model import DEFAULT_MODEL_DIR, ONNX_FILE, TextRiskModel, model_version
from tests.fixtures import REPO

AI_REGISTER_DEV = REPO / "classifiers" / "training" / "register" / "dev" / "early.jsonl"
# ONNX int8 (dynamic quantisation) against the fp32 torch model, per transformer score; the largest
# difference measured on these 150 texts was 0.035 (model card).
PARITY_TOLERANCE = 0.05


@pytest.fixture(scope="module")
def model() -> TextRiskModel:
    return TextRiskModel()


def test_bundled_model_loads_with_a_content_version(model: TextRiskModel) -> None:
    assert model.categories == ("rumor", "vulgar", "impersonation")
    assert model.version == f"text-v4@{model_version(DEFAULT_MODEL_DIR)}"
    assert len(model.version.split("@")[1]) == 16


def test_the_version_changes_with_the_maximum_length(tmp_path: Path) -> None:
    for name in (ONNX_FILE, "vocab.txt", "ngram.npz"):
        (tmp_path / name).symlink_to(DEFAULT_MODEL_DIR / name)
    card = json.loads((DEFAULT_MODEL_DIR / "model.json").read_text("utf-8"))
    (tmp_path / "model.json").write_text(json.dumps({**card, "max_len": 64}), "utf-8")
    assert model_version(tmp_path) != model_version(DEFAULT_MODEL_DIR)


def test_scores_are_probabilities_for_every_category(model: TextRiskModel) -> None:
    outputs = model.predict_detailed(["今天天气不错。", "", "a" * 5])
    for output in outputs:
        assert set(output.scores) == {"rumor", "vulgar", "impersonation"}
        assert all(0.0 <= s <= 1.0 for s in output.scores.values())


def test_long_text_is_cut_to_max_len_and_flagged(model: TextRiskModel) -> None:
    short, long = model.predict_detailed(["你好", "长" * (model.max_len * 3)])
    assert not short.truncated and short.tokens == 4
    assert long.truncated and long.tokens == model.max_len * 3 + 2


def test_a_text_scores_exactly_the_same_whatever_its_batch_mates(model: TextRiskModel) -> None:
    texts = [json.loads(line)["text"] for line in AI_REGISTER_DEV.read_text("utf-8").splitlines()[:40]]
    mates = ["嗯", "长" * 300, "【银行】请回复验证码", *texts[20:]]
    alone = [model.predict([text])[0] for text in texts[:10]]
    for batch in (texts, [*mates, *texts[:10]], list(reversed(texts[:10])) + mates):
        scored = dict(zip(batch, model.predict(batch), strict=True))
        assert [scored[text] for text in texts[:10]] == alone  # bit for bit, not within a tolerance


def test_batches_of_several_texts_would_move_scores(model: TextRiskModel) -> None:
    """Why the model runs one text per call: with several, dynamic quantisation scales a call's
    activations over all its texts, and a score moves with its batch-mates (the check above would fail)."""
    batched = TextRiskModel(batch_size=8)
    texts = [json.loads(line)["text"] for line in AI_REGISTER_DEV.read_text("utf-8").splitlines()[:40]]
    together = batched.transformer_scores(texts)[0]
    alone = [batched.transformer_scores([text])[0][0] for text in texts]
    assert max(float(abs(row - single).max()) for row, single in zip(together, alone, strict=True)) > 0


def test_served_onnx_matches_the_torch_model() -> None:
    pytest.importorskip("torch", reason="the train extra (torch) is part of the dev install")
    from classifiers.training.export import parity

    texts = [json.loads(line)["text"] for line in AI_REGISTER_DEV.read_text("utf-8").splitlines()]
    assert parity(DEFAULT_MODEL_DIR, texts) <= PARITY_TOLERANCE


def test_shipped_weights_stay_within_30_mb() -> None:
    models = DEFAULT_MODEL_DIR.parent
    weights = [*models.rglob("*.safetensors"), *models.rglob("*.onnx")]
    assert (DEFAULT_MODEL_DIR / ONNX_FILE) in weights
    assert sum(p.stat().st_size for p in weights) <= 30 * 1024 * 1024


def test_the_bench_records_the_version_decisions_carry(model: TextRiskModel) -> None:
    from stream.settings import Settings
    from stream.tools.bench import served_model

    assert served_model(Settings.from_env({})) == model.version


def test_the_served_score_combines_both_scorers_and_shows_its_evidence(model: TextRiskModel) -> None:
    assert model.ngram is not None and model.combine is not None
    text = "【ETC服务中心】您的ETC卡已失效，请于今日点击 http://etc-kfz.cn/x 重新认证，逾期将停用。"
    (output,) = model.predict_detailed([text])
    transformer, _, _ = model.transformer_scores([text])
    ngram_logits = model.ngram.logits([text])
    assert output.scores["impersonation"] == pytest.approx(
        float(model.combined(transformer, ngram_logits)[0, model.categories.index("impersonation")])
    )
    spans = output.evidence["impersonation"]
    assert output.scores["impersonation"] >= 0.5 and spans
    for span in spans:
        assert text[span.start : span.end] == span.text and span.weight > 0
    (calm,) = model.predict_detailed(["今天天气不错，我们去公园散步吧。"])
    assert all(score < 0.2 for score in calm.scores.values()) and calm.evidence == {}
