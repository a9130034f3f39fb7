"""The command line reports a broker it cannot reach in one line, not with a traceback."""

from __future__ import annotations

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
