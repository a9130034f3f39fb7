"""Character n-gram scorer: TF-IDF over character 1-3-grams and one logistic regression per category.

It is both the project's baseline (every evaluation trains one on the same data and prints it beside the
shipped scorer) and one of the shipped scorer's two parts (:mod:`classifiers.text_model` combines it with
the transformer). Serving needs numpy only: the vocabulary, inverse document frequencies and weights are
read from ``ngram.npz``, and :meth:`NgramModel.score` reproduces scikit-learn's ``TfidfVectorizer``
(sublinear tf, idf, l2 norm) and ``LogisticRegression`` decision function exactly.

Because the model is linear, each n-gram's share of a score is known: :meth:`NgramModel.evidence` turns
the positive shares into the character spans of the original text that drove the score, the evidence a
reviewer sees in the decision.

Text is read the same way in training and serving (:func:`grams`): at most :data:`MAX_CHARS` characters,
NFKC and lower case per character (so offsets map back to the original), whitespace dropped.
"""

from __future__ import annotations

import io
import math
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

NGRAM_FILE: Final = "ngram.npz"
MAX_N: Final = 3
# Characters of a text the n-gram model reads; a generated post rarely needs more to show what it is.
MAX_CHARS: Final = 2048


def _fold(char: str) -> str:
    folded = unicodedata.normalize("NFKC", char).lower()
    return folded[0] if folded else char


def reading(text: str) -> tuple[str, list[int]]:
    """The characters the model reads (folded, no whitespace) and each one's offset in ``text``."""
    chars, offsets = [], []
    for offset, char in enumerate(text[:MAX_CHARS]):
        if char.isspace():
            continue
        chars.append(_fold(char))
        offsets.append(offset)
    return "".join(chars), offsets


def grams(text: str) -> list[str]:
    """Every character 1- to 3-gram of the folded text, with repeats (the analyzer of training)."""
    folded, _ = reading(text)
    return [folded[i : i + n] for n in range(1, MAX_N + 1) for i in range(len(folded) - n + 1)]


@dataclass(frozen=True, slots=True)
class EvidenceSpan:
    """Characters ``text[start:end]`` of the original text whose n-grams raised a category's score most."""

    start: int
    end: int
    text: str
    weight: float  # the span's share of the score's logit


