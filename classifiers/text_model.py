"""Serving of Huiyan's text classifier: a transformer and a character n-gram model, combined and
calibrated per category.

``TextRiskModel`` loads a model directory once (``model.int8.onnx``, ``vocab.txt``, ``model.json`` and,
when ``model.json`` names them, ``ngram.npz`` and the per-category combination). It tokenises with the
``tokenizers`` library exactly as training did and truncates to the model's maximum length. Each text
runs through ONNX Runtime on its own: int8 dynamic quantisation scales activations per call, so a call
of one text makes its score independent of the other texts of the batch (measured: batches of one cost
about what batches of eight did). The n-gram model (:mod:`classifiers.ngram`) scores the same text; a
logistic regression per category, fitted on held-out training texts, turns the two logits into one
calibrated probability (``combine`` in ``model.json``), and the n-gram weights give the spans of the
text that drove each score. Serving needs neither torch nor transformers. This module must not decide
anything: the policy turns scores into actions.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np
import onnxruntime as ort
from tokenizers import BertWordPieceTokenizer

from classifiers.ngram import NgramModel
from classifiers.scores import ClassifierOutput, Evidence

# A call may pad its rows to at most this multiple of their real token count (see ``sub_batches``).
PADDING_SLACK: Final = 1.25
# Only the first ``max_len`` tokens are read, so only the start of a text is tokenised: this many
# characters per token of ``max_len``. A token covers at least one character, and tokenising a whole
# 1 MB text took 0.4-0.9 s here, long enough to time a batch out.
CHARS_PER_TOKEN_READ: Final = 8
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")
DEFAULT_MODEL_DIR: Final = Path(__file__).resolve().parent / "models" / "text-v4"
ONNX_FILE: Final = "model.int8.onnx"
# Evidence spans are worked out for a category whose score reaches this: far below any flag threshold a
# policy would set, and skipping the rest saves time on the many harmless texts.
EVIDENCE_FLOOR: Final = 0.2
# Spans of evidence per category.
EVIDENCE_SPANS: Final = 3
_LOGIT_CLIP: Final = 1e-6


def model_version(model_dir: Path) -> str:
    """Content hash of the files that decide the scores: weights, vocabulary, the n-gram model when there
    is one, and ``model.json``, which holds the combination and the maximum length (measured: cutting at
    64 tokens instead of 128 costs rumor 0.03 macro-F1)."""
    card = json.loads((model_dir / "model.json").read_text("utf-8"))
    digest = hashlib.sha256()
    for name in (ONNX_FILE, "vocab.txt", *([card["ngram"]] if card.get("ngram") else []), "model.json"):
        digest.update((model_dir / name).read_bytes())
    return digest.hexdigest()[:16]


def served_model_dir(configured: str) -> Path:
    """The model directory a worker serves: ``HUIYAN_MODEL_DIR``'s value, or the bundled model when empty."""
    return Path(configured) if configured else DEFAULT_MODEL_DIR


def versioned_name(model_dir: Path) -> str:
    """``name@content hash``, as every decision records the model that scored it."""
    card = json.loads((model_dir / "model.json").read_text("utf-8"))
    return f"{card['name']}@{model_version(model_dir)}"


