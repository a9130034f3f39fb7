"""The decision store's benchmark (issue #16): ingest rate, and the console's explorer and threshold
pages, with many stored decisions, on each database.

    .venv/bin/python benchmarks/store.py [--count 1000000] [--postgres URL]

Decisions are synthetic (our own generator: 20 tenants, 5 scenes, scores drawn from a fixed seed) and
spread over 30 days. Ingest goes through the sink's path (``Store.ingest``) in batches of 1,000. The
page timings are the console's own queries for: the explorer's first page (newest first, one tenant,
action flag), and the thresholds page of one category over the last 7 days. Each is the median of 5
runs. Figures are printed and appended to benchmarks/store.jsonl, with the machine's speed measured in
the same run (a fixed CPU loop) for comparison across days.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stream.console.server import Console  # noqa: E402
from stream.settings import Settings  # noqa: E402
from stream.store.db import PostgresStore, SqliteStore, Store  # noqa: E402
from stream.store.sink import to_record  # noqa: E402

OUT = Path(__file__).with_name("store.jsonl")


def _decisions(count: int, seed: int = 7) -> Any:
    rng = random.Random(seed)
    today = datetime.now(UTC).date()
    for n in range(count):
        day = today - timedelta(days=n % 30)
        score = rng.random() ** 3
        action = "block" if score >= 0.95 else "flag" if score >= 0.3 else "allow"
        reasons = [] if action == "allow" else [
            {"code": "rumor_score", "category": "rumor", "action": action, "score": score,
             "message": "", "basis": ""}
        ]  # fmt: skip
        doc = {
            "event_id": f"b-{n}", "tenant": f"t{n % 20}",
            "scene": ("post", "chat", "comment", "live", "ad")[n % 5],
            "content_id": f"c-{n}", "action": action, "reasons": reasons,
            "scores": {"rumor": score, "vulgar": rng.random() ** 3, "impersonation": rng.random() ** 3},
            "label_status": "compliant", "provenance": {"policy_version": "bench"},
            "timing": {"decided_at": f"{day.isoformat()}T{n % 24:02d}:{n % 60:02d}:00.000Z"},
        }  # fmt: skip
        yield to_record("decisions", "d", 0, n, 0, json.dumps(doc).encode(), [])


def _median_ms(run: Any, times: int = 5) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _machine_speed() -> float:
    """Loops per second of a fixed pure-Python loop: the VM's speed today."""
    started = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i % 7
    return 3_000_000 / (time.perf_counter() - started)


def measure(name: str, store: Store, count: int) -> dict[str, Any]:
    batch: list[Any] = []
    started = time.perf_counter()
    for record in _decisions(count):
        batch.append(record)
        if len(batch) == 1000:
            store.ingest(batch)
            batch = []
    if batch:
        store.ingest(batch)
    ingest_s = time.perf_counter() - started
    console = Console(Settings.from_env(environ={}), store, Path("/nonexistent"), candidates=Path("/tmp"))

    def explorer() -> None:
        rows = []
        for row in console._decisions(tenant="t3", action="flag"):
            rows.append(row)
            if len(rows) >= 200:
                break

    since = (datetime.now(UTC) - timedelta(days=7)).date()

    def thresholds() -> None:  # what the threshold page asks: the histogram, then the examples
        store.histogram("rumor", since)
        store.crossing("rumor", since, (0.3, 0.95), (0.5, 0.95))

    ids = [f"b-{n}" for n in random.Random(1).sample(range(count), 5)]

    def decision_page() -> None:  # a decision's page: the decision and its shadow
        for event_id in ids:
            store.decision(event_id)
            store.decision(event_id, "shadow_decisions")

    figures = {
        "database": name,
        "decisions": count,
        "ingest_per_s": round(count / ingest_s),
        "explorer_ms": round(_median_ms(explorer), 1),
        "decision_page_ms": round(_median_ms(decision_page, 3) / len(ids), 1),
        "thresholds_ms": round(_median_ms(thresholds, 3), 1),
    }
    print(json.dumps(figures), flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL (a database the bench may fill)")
    args = parser.parse_args()
    speed = _machine_speed()
    runs = []
    with tempfile.TemporaryDirectory() as work:
        store: Store = SqliteStore(Path(work) / "bench.db")
        runs.append(measure("sqlite", store, args.count))
        store.close()
    if args.postgres:
        store = PostgresStore(args.postgres)
        runs.append(measure("postgresql", store, args.count))
        store.close()
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "loops_per_s": round(speed),
        "runs": runs,
    }
    with OUT.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    print(f"appended to {OUT}")
    _ = date


if __name__ == "__main__":
    main()
