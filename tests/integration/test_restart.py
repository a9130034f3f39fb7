"""At-least-once through restarts: a worker stopped or killed mid-stream loses no event."""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.fixtures.events import DISCLOSURE, event_bytes
from tests.fixtures.kafka import Deployment

pytestmark = pytest.mark.integration

COUNT = 3000


def _events(prefix: str) -> list[bytes]:
    return [
        event_bytes(
            f"c-{i}", f"第{i}条生成文本：今天的天气很好。{DISCLOSURE}", event_id=f"{prefix}-{i}", tenant="it"
        )
        for i in range(COUNT)
    ]


def _wait_for_some_decisions(deployment: Deployment, minimum: int) -> int:
    """Waits until at least ``minimum`` decisions exist; returns how many were seen."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = len(deployment.read(deployment.settings.decision_topic, minimum, timeout_s=0.5))
        if seen >= minimum:
            return seen
    raise AssertionError(f"fewer than {minimum} decisions after 60 s:\n{deployment.log()}")


@pytest.mark.parametrize(
    ("sig", "in_flight"),
    [(signal.SIGTERM, "2"), (signal.SIGKILL, "1"), (signal.SIGKILL, "3")],
    ids=["sigterm", "sigkill-in-turn", "sigkill-pipelined"],
)
def test_every_event_gets_a_decision_across_a_restart(
    deployment: Deployment, sig: int, in_flight: str
) -> None:
    deployment.produce(_events("restart"))
    # Batches of one make the first worker slow enough to be stopped mid-stream. With in_flight > 1
    # decisions of later batches may be delivered before earlier ones are acknowledged.
    first = deployment.start_worker(HUIYAN_BATCH_MAX="1", HUIYAN_DELIVERY_IN_FLIGHT=in_flight)
    _wait_for_some_decisions(deployment, 50)
    deployment.stop_worker(first, sig)
    decided_before = len(deployment.read(deployment.settings.decision_topic, COUNT, timeout_s=2))
    assert 50 <= decided_before < COUNT, "the worker finished before it was stopped; the test proves nothing"

    deployment.start_worker(HUIYAN_BATCH_MAX="64")
    deadline = time.monotonic() + 120
    ids: set[str] = set()
    while time.monotonic() < deadline and len(ids) < COUNT:
        ids = {
            json.loads(r.value)["event_id"]
            for r in deployment.read(deployment.settings.decision_topic, 10 * COUNT, timeout_s=2)
        }
    missing = {f"restart-{i}" for i in range(COUNT)} - ids
    assert not missing, f"{len(missing)} events have no decision, e.g. {sorted(missing)[:5]}"
