"""The command line reports a broker it cannot reach in one line, not with a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from kafka.errors import KafkaTimeoutError

import stream.kafka.policy_store
from stream.cli import main


@pytest.mark.parametrize("error", [KafkaTimeoutError("Unable to bootstrap"), TimeoutError("no answer")])
def test_an_unreachable_broker_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    # kafka-python gives up on an unreachable broker after 30 s; raise what it raises straight away.
    def unreachable(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(stream.kafka.policy_store, "read_history", unreachable)
    result = CliRunner().invoke(main, ["policy", "history"], env={"HUIYAN_BROKER": "kafka://127.0.0.1:1"})
    assert result.exit_code == 1
    assert "Kafka at kafka://127.0.0.1:1 did not answer" in result.output
    assert "Is the broker running" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_other_errors_are_not_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug")

    monkeypatch.setattr(stream.kafka.policy_store, "read_history", broken)
    result = CliRunner().invoke(main, ["policy", "history"])
    assert isinstance(result.exception, ValueError)


def test_train_passes_a_data_root_to_every_step_that_reads_the_datasets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import runpy

    ran: list[list[str]] = []
    monkeypatch.setattr(runpy, "run_module", lambda module, run_name: ran.append(list(sys.argv)) or {})
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setattr("stream.cli.models._datasets", lambda root, needed_by: root)
    result = CliRunner().invoke(main, ["train", "--data-root", str(tmp_path)])
    assert result.exit_code == 0, result.output
    reading = [argv for argv in ran if argv[0].rsplit(".", 1)[-1] in ("finetune", "ensemble")]
    assert len(reading) == 2 and all(argv[-2:] == ["--data-root", str(tmp_path)] for argv in reading)
    assert all("--data-root" not in argv for argv in ran if argv[0].endswith("export"))


@pytest.mark.parametrize("command", [["train"], ["eval", "--dev"]])
def test_commands_that_need_the_datasets_say_so_in_one_line(tmp_path: Path, command: list[str]) -> None:
    result = CliRunner().invoke(main, [*command, "--data-root", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "reads the training datasets" in result.output and "--data-root" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
