"""``huiyan bench --api``: the check API's speed, with the broker on the same cores.

One ``huiyan serve`` process on a deployment of its own. The load generator (this process, aiohttp)
runs 16 concurrent clients with keep-alive connections:
- **maximum**: each client sends its next request as soon as the last is answered, for a fixed number
  of requests; requests/s is answered requests over the wall time;
- **paced** at 50, 100 and 200 requests/s: each client sends on its own fixed schedule (rate / 16), and
  a request's latency counts from when it was due, not when it was sent, so a stalled server cannot
  hide its queue (no coordinated omission).
Every answer must be a decision (200); any other status is counted and reported.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stream.api.keys import add_key
from stream.tools.deployment import Deployment, free_port, isolated_env, wait_until_ready

CLIENTS = 16
RATES = (50, 100, 200)


@dataclass
class ApiRun:
    name: str
    requests: int
    seconds: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int] = field(default_factory=dict)


def _event(run: str, n: int, text: str) -> bytes:
    doc = {
        "event_id": f"{run}-{n}",
        "tenant": "bench",
        "scene": "post",
        "content_id": f"{run}-c{n}",
        "content_type": "text",
        "service_type": "person_simulating_text",
        "text": text,
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _summary(name: str, latencies: list[float], seconds: float, statuses: Counter[int]) -> ApiRun:
    ordered = sorted(latencies) or [0.0]
    return ApiRun(
        name,
        len(latencies),
        seconds,
        len(latencies) / seconds if seconds else 0.0,
        statistics.median(ordered) * 1000,
        ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        {str(k): v for k, v in sorted(statuses.items())},
    )


def _session(key: str) -> Any:
    """The load generator's HTTP client: keep-alive connections, one per client."""
    import aiohttp

    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=CLIENTS))


async def _send(session: Any, url: str, body: bytes) -> int:
    """Posts one event and reads the whole answer; returns its status."""
    async with session.post(url, data=body) as response:
        await response.read()
        return int(response.status)


async def _maximum(url: str, key: str, texts: list[str], count: int) -> ApiRun:
    import aiohttp

    run = uuid.uuid4().hex[:6]
    bodies = [_event(run, n, texts[n % len(texts)]) for n in range(count)]
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    position = 0

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal position
        while position < len(bodies):
            body = bodies[position]
            position += 1
            sent = time.perf_counter()
            statuses[await _send(session, url, body)] += 1
            latencies.append(time.perf_counter() - sent)

    async with _session(key) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
        seconds = time.perf_counter() - started
    return _summary(f"api maximum, {CLIENTS} clients back to back", latencies, seconds, statuses)


async def _paced(url: str, key: str, texts: list[str], rate: float, seconds: float) -> ApiRun:
    import aiohttp

    run = uuid.uuid4().hex[:6]
    per_client = int(rate * seconds / CLIENTS)
    interval = CLIENTS / rate
    latencies: list[float] = []
    statuses: Counter[int] = Counter()

    async def client(session: aiohttp.ClientSession, index: int, start: float) -> None:
        for k in range(per_client):
            due = start + (k + index / CLIENTS) * interval
            if (wait := due - time.perf_counter()) > 0:
                await asyncio.sleep(wait)
            n = k * CLIENTS + index
            statuses[await _send(session, url, _event(run, n, texts[n % len(texts)]))] += 1
            latencies.append(time.perf_counter() - due)

    async with _session(key) as session:
        start = time.perf_counter() + 0.2
        await asyncio.gather(*(client(session, i, start) for i in range(CLIENTS)))
        elapsed = time.perf_counter() - start
    return _summary(f"api paced at {rate:g} requests/s, {CLIENTS} clients", latencies, elapsed, statuses)


def bench_api(texts: list[str], broker: str, workdir: Path, *, max_requests: int = 3000) -> list[ApiRun]:
    """Starts ``huiyan serve`` on its own deployment and measures it; returns every run."""
    env = isolated_env(broker, "bench-api", None)
    env["HUIYAN_LOG_LEVEL"] = "warning"
    # The bench is one tenant sending far above a tenant's default rate on purpose.
    env["HUIYAN_API_RATE_PER_TENANT"] = "100000"
    deployment = Deployment(env, workdir)
    keys_file = workdir / f"{deployment.settings.app_id}-keys.json"
    _, key = add_key(keys_file, "bench")
    port = free_port()
    process = deployment.start(
        [sys.executable, "-m", "stream.cli", "serve"],
        HUIYAN_API_PORT=str(port),
        HUIYAN_API_KEYS_FILE=str(keys_file),
        HUIYAN_API_SPOOL_DIR=str(workdir / f"{deployment.settings.app_id}-spool"),
    )
    url = f"http://127.0.0.1:{port}/v1/moderate"
    try:
        _wait_ready(port, process, deployment)
        runs: list[ApiRun] = []
        asyncio.run(_maximum(url, key, texts, 300))  # warm-up: connections, model, first batches
        runs.append(asyncio.run(_maximum(url, key, texts, max_requests)))
        for rate in RATES:
            runs.append(asyncio.run(_paced(url, key, texts, rate, seconds=10)))
        return runs
    finally:
        deployment.stop_all()


def _wait_ready(port: int, process: Any, deployment: Deployment) -> None:
    why = wait_until_ready(f"http://127.0.0.1:{port}/readyz", process, 120)
    if why is not None:
        log = deployment.log(len(deployment.processes) - 1)[-2000:]
        raise RuntimeError(f"huiyan serve {why}: {log}")
