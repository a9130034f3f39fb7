"""The bench's naive baseline scores with the weights the workers serve, so the comparison is fair."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifiers.text_model import DEFAULT_MODEL_DIR

pytest.importorskip("transformers", reason="the train extra is part of the dev install")


class _Loaded(Exception):
    pass


@pytest.mark.parametrize("configured", [False, True])
def test_the_naive_baseline_loads_the_served_model(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, configured: bool
) -> None:
    from stream.tools import naive_baseline

    expected = DEFAULT_MODEL_DIR
    monkeypatch.delenv("HUIYAN_MODEL_DIR", raising=False)
    if configured:
        expected = tmp_path / "text-other"
        shutil.copytree(DEFAULT_MODEL_DIR, expected)
        monkeypatch.setenv("HUIYAN_MODEL_DIR", str(expected))
    loaded: list[Path] = []

    def from_pretrained(path: Path, *args: object, **kwargs: object) -> None:
        loaded.append(Path(path))
        raise _Loaded

    monkeypatch.setattr(naive_baseline.AutoModelForSequenceClassification, "from_pretrained", from_pretrained)
    with pytest.raises(_Loaded):
        naive_baseline.main()
    assert loaded == [expected]
