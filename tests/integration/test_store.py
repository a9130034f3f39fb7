"""``huiyan store`` on the real broker, into SQLite and PostgreSQL: a worker's decisions and dead letters
are stored once each, and a restarted store adds nothing."""

from __future__ import annotations

import time

from stream.store.db import Store
from stream.store.sink import Sink
from stream.tools.deployment import REPO
from tests.fixtures.kafka import Deployment

SAMPLES = [line for line in (REPO / "stream/samples/events.jsonl").read_bytes().splitlines() if line.strip()]


def _fill(sink: Sink, store: Store, decisions: int, dead: int, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while store.count("decisions") < decisions or store.count("dead_letters") < dead:
        assert time.monotonic() < deadline, (store.count("decisions"), store.count("dead_letters"))
        sink.step()


def test_the_store_keeps_every_decision_and_dead_letter_once_across_a_restart(
    deployment: Deployment, store: Store
) -> None:
    deployment.start_worker(HUIYAN_CLASSIFIERS="0")
    deployment.produce(SAMPLES)
    sink = Sink(deployment.settings, store)
    _fill(sink, store, decisions=14, dead=3)
    sink.consumer.close()
    deployment.produce(SAMPLES)  # the same events again: new decisions of the same event ids
    deployment.read(deployment.settings.decision_topic, 28, timeout_s=60)
    again = Sink(deployment.settings, store)  # a restarted store, same consumer group
    for _ in range(10):
        again.step()
    again.consumer.close()
    assert store.count("decisions") == 14  # each event id once
    reasons = sorted(
        row["reason"] for day in store.days("dead_letters") for row in store.rows("dead_letters", day)
    )
    assert store.count("dead_letters") == 6 and len(reasons) == 6  # each source record once: 3 sent twice
