"""Masked-LM pre-training of Huiyan's small Chinese BERT encoder from scratch, on CPU.

Recipe (all fixed here, seeded, resumable):

1. Data: the unlabeled corpus in ../shared/datasets/unlabeled (pinned by ``pretrain-manifest.json``).
   CCTV 新闻联播 transcripts (``news-xwlb-*``, 22 % of the bytes, formal and political) are
   down-sampled to 30 % so informal user text keeps its weight.
2. Vocabulary: bert-base-chinese's ``vocab.txt`` pruned to the tokens seen at least ``min_count``
   times in that corpus (plus special tokens and printable ASCII), which shrinks the embedding matrix
   (most of a small model's weights) without changing tokenization of common text.
   The Fudan Weibo word-segmentation set (``weibo-fudan-wordseg``) is left out: its licence asks for a
   signed agreement form that Huiyan has not signed.
3. Sequences: documents joined with [SEP] and cut into blocks of ``seq_len`` tokens ([CLS] ... [SEP]);
   blocks are drawn at random offsets, so no padding is computed.
4. Objective: BERT masking (25 % of tokens; 80 % [MASK], 10 % random token, 10 % unchanged). The
   vocabulary projection runs on masked positions only, which saves about 40 % of the compute here.
5. Architecture: a pre-LayerNorm encoder (``roberta-prelayernorm`` in transformers: LayerNorm before
   attention and feed-forward, BERT's layers otherwise), its learned position embeddings started as
   scaled sinusoids. ONNX Runtime fuses its attention like BERT's.
6. Checkpoints every ``checkpoint_every`` steps to ``--work-dir``; a rerun resumes from the last one.

What it achieves here (``models/encoder/pretrain-log.json``): 1,200 steps of 32 blocks (about 5 M
tokens, 35 minutes on 2 cores) reach a held-out masked-token accuracy of 12.8 %, little above the
unigram plateau that post-LN BERT with random positions also reached. The encoder knows character
statistics and some local context; it is far from a useful language model, which needs one to two
orders of magnitude more compute.

Output: ``--output`` gets ``config.json``, ``vocab.txt``, ``encoder.safetensors`` (the encoder, fp16)
and ``pretrain-log.json`` (settings, data hashes, loss and masked-token accuracy on held-out blocks).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import BertWordPieceTokenizer
from transformers import RobertaPreLayerNormConfig, RobertaPreLayerNormForMaskedLM

from classifiers.training.manifest import verify_manifest, write_manifest

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO.parent / "shared" / "datasets"
MANIFEST = Path(__file__).with_name("pretrain-manifest.json")
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


@dataclass(frozen=True)
class Recipe:
    seed: int = 20261125
    xwlb_keep: float = 0.30
    min_count: int = 5
    seq_len: int = 128
    hidden: int = 256
    layers: int = 4
    heads: int = 4
    intermediate: int = 1024
    # Position ids start after the padding id (RoBERTa's convention), hence 512 + 2.
    max_positions: int = 514
    # Sized for about 80 minutes on the 2-core development machine (1.4-2.0 s/step measured, depending
    # on what else runs).
    batch_size: int = 32
    steps: int = 1200
    lr: float = 7e-4
    warmup_steps: int = 200
    weight_decay: float = 0.01
    # More predictions per step than BERT's 15 %: the budget is compute, not data (Wettig et al. 2023).
    mask_prob: float = 0.25
    # Absolute position embeddings start as scaled sinusoids (Vaswani et al.) instead of noise, so
    # attention can find neighbouring characters at once; two runs with random positions sat on the
    # unigram plateau (about 12 % masked accuracy) for hundreds of steps.
    position_init: str = "sinusoidal"
    checkpoint_every: int = 100
    heldout_blocks: int = 512


# Left out of the corpus: its licence requires a signed agreement form (see the module docstring).
EXCLUDED = ("weibo-fudan-wordseg",)


def corpus_files() -> list[Path]:
    return sorted(
        p
        for p in (DATASETS / "unlabeled").glob("*.txt")
        if not p.name.startswith("vocab") and not p.name.startswith(EXCLUDED)
    )


def read_documents(recipe: Recipe) -> list[str]:
    rng = random.Random(recipe.seed)
    docs: list[str] = []
    for path in corpus_files():
        keep = recipe.xwlb_keep if path.name.startswith("news-xwlb") else 1.0
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if line and (keep >= 1.0 or rng.random() < keep):
                    docs.append(line)
    return docs


def load_tokenizer(vocab_path: Path) -> BertWordPieceTokenizer:
    """BERT's tokenization (clean text, split CJK characters, lower-case, WordPiece), as serving does."""
    return BertWordPieceTokenizer(
        str(vocab_path), clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=True
    )


