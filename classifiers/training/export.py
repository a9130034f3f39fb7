"""Export of the fine-tuned model for serving: ONNX (eager attention), ONNX Runtime's BERT fusions,
then dynamic int8 quantisation with signed weights (perf.md: the fastest runtime on this CPU).

Writes into the model directory: ``model.int8.onnx`` and ``model.json`` (name, categories, maximum
length, thresholds measured elsewhere are not set here). Prints the largest score difference between
the torch model and the served ONNX model on a probe set, which ``tests/unit/classifiers`` also checks.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.transformers.optimizer import optimize_model
from transformers import AutoModelForSequenceClassification, PreTrainedModel

from classifiers.text_model import DEFAULT_MODEL_DIR, ONNX_FILE

REPO = Path(__file__).resolve().parents[2]


class ScoringModel(torch.nn.Module):
    """The classifier with its sigmoid, so the ONNX graph returns scores."""

    def __init__(self, model: PreTrainedModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.model(input_ids=input_ids, attention_mask=attention_mask).logits)


def load_torch_model(model_dir: Path) -> PreTrainedModel:
    # Eager attention exports to the pattern ONNX Runtime's optimizer fuses (perf.md); SDPA does not.
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").float()
    model.eval()
    return model


def export(model_dir: Path, max_len: int) -> Path:
    model = load_torch_model(model_dir)
    config = model.config
    dummy_ids = torch.tensor([[2] + [100] * 10 + [3]] * 2)
    dummy_mask = torch.ones_like(dummy_ids)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "model.onnx"
        torch.onnx.export(
            ScoringModel(model),
            (dummy_ids, dummy_mask),
            str(raw),
            input_names=["input_ids", "attention_mask"],
            output_names=["scores"],
            opset_version=17,
            dynamo=False,
            dynamic_axes={
                "input_ids": {0: "batch", 1: "sequence"},
                "attention_mask": {0: "batch", 1: "sequence"},
                "scores": {0: "batch"},
            },
        )
        fused = Path(tmp) / "model.fused.onnx"
        optimized = optimize_model(
            str(raw), model_type="bert", num_heads=config.num_attention_heads, hidden_size=config.hidden_size
        )
        optimized.save_model_to_file(str(fused))
        print("fused operators:", {k: v for k, v in optimized.get_fused_operator_statistics().items() if v})
        target = model_dir / ONNX_FILE
        # Fused ops (Attention, SkipLayerNormalization) are in the com.microsoft domain, where shape
        # inference cannot type every tensor; they are all float.
        quantize_dynamic(
            str(fused),
            str(target),
            weight_type=QuantType.QInt8,
            # One scale per output channel: the largest torch/ONNX score difference on the probe texts fell
            # from 0.027 to 0.019 with it, at the same speed.
            per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    onnx.checker.check_model(str(target))
    card = {
        "name": model_dir.name,
        "categories": [(config.id2label or {})[i] for i in range(config.num_labels)],
        "max_len": max_len,
        "architecture": f"{config.model_type} {config.num_hidden_layers} layers, "
        f"hidden {config.hidden_size}, {config.num_attention_heads} heads, vocab {config.vocab_size}, "
        "3 sigmoid heads",
    }
    (model_dir / "model.json").write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return target


def parity(model_dir: Path, texts: list[str]) -> float:
    """Largest |torch score - served transformer score| over ``texts`` (the transformer alone, before
    the combination with the n-gram model)."""
    from classifiers.text_model import TextRiskModel

    served = TextRiskModel(model_dir)
    ids, _, _ = served.encode(texts)
    model = load_torch_model(model_dir)
    worst = 0.0
    with torch.no_grad():
        for row, got in zip(ids, served.transformer_scores(texts)[0], strict=True):
            expected = torch.sigmoid(model(input_ids=torch.tensor([row])).logits)[0].numpy()
            worst = max(worst, float(np.abs(expected - got).max()))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--max-len", type=int, default=128)
    args = parser.parse_args()
    target = export(args.model, args.max_len)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    from classifiers.training.finetune import AI_REGISTER_DEV, ai_register_examples

    probe = [e.text for e in ai_register_examples(AI_REGISTER_DEV)]
    print(f"max |torch - onnx int8| over {len(probe)} probe texts: {parity(args.model, probe):.4f}")


if __name__ == "__main__":
    main()
