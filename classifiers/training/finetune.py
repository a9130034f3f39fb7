"""Fine-tuning of the pre-trained encoder into one model with three sigmoid heads: rumor, vulgar,
impersonation (transformers' sequence-classification model for the encoder's architecture, with
``problem_type="multi_label_classification"``).

One shared encoder serves all three categories: perf.md measured it at about 3x the throughput of three
separate models on this CPU, and the model card compares the two on the dev sets.

Recipe (seeded, pinned data manifest ``finetune-manifest.json``):

- Examples come from :mod:`classifiers.data`. A text can carry labels for several tasks (a benign
  headline is 0 for all three); a label a dataset does not give is masked out of the loss, so a COLD
  comment teaches the vulgar head only.
- ``register/train/*.jsonl`` holds texts we wrote ourselves in the register of generated content
  (chatbot answers, AI-written posts, scam scripts, insults), labelled for all three tasks; the model
  card documents them. :mod:`classifiers.data` reads them with the shared sets; ``register/dev`` is
  only evaluated on.
- Batches are grouped by length (sorted within a shuffled pool) so little padding is computed.
- Texts are truncated to ``max_len`` tokens; serving truncates the same way.
- ``--layers 0,1`` keeps only those encoder layers: the served model's size, fine-tuned without a teacher
  (``huiyan train --direct``; the model card compares it with the distilled model).

Output: ``--output`` gets ``model.safetensors`` (fp16), ``config.json``, ``vocab.txt`` and
``finetune-log.json``. Export to ONNX for serving is ``classifiers.training.export``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModelForSequenceClassification, PreTrainedModel

from classifiers.data import DEFAULT_ROOT, TASKS, data_files, load_examples
from classifiers.training.manifest import verify_manifest, write_manifest
from classifiers.training.pretrain import adamw, load_tokenizer

REPO = Path(__file__).resolve().parents[2]
MANIFEST = Path(__file__).with_name("finetune-manifest.json")
ENCODER = REPO / "classifiers" / "models" / "encoder"
# Texts in the register of generated content (chatbot answers, AI-written posts, scam scripts, insults),
# written by Huiyan's developers for this purpose, labelled for all three tasks. Dev is never trained on.
AI_REGISTER_TRAIN = Path(__file__).parent / "register" / "train" / "early.jsonl"
AI_REGISTER_DEV = Path(__file__).parent / "register" / "dev" / "early.jsonl"


@dataclass(frozen=True)
class Recipe:
    seed: int = 20261125
    max_len: int = 128
    batch_size: int = 32
    # Three epochs at 2e-4 (the first model: two at 1e-4): the encoder is small and lightly pre-trained, so
    # most of what the heads know comes from here. About 50 minutes on the 2-core machine.
    epochs: float = 3.0
    lr: float = 2e-4
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    dropout: float = 0.1
    # Benign examples outnumber the harmful ones; keep this share of them per epoch.
    benign_keep: float = 0.5


@dataclass
class MultiLabelExample:
    text: str
    labels: list[float]  # per task in TASKS order; -1 = unknown for this text


def merge_examples(split: str, root: Path) -> list[MultiLabelExample]:
    """One row per distinct text of the split, with every task label the datasets give for it."""
    by_text: dict[str, list[float]] = defaultdict(lambda: [-1.0] * len(TASKS))
    for example in load_examples(root):
        if example.split == split:
            by_text[example.text][TASKS.index(example.task)] = float(example.label)
    return [MultiLabelExample(text, labels) for text, labels in by_text.items()]


def encode(tokenizer: Any, texts: list[str], max_len: int) -> list[list[int]]:
    """[CLS] + at most max_len - 2 tokens + [SEP], as serving does."""
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    encoded = tokenizer.encode_batch(texts, add_special_tokens=False)
    return [[cls, *e.ids[: max_len - 2], sep] for e in encoded]


def batches(ids: list[list[int]], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Index batches grouped by length: shuffle, sort pools of 50 batches by length, shuffle the batches."""
    order = list(range(len(ids)))
    rng.shuffle(order)
    pool = batch_size * 50
    result = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: len(ids[i]))
        result += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rng.shuffle(result)
    return result


def collate(ids: list[list[int]], rows: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(ids[i]) for i in rows)
    input_ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for r, i in enumerate(rows):
        input_ids[r, : len(ids[i])] = torch.tensor(ids[i])
        mask[r, : len(ids[i])] = 1
    return input_ids, mask


def masked_bce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    known = labels >= 0
    return torch.nn.functional.binary_cross_entropy_with_logits(logits[known], labels[known])


