"""Fine-tuning set-up: a model cut to some encoder layers starts from exactly those pre-trained layers,
and `huiyan train` runs the steps of the route it is asked for."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from stream.cli import main
from tests.fixtures import REPO

torch = pytest.importorskip("torch", reason="the train extra (torch) is part of the dev install")


def test_a_cut_model_starts_from_the_chosen_pre_trained_layers() -> None:
    from safetensors.torch import load_file

    from classifiers.training.finetune import ENCODER, Recipe, build_model

    encoder = load_file(str(ENCODER / "encoder.safetensors"))
    full = build_model(Recipe(), ENCODER)
    cut = build_model(Recipe(), ENCODER, layers=(0, 1))
    assert len(full.base_model.encoder.layer) == full.config.num_hidden_layers > 2
    assert len(cut.base_model.encoder.layer) == cut.config.num_hidden_layers == 2
    for index in (0, 1):
        for name, value in cut.base_model.encoder.layer[index].state_dict().items():
            assert torch.equal(value, encoder[f"encoder.layer.{index}.{name}"].float()), (index, name)
    assert torch.equal(
        cut.base_model.embeddings.word_embeddings.weight, encoder["embeddings.word_embeddings.weight"].float()
    )
    ids = torch.tensor([[2, 100, 200, 3]])
    assert cut(input_ids=ids).logits.shape == (1, 3)


SERVED = "classifiers/models/text-v4"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--epochs", "2"],
            [
                ("classifiers.training.finetune", ["--layers", "0,1", "--output", SERVED, "--epochs", "2.0"]),
                ("classifiers.training.export", ["--model", SERVED]),
                ("classifiers.training.ensemble", ["--model", SERVED]),
            ],
        ),
        (
            ["--distill"],
            [
                ("classifiers.training.finetune", ["--output", "build/teacher"]),
                ("classifiers.training.distill", ["--teacher", "build/teacher", "--output", SERVED]),
                ("classifiers.training.export", ["--model", SERVED]),
                ("classifiers.training.ensemble", ["--model", SERVED]),
            ],
        ),
        (["--ngram-only"], [("classifiers.training.ensemble", ["--model", SERVED])]),
    ],
)
def test_train_runs_the_steps_of_its_route(
    monkeypatch: pytest.MonkeyPatch, args: list[str], expected: list[tuple[str, list[str]]]
) -> None:
    import runpy
    import sys

    repo = REPO
    ran: list[tuple[str, list[str]]] = []

    def run_module(module: str, run_name: str) -> dict[str, Any]:
        assert run_name == "__main__" and sys.argv[0] == module
        ran.append((module, [a.replace(f"{repo}/", "") for a in sys.argv[1:]]))
        return {}

    monkeypatch.setattr(runpy, "run_module", run_module)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    # The steps run without the datasets here (run_module is replaced); their check is tested below.
    monkeypatch.setattr("stream.cli.models._datasets", lambda root, needed_by: root)
    result = CliRunner().invoke(main, ["train", *args])
    assert result.exit_code == 0, result.output
    assert ran == expected
