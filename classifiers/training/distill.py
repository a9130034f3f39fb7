"""Distillation of the fine-tuned classifier into a shallower student with the same heads.

The fine-tuned model (``finetune.py``, 4 layers) is the teacher. The student starts as a copy of the
teacher with only some of its layers (``--layers``, the lower ones by default: measured on 3,000 dev
texts before any training, keeping layers 0-1 of 4 lost 0.036 rumor macro-F1, keeping 0 and 3 lost
0.13), then trains on the same texts and the same recipe as fine-tuning, against two targets at once:

- the labels, with the masked binary cross-entropy of fine-tuning (a label a dataset does not give is
  left out);
- the teacher's scores for **all three** categories of every text, softened by ``temperature``
  (binary cross-entropy between ``sigmoid(z_student / T)`` and ``sigmoid(z_teacher / T)``, times T²).
  A COLD comment has no rumor label, but the teacher's rumor score still teaches the student.

``loss = (1 - alpha) * labels + alpha * teacher``. The teacher's logits are computed once, before
training (``--teacher-cache`` keeps them between runs).

Output, as ``finetune.py``'s: ``model.safetensors`` (fp16), ``config.json``, ``vocab.txt`` and
``distill-log.json`` with the recipe, the teacher's version and the data hashes. Export for serving is
``classifiers.training.export``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, PreTrainedModel

from classifiers.data import DEFAULT_ROOT
from classifiers.training.finetune import (
    MANIFEST,
    Recipe,
    dev_report,
    encode,
    keep_layers,
    logits_of,
    masked_bce,
    merge_examples,
    predict,
    save_model,
    train_model,
)
from classifiers.training.manifest import verify_manifest
from classifiers.training.pretrain import load_tokenizer

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DistillRecipe:
    seed: int = 20261202
    layers: tuple[int, ...] = (0, 1)
    epochs: float = 2.0
    lr: float = 1e-4
    temperature: float = 2.0
    alpha: float = 0.5


def teacher_version(teacher_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in ("model.safetensors", "config.json", "vocab.txt"):
        digest.update((teacher_dir / name).read_bytes())
    return digest.hexdigest()[:16]


def student_of(teacher_dir: Path, layers: tuple[int, ...], dropout: float) -> PreTrainedModel:
    """The teacher with only ``layers`` of its encoder, heads and embeddings as they are."""
    model = AutoModelForSequenceClassification.from_pretrained(teacher_dir, dtype=torch.float32)
    model.config.hidden_dropout_prob = dropout
    return keep_layers(model, layers)


def soft_bce(student: torch.Tensor, teacher: torch.Tensor, temperature: float) -> torch.Tensor:
    target = torch.sigmoid(teacher / temperature)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(student / temperature, target)
    return loss * temperature**2


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--teacher", type=Path, default=REPO / "build" / "teacher", help="a finetune.py output directory"
    )
    parser.add_argument("--output", type=Path, default=REPO / "classifiers" / "models" / "text-v4")
    parser.add_argument("--data-root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--layers", help="teacher layers the student keeps, e.g. 0,1")
    parser.add_argument("--epochs", type=float)
    parser.add_argument("--limit", type=int, help="use only this many training rows (smoke runs)")
    parser.add_argument("--teacher-cache", type=Path, help="an .npy file for the teacher's logits")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    base = Recipe()
    overrides: dict[str, Any] = {}
    if args.layers:
        overrides["layers"] = tuple(int(i) for i in args.layers.split(","))
    if args.epochs:
        overrides["epochs"] = args.epochs
    recipe = DistillRecipe(**overrides)
    random.seed(recipe.seed)
    np.random.seed(recipe.seed)
    torch.manual_seed(recipe.seed)
    torch.set_num_threads(args.threads)
    data_hashes = verify_manifest(args.data_root, MANIFEST)

    tokenizer = load_tokenizer(args.teacher / "vocab.txt")
    rng = random.Random(recipe.seed)
    train = merge_examples("train", args.data_root)
    dev = merge_examples("dev", args.data_root)
    if args.limit:
        rng.shuffle(train)
        rng.shuffle(dev)
        train, dev = train[: args.limit], dev[: args.limit]
    benign = {i for i, e in enumerate(train) if all(label == 0 for label in e.labels)}
    train_ids = encode(tokenizer, [e.text for e in train], base.max_len)
    dev_ids = encode(tokenizer, [e.text for e in dev], base.max_len)
    labels = torch.tensor([e.labels for e in train], dtype=torch.float32)
    print(f"train {len(train)} texts ({len(benign)} benign), dev {len(dev)}", flush=True)

    started = time.time()
    version = teacher_version(args.teacher)
    if args.teacher_cache and args.teacher_cache.exists() and not args.limit:
        cached = np.load(args.teacher_cache, allow_pickle=False)
        assert cached.shape[0] == len(train), "teacher cache is for other data"
        teacher_logits = torch.from_numpy(cached)
    else:
        teacher = AutoModelForSequenceClassification.from_pretrained(args.teacher, dtype=torch.float32)
        teacher_logits = torch.from_numpy(logits_of(teacher, train_ids))
        del teacher
        if args.teacher_cache and not args.limit:
            np.save(args.teacher_cache, teacher_logits.numpy())
    print(f"teacher logits in {(time.time() - started) / 60:.1f} min", flush=True)

    def losses(logits: torch.Tensor, rows: list[int]) -> dict[str, torch.Tensor]:
        hard = masked_bce(logits, labels[rows])
        soft = soft_bce(logits, teacher_logits[rows], recipe.temperature)
        return {"loss": (1 - recipe.alpha) * hard + recipe.alpha * soft, "hard": hard, "soft": soft}

    model = student_of(args.teacher, recipe.layers, base.dropout)
    run = train_model(
        model, train_ids, benign, base, lr=recipe.lr, epochs=recipe.epochs, rng=rng, losses=losses
    )

    report = dev_report(predict(model, dev_ids), dev)
    print(json.dumps(report, indent=1), flush=True)
    save_model(model, args.output, args.teacher / "vocab.txt")
    log = {
        "recipe": asdict(recipe),
        "fine_tuning_recipe": asdict(base),
        "teacher": {"dir": args.teacher.name, "sha256_16": version},
        "data_sha256": data_hashes,
        "train_texts": len(train),
        "dev_texts": len(dev),
        "steps": run.steps,
        "minutes": (time.time() - run.started) / 60,
        "dev_at_0.5": report,
        "history": run.history,
    }
    (args.output / "distill-log.json").write_text(
        json.dumps(log, ensure_ascii=False, indent=1) + "\n", "utf-8"
    )


if __name__ == "__main__":
    main()