def adamw(model: torch.nn.Module, *, lr: float, weight_decay: float, **options: Any) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not on biases and LayerNorm weights), as BERT trains."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, **options)


def encode_all(tokenizer: BertWordPieceTokenizer, docs: list[str]) -> list[list[int]]:
    ids: list[list[int]] = []
    for start in range(0, len(docs), 5000):
        ids += [e.ids for e in tokenizer.encode_batch(docs[start : start + 5000], add_special_tokens=False)]
    return ids


def build_vocab(docs: list[str], recipe: Recipe, out: Path) -> list[str]:
    """bert-base-chinese's vocabulary, pruned to what the corpus uses; order kept, specials first."""
    full = load_tokenizer(DATASETS / "unlabeled" / "vocab-bert-base-chinese.txt")
    counts: Counter[int] = Counter()
    for ids in encode_all(full, docs):
        counts.update(ids)
    vocab_in_order = [t for t, _ in sorted(full.get_vocab().items(), key=lambda kv: kv[1])]
    ascii_tokens = {chr(c) for c in range(33, 127)}
    keep = [
        token
        for index, token in enumerate(vocab_in_order)
        if token not in SPECIAL and (counts[index] >= recipe.min_count or token.lower() in ascii_tokens)
    ]
    vocab = SPECIAL + keep
    (out / "vocab.txt").write_text("\n".join(vocab) + "\n", "utf-8")
    return vocab


def tokenize_corpus(docs: list[str], tokenizer: BertWordPieceTokenizer) -> np.ndarray:
    sep = tokenizer.token_to_id("[SEP]")
    return np.concatenate([np.asarray([*ids, sep], dtype=np.uint16) for ids in encode_all(tokenizer, docs)])


class Blocks:
    """Random fixed-length blocks of the token stream, [CLS] + (seq_len - 2) tokens + [SEP]."""

    def __init__(self, stream: np.ndarray, seq_len: int, cls_id: int, sep_id: int) -> None:
        self.stream = stream
        self.body = seq_len - 2
        self.cls_id, self.sep_id = cls_id, sep_id

    def at(self, offsets: np.ndarray) -> torch.Tensor:
        rows = np.stack([self.stream[o : o + self.body] for o in offsets]).astype(np.int64)
        cls = np.full((len(offsets), 1), self.cls_id, dtype=np.int64)
        sep = np.full((len(offsets), 1), self.sep_id, dtype=np.int64)
        return torch.from_numpy(np.concatenate([cls, rows, sep], axis=1))

    def sample(self, rng: np.random.Generator, count: int, low: int, high: int) -> torch.Tensor:
        return self.at(rng.integers(low, high - self.body, size=count))