@torch.no_grad()
def logits_of(model: PreTrainedModel, ids: list[list[int]], batch_size: int = 64) -> np.ndarray:
    """The model's logits for every row of ``ids``, in eval mode, batched by length."""
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros((len(ids), model.config.num_labels), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        input_ids, mask = collate(ids, rows)
        out[rows] = model(input_ids=input_ids, attention_mask=mask).logits.numpy()
    return out


def predict(model: PreTrainedModel, ids: list[list[int]], batch_size: int = 64) -> np.ndarray:
    scores = torch.sigmoid(torch.from_numpy(logits_of(model, ids, batch_size))).numpy()
    model.train()
    return scores


@dataclass
class TrainingRun:
    steps: int
    started: float  # time.time() when the first step began
    history: list[dict[str, Any]]


def train_model(
    model: PreTrainedModel,
    train_ids: list[list[int]],
    benign: set[int],
    recipe: Recipe,
    *,
    lr: float,
    epochs: float,
    rng: random.Random,
    losses: Callable[[torch.Tensor, list[int]], dict[str, torch.Tensor]],
) -> TrainingRun:
    """The training loop of fine-tuning and distillation: AdamW with linear warm-up and decay, batches
    grouped by length, every non-benign text and a fresh ``benign_keep`` sample of the ``benign`` rows
    each epoch. ``losses(logits, rows)`` returns named loss terms for the batch of training rows
    ``rows``; the one named ``loss`` is minimised and all are logged every 100 steps."""
    model.train()
    optimizer = adamw(model, lr=lr, weight_decay=recipe.weight_decay)
    per_epoch = len(train_ids) - len(benign) + int(len(benign) * recipe.benign_keep)
    total_steps = int(per_epoch / recipe.batch_size * epochs)
    warmup = int(total_steps * recipe.warmup_ratio)
    run = TrainingRun(total_steps, time.time(), [])
    step = 0
    while step < total_steps:
        # Each epoch sees every harmful or partly-labelled text and a fresh sample of benign ones.
        chosen = [i for i in range(len(train_ids)) if i not in benign or rng.random() < recipe.benign_keep]
        subset = [train_ids[i] for i in chosen]
        for rows in batches(subset, recipe.batch_size, rng):
            if step >= total_steps:
                break
            step_lr = lr * min(
                (step + 1) / max(1, warmup), max(0.0, (total_steps - step) / (total_steps - warmup))
            )
            for group in optimizer.param_groups:
                group["lr"] = step_lr
            input_ids, mask = collate(subset, rows)
            terms = losses(model(input_ids=input_ids, attention_mask=mask).logits, [chosen[r] for r in rows])
            terms["loss"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step % 100 == 0 or step == total_steps:
                entry = {
                    "step": step,
                    "of": total_steps,
                    **{name: term.item() for name, term in terms.items()},
                    "lr": step_lr,
                    "minutes": (time.time() - run.started) / 60,
                }
                run.history.append(entry)
                print(json.dumps(entry), flush=True)
    return run


def save_model(model: PreTrainedModel, output: Path, vocab: Path) -> None:
    """fp16 safetensors, the transformers config and the vocabulary, for export and parity checks."""
    output.mkdir(parents=True, exist_ok=True)
    weights = {k: v.to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(weights, str(output / "model.safetensors"), metadata={"format": "pt"})
    model.config.save_pretrained(output)
    (output / "vocab.txt").write_bytes(vocab.read_bytes())


def dev_report(scores: np.ndarray, examples: list[MultiLabelExample]) -> dict[str, dict[str, float]]:
    from sklearn.metrics import f1_score, roc_auc_score

    labels = np.array([e.labels for e in examples])
    report = {}
    for t, task in enumerate(TASKS):
        known = labels[:, t] >= 0
        y, s = labels[known, t], scores[known, t]
        if len(set(y)) < 2:
            continue  # only in smoke runs on a few rows
        report[task] = {
            "n": int(known.sum()),
            "accuracy": float(((s >= 0.5) == (y == 1)).mean()),
            "f1": float(f1_score(y, s >= 0.5)),
            "macro_f1": float(f1_score(y, s >= 0.5, average="macro")),
            "roc_auc": float(roc_auc_score(y, s)),
        }
    return report


def keep_layers(model: PreTrainedModel, layers: tuple[int, ...]) -> PreTrainedModel:
    """``model`` with only ``layers`` of its encoder (in that order); embeddings and heads as they are."""
    encoder: Any = model.base_model.encoder  # typed as a Module or Tensor attribute by torch
    encoder.layer = torch.nn.ModuleList([encoder.layer[i] for i in layers])
    model.config.num_hidden_layers = len(layers)
    return model


def build_model(recipe: Recipe, encoder_dir: Path, layers: tuple[int, ...] | None = None) -> PreTrainedModel:
    """The pre-trained encoder with three fresh heads; ``layers``: keep only these encoder layers."""
    config = AutoConfig.from_pretrained(encoder_dir)
    config.num_labels = len(TASKS)
    config.problem_type = "multi_label_classification"
    config.id2label = dict(enumerate(TASKS))
    config.label2id = {t: i for i, t in enumerate(TASKS)}
    config.hidden_dropout_prob = recipe.dropout
    model = AutoModelForSequenceClassification.from_config(config)
    encoder = {k: v.float() for k, v in load_file(str(encoder_dir / "encoder.safetensors")).items()}
    missing, unexpected = model.base_model.load_state_dict(encoder, strict=False)
    # A pooler (BERT's) is not trained by masked-LM pre-training; it starts fresh here like the heads.
    assert not unexpected and all(k.startswith("pooler.") for k in missing), (missing, unexpected)
    return keep_layers(model, layers) if layers else model


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--encoder", type=Path, default=ENCODER)
    parser.add_argument("--output", type=Path, default=REPO / "build" / "teacher")
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--epochs", type=float)
    parser.add_argument("--limit", type=int, help="use only this many training rows (smoke runs)")
    parser.add_argument(
        "--only-task",
        choices=TASKS,
        help="train on the texts labelled for this task (and the benign ones) only: a single-task model "
        "for comparing with the shared one",
    )
    parser.add_argument("--layers", help="encoder layers to keep, e.g. 0,1 (default: all)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--write-manifest", action="store_true")
    args = parser.parse_args()

    recipe = Recipe(**({"epochs": args.epochs} if args.epochs else {}))
    random.seed(recipe.seed)
    np.random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    torch.set_num_threads(args.threads)
    if args.write_manifest:
        write_manifest(
            args.data_root, data_files(args.data_root), MANIFEST, "fine-tuning data (classifiers/data.py)"
        )
    data_hashes = verify_manifest(args.data_root, MANIFEST)

    tokenizer = load_tokenizer(args.encoder / "vocab.txt")
    rng = random.Random(recipe.seed)
    train = merge_examples("train", args.data_root)
    dev = merge_examples("dev", args.data_root)
    if args.only_task:
        column = TASKS.index(args.only_task)
        train = [e for e in train if e.labels[column] >= 0]
        dev = [e for e in dev if e.labels[column] >= 0]
    if args.limit:
        rng.shuffle(train)
        rng.shuffle(dev)
        train, dev = train[: args.limit], dev[: args.limit]
    benign = {i for i, e in enumerate(train) if all(label == 0 for label in e.labels)}
    train_ids = encode(tokenizer, [e.text for e in train], recipe.max_len)
    dev_ids = encode(tokenizer, [e.text for e in dev], recipe.max_len)
    labels = torch.tensor([e.labels for e in train], dtype=torch.float32)
    print(f"train {len(train)} texts ({len(benign)} benign), dev {len(dev)}", flush=True)

    layers = tuple(int(i) for i in args.layers.split(",")) if args.layers else None
    model = build_model(recipe, args.encoder, layers)
    run = train_model(
        model,
        train_ids,
        benign,
        recipe,
        lr=recipe.lr,
        epochs=recipe.epochs,
        rng=rng,
        losses=lambda logits, rows: {"loss": masked_bce(logits, labels[rows])},
    )

    report = dev_report(predict(model, dev_ids), dev)
    print(json.dumps(report, indent=1), flush=True)
    save_model(model, args.output, args.encoder / "vocab.txt")
    log = {
        "recipe": asdict(recipe),
        "encoder_layers": list(layers) if layers else "all",
        "data_sha256": data_hashes,
        "train_texts": len(train),
        "dev_texts": len(dev),
        "steps": run.steps,
        "minutes": (time.time() - run.started) / 60,
        "dev_at_0.5": report,
        "history": run.history,
    }
    (args.output / "finetune-log.json").write_text(
        json.dumps(log, ensure_ascii=False, indent=1) + "\n", "utf-8"
    )


def ai_register_examples(path: Path = AI_REGISTER_TRAIN) -> list[MultiLabelExample]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [MultiLabelExample(r["text"], [float(r[task]) for task in TASKS]) for r in rows]


if __name__ == "__main__":
    main()
