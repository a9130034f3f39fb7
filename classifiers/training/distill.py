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
from safetensors.torch import save_file
from transformers import AutoModelForSequenceClassification, PreTrainedModel

from classifiers.data import DEFAULT_ROOT
from classifiers.training.finetune import (
    MANIFEST,
    Recipe,
    ai_register_examples,
    batches,
    collate,
    dev_report,
    encode,
    masked_bce,
    merge_examples,
    predict,
)
from classifiers.training.manifest import verify_manifest
from classifiers.training.pretrain import adamw, load_tokenizer

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


@torch.no_grad()
def logits_of(model: PreTrainedModel, ids: list[list[int]], batch_size: int = 64) -> np.ndarray:
    model.eval()
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.zeros((len(ids), model.config.num_labels), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        input_ids, mask = collate(ids, rows)
        out[rows] = model(input_ids=input_ids, attention_mask=mask).logits.numpy()
    return out


def student_of(teacher_dir: Path, layers: tuple[int, ...], dropout: float) -> PreTrainedModel:
    """The teacher with only ``layers`` of its encoder, heads and embeddings as they are."""
    model = AutoModelForSequenceClassification.from_pretrained(teacher_dir, dtype=torch.float32)
    encoder = model.base_model.encoder
    encoder.layer = torch.nn.ModuleList([encoder.layer[i] for i in layers])
    model.config.num_hidden_layers = len(layers)
    model.config.hidden_dropout_prob = dropout
    return model


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
    parser.add_argument("--output", type=Path, default=REPO / "classifiers" / "models" / "text-v3")
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
    train = merge_examples("train", args.data_root) + ai_register_examples()
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

    model = student_of(args.teacher, recipe.layers, base.dropout)
    model.train()
    optimizer = adamw(model, lr=recipe.lr, weight_decay=base.weight_decay)
    per_epoch = len(train) - len(benign) + int(len(benign) * base.benign_keep)
    total_steps = int(per_epoch / base.batch_size * recipe.epochs)
    warmup = int(total_steps * base.warmup_ratio)
    history: list[dict[str, Any]] = []
    step, started = 0, time.time()
    while step < total_steps:
        chosen = [i for i in range(len(train)) if i not in benign or rng.random() < base.benign_keep]
        subset = [train_ids[i] for i in chosen]
        for rows in batches(subset, base.batch_size, rng):
            if step >= total_steps:
                break
            lr = recipe.lr * min(
                (step + 1) / max(1, warmup), max(0.0, (total_steps - step) / (total_steps - warmup))
            )
            for group in optimizer.param_groups:
                group["lr"] = lr
            input_ids, mask = collate(subset, rows)
            index = [chosen[r] for r in rows]
            logits = model(input_ids=input_ids, attention_mask=mask).logits
            hard = masked_bce(logits, labels[index])
            soft = soft_bce(logits, teacher_logits[index], recipe.temperature)
            loss = (1 - recipe.alpha) * hard + recipe.alpha * soft
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            if step % 100 == 0 or step == total_steps:
                entry = {
                    "step": step,
                    "of": total_steps,
                    "loss": loss.item(),
                    "hard": hard.item(),
                    "soft": soft.item(),
                    "lr": lr,
                    "minutes": (time.time() - started) / 60,
                }
                history.append(entry)
                print(json.dumps(entry), flush=True)

    report = dev_report(predict(model, dev_ids), dev)
    print(json.dumps(report, indent=1), flush=True)
    args.output.mkdir(parents=True, exist_ok=True)
    weights = {k: v.to(torch.float16).contiguous() for k, v in model.state_dict().items()}
    save_file(weights, str(args.output / "model.safetensors"), metadata={"format": "pt"})
    model.config.save_pretrained(args.output)
    (args.output / "vocab.txt").write_bytes((args.teacher / "vocab.txt").read_bytes())
    log = {
        "recipe": asdict(recipe),
        "fine_tuning_recipe": asdict(base),
        "teacher": {"dir": args.teacher.name, "sha256_16": version},
        "data_sha256": data_hashes,
        "train_texts": len(train),
        "dev_texts": len(dev),
        "steps": total_steps,
        "minutes": (time.time() - started) / 60,
        "dev_at_0.5": report,
        "history": history,
    }
    (args.output / "distill-log.json").write_text(
        json.dumps(log, ensure_ascii=False, indent=1) + "\n", "utf-8"
    )


if __name__ == "__main__":
    main()
