"""The character n-gram model: serving reproduces scikit-learn's scores, evidence points at the original
characters that drove a score, and the same arrays always give the same file."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from classifiers.ngram import NgramModel, fit_rows, grams, reading, save_ngram, train_ngram

HARMFUL = [
    "【社保中心】您的社保卡即将冻结，请点击链接验证身份",
    "我是公安局的民警，你涉嫌洗钱，请把钱转到安全账户",
    "【银行】您的账户异常，请回复验证码解除冻结",
    "爸，我是小明，出车祸了，快转两万到这个卡号",
]
HARMLESS = [
    "今天天气不错，我们去公园散步吧",
    "这家店的米粉很好吃，推荐给大家",
    "社保卡可以在线下网点办理，请携带身份证",
    "银行提醒：任何人索要验证码都是诈骗",
]


@pytest.fixture(scope="module")
def arrays() -> dict[str, np.ndarray]:
    texts, labels = fit_rows(
        [(t, "impersonation", 1) for t in HARMFUL]
        + [(t, "impersonation", 0) for t in HARMLESS]
        + [(t, "rumor", 0) for t in HARMFUL + HARMLESS]
        + [("网传明天地震，赶紧撤离", "rumor", 1), ("地震局：网传地震消息不实", "rumor", 0)]
    )
    return train_ngram(texts, labels, max_features=5000, c=10.0)


def test_reading_folds_characters_and_keeps_their_offsets() -> None:
    folded, offsets = reading("Ａ B\n中")
    assert folded == "ab中"
    assert offsets == [0, 2, 4]
    assert grams("Ａ B") == ["a", "b", "ab"]


def test_served_scores_equal_scikit_learns(arrays: dict[str, np.ndarray]) -> None:
    model = NgramModel(arrays)
    texts, labels = fit_rows(
        [(t, "impersonation", 1) for t in HARMFUL] + [(t, "impersonation", 0) for t in HARMLESS]
    )
    vectorizer = TfidfVectorizer(analyzer=grams, sublinear_tf=True, min_df=2, max_features=5000)
    # the vectorizer of train_ngram saw the two rumor texts too: refit on the same distinct texts
    all_texts = [*HARMFUL, *HARMLESS, "网传明天地震，赶紧撤离", "地震局：网传地震消息不实"]
    matrix = vectorizer.fit_transform(all_texts)
    regression = LogisticRegression(C=10.0, max_iter=2000, solver="liblinear", random_state=20261203)
    regression.fit(matrix[: len(texts)], labels["impersonation"][1])
    probe = ["【社保】请回复验证码", "公园里的米粉", "完全无关的句子 xyz"]
    expected = regression.predict_proba(vectorizer.transform(probe))[:, 1]
    column = model.categories.index("impersonation")
    assert np.allclose(model.score(probe)[:, column], expected, atol=1e-5)
    assert np.allclose(expit(model.logits(probe)), model.score(probe))


def test_evidence_spans_are_the_original_characters_that_raised_the_score(
    arrays: dict[str, np.ndarray],
) -> None:
    model = NgramModel(arrays)
    text = "周末愉快！  【银行】您的账户异常，请回复 验证码"
    spans = model.evidence(text, "impersonation")
    assert spans, "a scam text has evidence"
    assert spans == sorted(spans, key=lambda s: -s.weight)
    for span in spans:
        assert text[span.start : span.end] == span.text
        assert span.weight > 0
    joined = "".join(s.text for s in spans)
    assert "周末愉快" not in joined
    column = model.categories.index("impersonation")
    top = spans[0]
    without_top = text[: top.start] + text[top.end :]
    assert model.logits([without_top])[0, column] < model.logits([text])[0, column]
    assert model.evidence("", "impersonation") == []


def test_the_same_arrays_give_the_same_bytes(arrays: dict[str, np.ndarray], tmp_path) -> None:
    save_ngram(arrays, tmp_path / "a.npz")
    save_ngram(arrays, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = NgramModel.load(tmp_path / "a.npz")
    probe = ["【银行】请回复验证码"]
    assert np.array_equal(loaded.logits(probe), NgramModel(arrays).logits(probe))