class TextRiskModel:
    """The rumor / vulgar / impersonation classifier behind the pipeline's ``TextClassifier`` interface."""

    name = "huiyan-text"

    # One text per ONNX call: a text's score then never depends on its batch-mates (dynamic quantisation
    # scales activations per call), and on this CPU a call of one costs about as much per text as a call
    # of eight (measured on 600 register texts: 607-634 against 636-683 texts/s). ``batch_size`` above 1
    # groups texts of similar length, faster on some CPUs, but scores then move with the batch.
    def __init__(self, model_dir: Path = DEFAULT_MODEL_DIR, *, threads: int = 1, batch_size: int = 1) -> None:
        card = json.loads((model_dir / "model.json").read_text("utf-8"))
        self.categories: tuple[str, ...] = tuple(card["categories"])
        self.max_len: int = int(card["max_len"])
        self.ngram = NgramModel.load(model_dir / card["ngram"]) if card.get("ngram") else None
        # category -> weights of (transformer logit, n-gram logit) and bias; None: the transformer alone.
        self.combine: dict[str, tuple[float, float, float]] | None = None
        if card.get("combine"):
            self.combine = {
                c: (float(w["transformer"]), float(w["ngram"]), float(w["bias"]))
                for c, w in card["combine"].items()
            }
        self.version = versioned_name(model_dir)
        self.batch_size = batch_size
        self.tokenizer = BertWordPieceTokenizer(
            str(model_dir / "vocab.txt"),
            clean_text=True,
            handle_chinese_chars=True,
            strip_accents=None,
            lowercase=True,
        )
        self._cls = self.tokenizer.token_to_id("[CLS]")
        self._sep = self.tokenizer.token_to_id("[SEP]")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Without this, idle threads spin after each run and steal the core from the event loop (perf.md 5).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(
            str(model_dir / ONNX_FILE), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: Sequence[str]) -> tuple[list[list[int]], list[bool], list[int]]:
        """Token ids with [CLS]/[SEP], cut to ``max_len``; whether each was cut; its length in tokens
        (of its first ``CHARS_PER_TOKEN_READ * max_len`` characters, for a text longer than that).

        A lone surrogate, which the tokenizer refuses for the whole batch, is read as U+FFFD.
        """
        body = self.max_len - 2
        limit = CHARS_PER_TOKEN_READ * self.max_len
        starts = [_LONE_SURROGATE.sub("\ufffd", text[:limit]) for text in texts]
        ids, truncated, lengths = [], [], []
        for text, start, encoding in zip(
            texts, starts, self.tokenizer.encode_batch(starts, add_special_tokens=False), strict=True
        ):
            ids.append([self._cls, *encoding.ids[:body], self._sep])
            truncated.append(len(encoding.ids) > body or len(text) > len(start))
            lengths.append(len(encoding.ids) + 2)
        return ids, truncated, lengths

    def transformer_scores(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool], list[int]]:
        """texts x categories sigmoid scores of the transformer alone; whether each text was cut; tokens."""
        ids, truncated, lengths = self.encode(texts)
        scores = np.zeros((len(ids), len(self.categories)), dtype=np.float32)
        for rows in self.sub_batches([len(row) for row in ids]):
            width = max(len(ids[i]) for i in rows)
            input_ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                input_ids[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1
            (batch_scores,) = self.session.run(["scores"], {"input_ids": input_ids, "attention_mask": mask})
            scores[rows] = batch_scores
        return scores, truncated, lengths

    def predict_detailed(self, texts: Sequence[str]) -> list[ClassifierOutput]:
        scores, truncated, lengths = self.transformer_scores(texts)
        if self.ngram is not None and self.combine is not None:
            scores = self.combined(scores, self.ngram.logits(texts))
        outputs = []
        for text, row, cut, length in zip(texts, scores, truncated, lengths, strict=True):
            by_category = {c: float(s) for c, s in zip(self.categories, row, strict=True)}
            outputs.append(ClassifierOutput(by_category, cut, length, self.evidence(text, by_category)))
        return outputs

    def combined(self, transformer: np.ndarray, ngram_logits: np.ndarray) -> np.ndarray:
        """The calibrated probability per category from the transformer's scores and the n-gram logits."""
        assert self.combine is not None and self.ngram is not None
        clipped = np.clip(transformer.astype(np.float64), _LOGIT_CLIP, 1 - _LOGIT_CLIP)
        t_logits = np.log(clipped / (1 - clipped))
        out = np.empty_like(clipped)
        for column, category in enumerate(self.categories):
            w_t, w_n, bias = self.combine[category]
            n_column = self.ngram.categories.index(category)
            z = w_t * t_logits[:, column] + w_n * ngram_logits[:, n_column].astype(np.float64) + bias
            out[:, column] = 1.0 / (1.0 + np.exp(-z))
        return out.astype(np.float32)

    def evidence(self, text: str, scores: dict[str, float]) -> dict[str, tuple[Evidence, ...]]:
        """Per category scored at least ``EVIDENCE_FLOOR``, the spans whose n-grams raised it most."""
        if self.ngram is None:
            return {}
        found = {}
        for category, score in scores.items():
            if score >= EVIDENCE_FLOOR and category in self.ngram.categories:
                spans = self.ngram.evidence(text, category, limit=EVIDENCE_SPANS)
                found[category] = tuple(Evidence(s.start, s.end, s.text, round(s.weight, 4)) for s in spans)
        return found

    def sub_batches(self, lengths: Sequence[int]) -> list[list[int]]:
        """Indices grouped into ONNX calls: similar lengths together, at most ``batch_size`` per call.

        Every row is padded to the longest in its call. On this CPU a call of one text costs about as
        much per text as a call of eight, so a call only takes the next (longer) text while padding stays
        within ``PADDING_SLACK`` of the real tokens; small batches of mixed lengths otherwise spent half
        their time on padding (measured: 11.7 against 6.3 ms per text).
        """
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        groups: list[list[int]] = []
        current: list[int] = []
        tokens = 0
        for index in order:
            length = lengths[index]
            padded = length * (len(current) + 1)  # sorted ascending: this text sets the width
            if current and (len(current) == self.batch_size or padded > PADDING_SLACK * (tokens + length)):
                groups.append(current)
                current, tokens = [], 0
            current.append(index)
            tokens += length
        if current:
            groups.append(current)
        return groups

    def predict(self, texts: Sequence[str]) -> list[dict[str, float]]:
        return [p.scores for p in self.predict_detailed(texts)]