def mask_tokens(
    ids: torch.Tensor, recipe: Recipe, vocab_size: int, special_max: int, mask_id: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT masking; returns (inputs, labels) with labels -100 where nothing is predicted."""
    labels = ids.clone()
    candidates = ids > special_max  # never mask [PAD] [UNK] [CLS] [SEP] [MASK]
    chosen = (torch.rand(ids.shape, generator=gen) < recipe.mask_prob) & candidates
    labels[~chosen] = -100
    inputs = ids.clone()
    roll = torch.rand(ids.shape, generator=gen)
    inputs[chosen & (roll < 0.8)] = mask_id
    random_positions = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[random_positions] = torch.randint(special_max + 1, vocab_size, ids.shape, generator=gen)[
        random_positions
    ]
    return inputs, labels


def mlm_loss(
    model: RobertaPreLayerNormForMaskedLM, inputs: torch.Tensor, labels: torch.Tensor
) -> tuple[torch.Tensor, float]:
    """Cross-entropy on masked positions only (the vocabulary projection skips the others)."""
    hidden = model.roberta_prelayernorm(input_ids=inputs).last_hidden_state
    selected = labels != -100
    logits = model.lm_head(hidden[selected])
    targets = labels[selected]
    loss = torch.nn.functional.cross_entropy(logits, targets)
    accuracy = (logits.argmax(-1) == targets).float().mean().item()
    return loss, accuracy


def sinusoidal_positions(embedding: torch.nn.Embedding, like: torch.nn.Embedding) -> None:
    """Fills ``embedding`` with sinusoids scaled to the spread of ``like`` (the token embeddings)."""
    count, dim = embedding.weight.shape
    position = torch.arange(count, dtype=torch.float32).unsqueeze(1)
    frequency = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(count, dim)
    table[:, 0::2] = torch.sin(position * frequency)
    table[:, 1::2] = torch.cos(position * frequency)
    with torch.no_grad():
        embedding.weight.copy_(table * (like.weight.std() / table.std()))


def lr_at(step: int, recipe: Recipe) -> float:
    if step < recipe.warmup_steps:
        return recipe.lr * (step + 1) / recipe.warmup_steps
    progress = (step - recipe.warmup_steps) / max(1, recipe.steps - recipe.warmup_steps)
    return recipe.lr * max(0.0, 1.0 - progress)


@torch.no_grad()
def evaluate(
    model: RobertaPreLayerNormForMaskedLM, held: torch.Tensor, recipe: Recipe, vocab: int, mask_id: int
) -> dict[str, float]:
    model.eval()
    gen = torch.Generator().manual_seed(recipe.seed + 1)
    losses, accs = [], []
    for start in range(0, len(held), 64):
        inputs, labels = mask_tokens(held[start : start + 64], recipe, vocab, 4, mask_id, gen)
        loss, acc = mlm_loss(model, inputs, labels)
        losses.append(loss.item())
        accs.append(acc)
    model.train()
    return {"loss": float(np.mean(losses)), "masked_accuracy": float(np.mean(accs))}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=REPO / "classifiers" / "models" / "encoder")
    parser.add_argument("--work-dir", type=Path, default=Path.home() / ".cache" / "huiyan" / "pretrain")
    parser.add_argument("--steps", type=int, help="override the recipe's step count")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--write-manifest", action="store_true", help="pin the current corpus files")
    parser.add_argument("--benchmark", type=int, default=0, help="time N steps and exit")
    args = parser.parse_args()

    recipe = Recipe(**({"steps": args.steps} if args.steps else {}))
    torch.manual_seed(recipe.seed)
    torch.set_num_threads(args.threads)
    if args.write_manifest:
        write_manifest(
            DATASETS, corpus_files(), MANIFEST, "MLM pre-training corpus (classifiers/training/pretrain.py)"
        )
    data_hashes = verify_manifest(DATASETS, MANIFEST)

    args.work_dir.mkdir(parents=True, exist_ok=True)
    args.output.mkdir(parents=True, exist_ok=True)
    stream_path = args.work_dir / "stream.npy"
    # The token stream and vocabulary depend on the corpus files and these recipe fields only.
    corpus_key = json.dumps(
        {"data": data_hashes, "xwlb_keep": recipe.xwlb_keep, "min_count": recipe.min_count}, sort_keys=True
    )
    corpus_stamp = args.work_dir / "corpus.json"
    stale = not corpus_stamp.exists() or corpus_stamp.read_text("utf-8") != corpus_key
    if stale or not stream_path.exists() or not (args.work_dir / "vocab.txt").exists():
        started = time.time()
        docs = read_documents(recipe)
        vocab = build_vocab(docs, recipe, args.work_dir)
        stream = tokenize_corpus(docs, load_tokenizer(args.work_dir / "vocab.txt"))
        np.save(stream_path, stream)
        corpus_stamp.write_text(corpus_key, "utf-8")
        print(
            f"corpus: {len(docs)} documents, {len(stream)} tokens, vocab {len(vocab)} "
            f"({time.time() - started:.0f}s)",
            flush=True,
        )
    tokenizer = load_tokenizer(args.work_dir / "vocab.txt")
    stream = np.load(stream_path)
    vocab_size = tokenizer.get_vocab_size()
    mask_id = tokenizer.token_to_id("[MASK]")
    blocks = Blocks(stream, recipe.seq_len, tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]"))
    # The last 1 % of the stream is held out for the reported loss and accuracy.
    split = int(len(stream) * 0.99)
    held = blocks.at(np.linspace(split, len(stream) - recipe.seq_len, recipe.heldout_blocks).astype(np.int64))

    config = RobertaPreLayerNormConfig(
        vocab_size=vocab_size,
        hidden_size=recipe.hidden,
        num_hidden_layers=recipe.layers,
        num_attention_heads=recipe.heads,
        intermediate_size=recipe.intermediate,
        max_position_embeddings=recipe.max_positions,
        type_vocab_size=2,
        pad_token_id=0,
        bos_token_id=tokenizer.token_to_id("[CLS]"),
        eos_token_id=tokenizer.token_to_id("[SEP]"),
    )
    model = RobertaPreLayerNormForMaskedLM(config)
    if recipe.position_init == "sinusoidal":
        embeddings = model.roberta_prelayernorm.embeddings
        sinusoidal_positions(embeddings.position_embeddings, embeddings.word_embeddings)
    optimizer = adamw(model, lr=recipe.lr, weight_decay=recipe.weight_decay, betas=(0.9, 0.98), eps=1e-6)
    step = 0
    history: list[dict[str, Any]] = []
    rng = np.random.default_rng(recipe.seed)
    gen = torch.Generator().manual_seed(recipe.seed)
    checkpoint = args.work_dir / "checkpoint.pt"
    if checkpoint.exists() and not args.benchmark:
        state = torch.load(checkpoint, weights_only=False)
        if state.get("recipe") != {**asdict(recipe), "steps": state.get("recipe", {}).get("steps")}:
            raise SystemExit(
                f"{checkpoint} was written by another recipe ({state.get('recipe')}); "
                "move it away or use another --work-dir"
            )
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, history = state["step"], state["history"]
        rng.bit_generator.state = state["numpy_rng"]
        gen.set_state(state["torch_rng"])
        print(f"resumed at step {step}", flush=True)

    model.train()
    window_loss, window_acc, window_started = [], [], time.time()
    target = args.benchmark or recipe.steps
    while step < target:
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, recipe)
        ids = blocks.sample(rng, recipe.batch_size, 0, split)
        inputs, labels = mask_tokens(ids, recipe, vocab_size, 4, mask_id, gen)
        loss, acc = mlm_loss(model, inputs, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        window_loss.append(loss.item())
        window_acc.append(acc)
        if args.benchmark and step == target:
            elapsed = time.time() - window_started
            print(
                f"benchmark: {elapsed / step:.3f} s/step, {recipe.batch_size * step / elapsed:.1f} blocks/s"
            )
            return
        if step % recipe.checkpoint_every == 0 or step == recipe.steps:
            elapsed = time.time() - window_started
            entry = {
                "step": step,
                "train_loss": float(np.mean(window_loss)),
                "train_masked_accuracy": float(np.mean(window_acc)),
                "lr": lr_at(step - 1, recipe),
                "s_per_step": elapsed / len(window_loss),
            }
            if step % (recipe.checkpoint_every * 5) == 0 or step == recipe.steps:
                entry.update(
                    {f"heldout_{k}": v for k, v in evaluate(model, held, recipe, vocab_size, mask_id).items()}
                )
            history.append(entry)
            print(json.dumps(entry), flush=True)
            window_loss, window_acc, window_started = [], [], time.time()
            tmp = checkpoint.with_suffix(".tmp")
            torch.save(
                {
                    "model": model.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "step": step,
                    "recipe": asdict(recipe),
                    "history": history,
                    "numpy_rng": rng.bit_generator.state,
                    "torch_rng": gen.get_state(),
                },
                tmp,
            )
            tmp.replace(checkpoint)

    final = evaluate(model, held, recipe, vocab_size, mask_id)
    weights = model.roberta_prelayernorm.state_dict()
    encoder = {k: v.to(torch.float16).contiguous() for k, v in weights.items()}
    save_file(encoder, str(args.output / "encoder.safetensors"), metadata={"format": "pt"})
    config.save_pretrained(args.output)
    (args.output / "vocab.txt").write_bytes((args.work_dir / "vocab.txt").read_bytes())
    log = {
        "recipe": asdict(recipe),
        "data_sha256": data_hashes,
        "tokens_in_stream": len(stream),
        "vocab_size": vocab_size,
        "heldout": final,
        "history": history,
        "parameters": sum(p.numel() for p in model.roberta_prelayernorm.parameters()),
    }
    (args.output / "pretrain-log.json").write_text(
        json.dumps(log, ensure_ascii=False, indent=1) + "\n", "utf-8"
    )
    print(
        f"done: held-out loss {final['loss']:.3f}, masked accuracy {final['masked_accuracy']:.3f}; "
        f"perplexity {math.exp(final['loss']):.1f}",
        flush=True,
    )


if __name__ == "__main__":
    main()