class NgramModel:
    """TF-IDF character n-grams and a logistic regression per category, loaded from ``ngram.npz``."""

    def __init__(self, arrays: Mapping[str, npt.NDArray[np.generic]]) -> None:
        self.idf: npt.NDArray[np.float32] = arrays["idf"].astype(np.float32)
        self.coef: npt.NDArray[np.float32] = arrays["coef"].astype(np.float32)  # categories x vocabulary
        self.intercept: npt.NDArray[np.float32] = arrays["intercept"].astype(np.float32)
        self.categories: tuple[str, ...] = tuple(str(c) for c in arrays["categories"])
        self.index = {str(gram): i for i, gram in enumerate(arrays["vocabulary"])}

    @classmethod
    def load(cls, path: Path) -> NgramModel:
        with np.load(path, allow_pickle=False) as data:
            return cls({name: data[name] for name in data.files})

    def features(self, text: str) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32]]:
        """Vocabulary indices and TF-IDF values (sublinear tf, l2-normalised) of one text."""
        counts = Counter(self.index[g] for g in grams(text) if g in self.index)
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float32, count=len(counts))
        values = tf * self.idf[idx]
        norm = float(np.sqrt(np.dot(values, values)))
        return idx, values / norm if norm > 0 else values

    def logits(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """texts x categories decision values of the logistic regressions."""
        out = np.empty((len(texts), len(self.categories)), dtype=np.float32)
        for row, text in enumerate(texts):
            idx, values = self.features(text)
            out[row] = self.coef[:, idx] @ values + self.intercept
        return out

    def score(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return (1.0 / (1.0 + np.exp(-self.logits(texts)))).astype(np.float32)

    def evidence(self, text: str, category: str, *, limit: int = 3) -> list[EvidenceSpan]:
        """Up to ``limit`` spans of ``text`` whose n-grams added most to ``category``'s logit, strongest
        first.

        Each n-gram's contribution (its TF-IDF value times its weight) is shared among the characters of
        its occurrences; a span is a run of characters each carrying at least a quarter of the strongest
        character's positive share.
        """
        folded, offsets = reading(text)
        if not folded:
            return []
        column = self.categories.index(category)
        # every occurrence of a vocabulary n-gram: (n-gram, start, length)
        found: dict[int, list[int]] = {}
        lengths: dict[int, int] = {}
        for n in range(1, MAX_N + 1):
            for i in range(len(folded) - n + 1):
                index = self.index.get(folded[i : i + n])
                if index is not None:
                    found.setdefault(index, []).append(i)
                    lengths[index] = n
        if not found:
            return []
        idx = np.fromiter(found, dtype=np.int64, count=len(found))
        counts = np.array([len(found[i]) for i in found], dtype=np.float64)
        values = (1.0 + np.log(counts)) * self.idf[idx]
        values /= float(np.sqrt(np.dot(values, values)))
        contribution = np.maximum(values * self.coef[column, idx], 0.0)
        positions: list[int] = []
        weights: list[float] = []
        for j, index in enumerate(found):
            if contribution[j] <= 0:
                continue
            n = lengths[index]
            per_char = contribution[j] / (counts[j] * n)
            for start in found[index]:
                positions.extend(range(start, start + n))
                weights.extend([per_char] * n)
        if not positions:
            return []
        share = np.bincount(positions, weights=weights, minlength=len(folded))
        strong = share >= float(share.max()) / 4
        spans: list[EvidenceSpan] = []
        i = 0
        while i < len(folded):
            if not strong[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(folded) and strong[j + 1]:
                j += 1
            start, end = offsets[i], offsets[j] + 1
            spans.append(EvidenceSpan(start, end, text[start:end], float(share[i : j + 1].sum())))
            i = j + 1
        spans.sort(key=lambda s: -s.weight)
        return spans[:limit]


def train_ngram(
    texts: Sequence[str],
    labels: Mapping[str, tuple[Sequence[int], Sequence[int]]],
    *,
    max_features: int = 200_000,
    c: float = 4.0,
    seed: int = 20261203,
) -> dict[str, npt.NDArray[np.generic]]:
    """Fits the vectorizer on ``texts`` and one regression per category on its (text indices, labels).

    Returns the arrays of ``ngram.npz``. scikit-learn is a training dependency only.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        analyzer=grams, sublinear_tf=True, min_df=2, max_features=max_features, dtype=np.float32
    )
    matrix = vectorizer.fit_transform(texts)
    categories = sorted(labels)
    coef = np.zeros((len(categories), len(vectorizer.vocabulary_)), dtype=np.float32)
    intercept = np.zeros(len(categories), dtype=np.float32)
    for row, category in enumerate(categories):
        rows, y = labels[category]
        regression = LogisticRegression(C=c, max_iter=2000, solver="liblinear", random_state=seed)
        regression.fit(matrix[np.asarray(rows)], np.asarray(y))
        coef[row] = regression.coef_[0]
        intercept[row] = regression.intercept_[0]
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    return {
        "vocabulary": np.array(vocabulary, dtype=f"<U{MAX_N}"),
        "idf": vectorizer.idf_.astype(np.float32),
        "coef": coef,
        "intercept": intercept,
        "categories": np.array(categories),
    }


def save_ngram(arrays: dict[str, npt.NDArray[np.generic]], path: Path) -> None:
    """Writes ``arrays`` as a compressed ``.npz`` with fixed member dates, so that the same arrays give
    the same bytes (and the same model version) in every run."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.ascontiguousarray(array), allow_pickle=False)
            archive.writestr(member, buffer.getvalue())


Labels = dict[str, tuple[list[int], list[int]]]


def fit_rows(rows: Iterable[tuple[str, str, int]]) -> tuple[list[str], Labels]:
    """(text, category, label) rows into the distinct texts and per-category (text indices, labels)."""
    position: dict[str, int] = {}
    labels: Labels = {}
    for text, category, label in rows:
        index = position.setdefault(text, len(position))
        indices, values = labels.setdefault(category, ([], []))
        indices.append(index)
        values.append(label)
    return list(position), labels
