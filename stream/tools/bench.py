"""``huiyan bench``: speed of the classifier and of the whole stream, measured here, printed and written down.

Three measurements in one run, on texts of 20-300 characters (dev texts read from ../shared at run
time, never copied into the repository):

1. raw classifier throughput (texts/s) of the served ONNX model, per thread count;
2. end to end through the real broker: Huiyan workers (``--workers`` processes of
   ``HUIYAN_INFERENCE_THREADS`` threads each) deciding a backlog (the maximum rate), then the same
   number of events produced at half that rate for p50/p99 latency (event time to decision received);
3. the naive baseline a user would write: one process consuming the same events and calling a
   ``transformers`` text-classification pipeline once per event (needs the ``train`` extra).

RSS of each process is sampled at the end. Results are printed and appended to ``--out``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stream.core.records import isoformat
from stream.kafka.auth import librdkafka_options
from stream.kafka.clients import open_reader
from stream.settings import Settings
from stream.tools.bench_api import ApiRun, bench_api
from stream.tools.demo import local_broker
from stream.tools.deployment import REPO, Deployment, isolated_env


@dataclass
class StreamRun:
    name: str
    events: int
    seconds: float
    events_per_s: float
    p50_ms: float
    p99_ms: float
    rss_mb: list[float] = field(default_factory=list)
    # Where the latency goes, as [p50, p99] in ms, from the decision's own timing fields: produced ->
    # the worker's batch starts (broker, fetch, batch window, earlier batches), batch start -> decided
    # (the core: parsing, rules, inference), decided -> the broker appended the decision (produce).
    stages_ms: dict[str, list[float]] = field(default_factory=dict)
    # Backlog runs only: the rate at which the workers drained the backlog after the bench had finished
    # producing it, when only the workers and the broker were busy (the load generator of a real
    # deployment runs elsewhere). ``events_per_s`` counts from the first event produced.
    drain_events_per_s: float | None = None
    # Mixed runs only: image events among ``events``, and how their pixel reads ended, from the decisions
    # (seen: a label was found in the pixels; unseen: explicit_label_unseen, with its reason).
    image_events: int = 0
    pixel_outcomes: dict[str, int] = field(default_factory=dict)
    # Mixed runs only: p50/p99 latency of the text events alone, in ms, and their rate: text events over
    # the time from the first event produced to the last text decision appended (the images' decisions,
    # which wait for OCR, may come after it).
    text_p50_p99_ms: list[float] = field(default_factory=list)
    text_events_per_s: float | None = None


STAGES = ("to_worker", "core", "to_broker")


def _percentiles(values: list[float]) -> list[float]:
    ordered = sorted(values)
    return [
        round(statistics.median(ordered) * 1000, 1),
        round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
    ]


# Texts we wrote ourselves in the register of generated content (classifiers/training/register/README.md),
# committed with the code: the benchmark needs no dataset beside the checkout.
REGISTER = REPO / "classifiers" / "training" / "register"


def bench_texts(count: int, seed: int = 7) -> list[str]:
    """Register texts of 20-300 characters, harmful and harmless, from every brief (a realistic mix of
    lengths and registers), in a fixed shuffled order."""
    texts: set[str] = set()
    for path in sorted(REGISTER.rglob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip() and 20 <= len(text := json.loads(line)["text"]) <= 300:
                texts.add(text)
    if not texts:
        raise FileNotFoundError(
            f"huiyan bench reads its texts from {REGISTER}: run it from a source checkout"
        )
    ordered = sorted(texts)
    random.Random(seed).shuffle(ordered)
    return ordered[:count]


def raw_throughput(texts: list[str], threads: int, batch: int = 64, cpu: int | None = None) -> float:
    """Texts/s of the served model called with ``batch`` texts at a time, as a worker's batch would."""
    from classifiers.text_model import TextRiskModel

    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    model = TextRiskModel(threads=threads)
    model.predict(texts[:64])  # warm-up
    started = time.perf_counter()
    for start in range(0, len(texts), batch):
        model.predict(texts[start : start + batch])
    return len(texts) / (time.perf_counter() - started)


def raw_parallel(texts: list[str], processes: int) -> float:
    """Summed texts/s of ``processes`` single-threaded processes, each pinned to its own CPU and scoring
    every text at the same time: the classifier alone in the workers' layout."""
    cpus = sorted(os.sched_getaffinity(0))
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        rates = pool.starmap(raw_throughput, [(texts, 1, 64, cpus[i % len(cpus)]) for i in range(processes)])
    return float(sum(rates))


def _median_of(passes: int, measure: Callable[[], float]) -> float:
    """The VM's speed wanders by 10-15% between runs (perf.md), so each raw figure is a median."""
    return statistics.median(measure() for _ in range(passes))


def _event(index: int, run: str, text: str) -> dict[str, Any]:
    return {
        "event_id": f"{run}-{index}",
        "tenant": "bench",
        "scene": "post",
        "content_id": f"{run}-c{index}",
        "content_type": "text",
        "service_type": "person_simulating_text",
        "text": text,
    }


def _pixel_outcome(decision: dict[str, Any]) -> str:
    """How an image decision's pixel read ended, from its findings."""
    for found in decision["label_findings"]:
        if found["code"] == "explicit_label_unseen":
            why: str = found.get("evidence") or found["message"]
            return "unseen: " + why.split(":")[0]
    seen = any(f["code"].startswith("explicit_label_seen") for f in decision["label_findings"])
    return "seen" if seen else "read, no label seen"


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class BenchDeployment(Deployment):
    """A deployment of its own on the broker, whose decision topic is stamped by the broker."""

    def __init__(self, broker: str, workdir: Path) -> None:
        env = isolated_env(broker, "bench", {**os.environ, "HUIYAN_LOG_LEVEL": "warning"})
        # The broker stamps each decision when it appends it (LogAppendTime), so an event is timed until
        # its decision reached the broker without the bench reading decisions while the workers run.
        decisions = {env["HUIYAN_DECISION_TOPIC"]: {"message.timestamp.type": "LogAppendTime"}}
        super().__init__(env, workdir, decisions)

    def stop_measured(self) -> list[float]:
        """Every process's resident memory (MB), then stops them all."""
        rss = [_rss_mb(p.pid) for p in self.processes]
        self.stop_all()
        return rss

    def run(
        self,
        name: str,
        texts: list[str],
        rate: float | None,
        timeout_s: float = 600,
        media: dict[int, dict[str, Any]] | None = None,
    ) -> StreamRun:
        """Produces one event per text (all at once, or paced at ``rate``/s) and times the decisions.

        ``media`` turns the events at its positions into image events (its fields replace the text
        event's, the text stays as the caption).

        While the workers run, the bench only produces and watches the decision topic's end offsets (one
        small request twice a second); it reads the decisions afterwards, so its own Kafka client does
        not compete with the workers for the two cores. Each event is timed from just before the bench
        produced it to the moment the broker appended its decision (the decision topic's
        ``LogAppendTime``), which is when a platform's consumer could first read it.
        """
        run = uuid.uuid4().hex[:6]
        reader = open_reader(self.settings, [self.settings.decision_topic], from_beginning=False)
        wanted = {f"{run}-{i}" for i in range(len(texts))}
        arrived: dict[str, float] = {}
        timing: dict[str, tuple[float, float]] = {}
        deadline = time.time() + timeout_s
        media = media or {}
        pixel_outcomes: Counter[str] = Counter()

        def take(records: Any) -> None:
            for record in records:
                decision = json.loads(record.value)
                event_id = decision["event_id"]
                if event_id in wanted and event_id not in arrived:
                    arrived[event_id] = record.timestamp / 1000
                    if decision["content_type"] == "image":
                        pixel_outcomes[_pixel_outcome(decision)] += 1
                    if not (stamps := decision.get("timing")):
                        continue  # the naive baseline's decisions carry no timing
                    timing[event_id] = (
                        datetime.fromisoformat(stamps["received_at"]).timestamp(),
                        datetime.fromisoformat(stamps["decided_at"]).timestamp(),
                    )

        def payload(i: int, text: str) -> bytes:
            event = {**_event(i, run, text), **media.get(i, {}), "created_at": isoformat(datetime.now(UTC))}
            return json.dumps(event, ensure_ascii=False).encode()

        sent_at: dict[str, float] = {}
        producer = LoadGenerator(self.settings)
        started = time.time()
        if rate is None:
            lines = []
            for i, text in enumerate(texts):
                sent_at[f"{run}-{i}"] = time.time()
                lines.append(payload(i, text))
            for i, line in enumerate(lines):
                producer.send(line, f"{run}-c{i}".encode())
            producer.flush()
            produced = time.time()
        else:
            for i, text in enumerate(texts):
                due = started + i / rate
                if (wait := due - time.time()) > 0:
                    time.sleep(wait)
                sent_at[f"{run}-{i}"] = time.time()
                producer.send(payload(i, text), f"{run}-c{i}".encode())
            producer.flush()
        self._await_records(reader, len(texts), deadline)
        while len(arrived) < len(wanted) and time.time() < deadline:
            for records in reader.poll(timeout_ms=500).values():
                take(records)
        reader.close()
        latencies = {e: arrived[e] - sent_at[e] for e in arrived if e in sent_at}
        last = max(sent_at[e] + latency for e, latency in latencies.items()) if latencies else time.time()
        elapsed = last - started
        values = sorted(latencies.values())
        if len(values) < len(texts):
            raise RuntimeError(f"{name}: only {len(values)} of {len(texts)} decisions within {timeout_s}s")
        drained = None
        if rate is None:
            after = sorted(t for t in arrived.values() if t > produced)
            if len(after) >= len(texts) // 2:  # a backlog big enough to measure
                drained = len(after) / (after[-1] - produced)
        timed = [e for e in latencies if e in timing]
        spans = {
            "to_worker": [timing[e][0] - sent_at[e] for e in timed],
            "core": [timing[e][1] - timing[e][0] for e in timed],
            "to_broker": [arrived[e] - timing[e][1] for e in timed],
        }
        text_ids = [e for e in latencies if int(e.rsplit("-", 1)[1]) not in media]
        text_only = [latencies[e] for e in text_ids]
        text_rate = None
        if media and text_ids:
            text_rate = len(text_ids) / (max(sent_at[e] + latencies[e] for e in text_ids) - started)
        return StreamRun(
            name,
            len(texts),
            elapsed,
            len(texts) / elapsed,
            statistics.median(values) * 1000,
            values[min(len(values) - 1, int(len(values) * 0.99))] * 1000,
            stages_ms={stage: _percentiles(spans[stage]) for stage in STAGES} if timed else {},
            drain_events_per_s=drained,
            image_events=len(media),
            pixel_outcomes=dict(pixel_outcomes),
            text_p50_p99_ms=_percentiles(text_only) if media else [],
            text_events_per_s=text_rate,
        )

    @staticmethod
    def _await_records(reader: Any, count: int, deadline: float) -> None:
        """Waits until the decision topic holds ``count`` records past the reader's start positions.

        Asks the broker for end offsets twice a second (one small request), far cheaper than fetching
        and parsing every decision while the workers need the CPU.
        """
        partitions = list(reader.assignment())
        start = {tp: reader.position(tp) for tp in partitions}
        while time.time() < deadline:
            ends = reader.end_offsets(partitions)
            if sum(ends[tp] - start[tp] for tp in partitions) >= count:
                return
            time.sleep(0.5)


class LoadGenerator:
    """The bench's producer of content events: librdkafka (confluent-kafka), one record per event,
    acknowledged by the broker.

    The load generator shares the two cores with the broker and the workers here, while a deployment's
    publishers run elsewhere, so it should take as little CPU as it can. Measured here, kafka-python's
    producer spent about 3 ms of CPU per event sent one at a time at 106 events/s (a third of a core)
    and librdkafka about 0.6 ms, JSON encoding included.
    """

    def __init__(self, settings: Settings) -> None:
        from confluent_kafka import Producer

        self.topic = settings.content_topic
        self.failures: list[str] = []
        self.producer = Producer(
            {
                "bootstrap.servers": ",".join(settings.bootstrap_servers),
                "acks": "all",
                "linger.ms": 1,
                "message.max.bytes": settings.kafka_max_message_bytes,
                **librdkafka_options(settings),
            }
        )

    def _delivered(self, error: Any, message: Any) -> None:
        if error is not None:
            self.failures.append(str(error))

    def send(self, value: bytes, key: bytes) -> None:
        while True:
            try:
                self.producer.produce(self.topic, value, key, on_delivery=self._delivered)
                break
            except BufferError:  # the local queue is full: let librdkafka send some first
                self.producer.poll(0.05)
        self.producer.poll(0)

    def flush(self) -> None:
        if self.producer.flush(60) or self.failures:
            raise RuntimeError(f"the bench could not produce every event: {self.failures[:3]}")


def served_model(settings: Settings) -> str:
    """The workers' model as decisions name it: ``name@content hash``."""
    from classifiers.text_model import served_model_dir, versioned_name

    return versioned_name(served_model_dir(settings.model_dir))


def _wait_ready(deployment: BenchDeployment, texts: list[str]) -> None:
    """Warm-up: every worker has joined the group and decided events before the clock starts."""
    time.sleep(8)
    deployment.run("warm-up", texts[:100], rate=None, timeout_s=180)
    time.sleep(2)


def bench_stream(
    texts: list[str],
    broker: str,
    workdir: Path,
    workers: int,
    threads: int,
    *,
    pin: bool,
    image_share: float = 0.0,
    images: list[dict[str, Any]] | None = None,
) -> list[StreamRun]:
    """``pin``: worker i runs on CPU i (modulo the CPU count), as a deployment of one single-threaded
    worker per core would be set up (a cpuset or ``taskset``); the broker and the bench float.

    With ``image_share`` and ``images`` (event fields of image events), a third run decides the same
    backlog with that share of its events turned into image events, spread evenly, so its events/s
    compare with the text-only backlog's of the same run."""
    deployment = BenchDeployment(broker, workdir)
    cpus = sorted(os.sched_getaffinity(0))
    try:
        for index in range(workers):
            deployment.start_worker(
                cpu=cpus[index % len(cpus)] if pin else None, HUIYAN_INFERENCE_THREADS=str(threads)
            )
        _wait_ready(deployment, texts)
        label = f"huiyan {workers} worker(s) x {threads} thread(s)"
        peak = deployment.run(f"{label}, backlog (max rate)", texts, rate=None)
        half = deployment.run(
            f"{label}, paced at half the max rate",
            texts[: max(200, len(texts) // 2)],
            rate=peak.events_per_s / 2,
        )
        runs = [peak, half]
        if image_share > 0 and images:
            step = max(1, round(1 / image_share))
            media = {i: images[(i // step) % len(images)] for i in range(0, len(texts), step)}
            runs.append(
                deployment.run(
                    f"{label}, backlog with {len(media) / len(texts):.1%} image events",
                    texts,
                    None,
                    media=media,
                )
            )
    finally:
        rss = deployment.stop_measured()
    for run in runs:
        run.rss_mb = rss
    return runs


def bench_naive(texts: list[str], broker: str, workdir: Path) -> list[StreamRun]:
    deployment = BenchDeployment(broker, workdir)
    try:
        deployment.start([sys.executable, "-m", "stream.tools.naive_baseline"])
        _wait_ready(deployment, texts)
        peak = deployment.run(
            "naive: transformers pipeline per event, backlog", texts, rate=None, timeout_s=1800
        )
    finally:
        rss = deployment.stop_measured()
    peak.rss_mb = rss
    return [peak]


def _show(runs: list[StreamRun]) -> list[StreamRun]:
    """Prints each run's figures as soon as it is measured."""
    for run in runs:
        rss = ", ".join(f"{r:.0f}" for r in run.rss_mb)
        stages = "; ".join(f"{k} p50/p99 {v[0]:.0f}/{v[1]:.0f} ms" for k, v in run.stages_ms.items())
        if run.drain_events_per_s is not None:
            stages += f"\n    after the backlog was produced: {run.drain_events_per_s:.0f} events/s"
        if run.image_events:
            outcomes = ", ".join(f"{n} {what}" for what, n in sorted(run.pixel_outcomes.items()))
            p50, p99 = run.text_p50_p99_ms
            stages += (
                f"\n    {run.image_events} image events: {outcomes}; text events alone "
                f"{run.text_events_per_s or 0:.0f} events/s, p50 {p50:.0f} ms, p99 {p99:.0f} ms"
            )
        print(
            f"{run.name}: {run.events_per_s:.0f} events/s over {run.events} events; p50 {run.p50_ms:.0f} ms, "
            f"p99 {run.p99_ms:.0f} ms; RSS {rss} MB\n    stages: {stages}",
            flush=True,
        )
    return runs


def _show_share(backlog: StreamRun, raw: dict[str, float]) -> None:
    """End-to-end throughput as a share of each raw classifier figure (the issue asks for >= 80%)."""
    for layout, rate in raw.items():
        shares = f"{backlog.events_per_s / rate:.0%} from the first event produced"
        if backlog.drain_events_per_s is not None:
            shares += f", {backlog.drain_events_per_s / rate:.0%} after production"
        print(f"end to end vs raw {layout}: {shares}", flush=True)


def _show_api(runs: list[ApiRun]) -> None:
    for run in runs:
        statuses = ", ".join(f"{n} x {s}" for s, n in run.statuses.items())
        print(
            f"{run.name}: {run.requests_per_s:.0f} requests/s over {run.requests} requests; "
            f"p50 {run.p50_ms:.1f} ms, p99 {run.p99_ms:.1f} ms; answers {statuses}",
            flush=True,
        )


def _media(image_share: float) -> tuple[list[Any], list[dict[str, Any]]]:
    """Per-read pixel costs (printed) and image event fields, when ``image_share`` asks for them."""
    if image_share <= 0:
        return [], []
    from stream.tools.bench_media import cjk_font, image_event_fields, pixel_costs

    font = cjk_font()
    if font is None:
        print("no CJK font (apt-get install fonts-wqy-zenhei): no image events", file=sys.stderr)
        return [], []
    costs = pixel_costs(font)
    for cost in costs:
        found = "label found" if cost.found else "LABEL NOT FOUND"
        print(f"pixel read, {cost.what}: {cost.ms:.0f} ms (median of 3; {found})", flush=True)
    return costs, image_event_fields(font)


def run_bench(
    settings: Settings,
    *,
    count: int,
    workers: int,
    threads: int,
    naive: bool,
    pin: bool,
    out: Path,
    api: bool = False,
    image_share: float = 0.0,
) -> int:
    texts = bench_texts(count)
    lengths = sorted(len(t) for t in texts)
    print(f"{len(texts)} texts, {lengths[0]}-{lengths[-1]} characters, median {lengths[len(lengths) // 2]}")
    raw = {
        "1 process x 1 thread": _median_of(3, lambda: raw_throughput(texts, 1)),
        "1 process x 2 threads": _median_of(3, lambda: raw_throughput(texts, 2)),
        f"{workers} processes x 1 thread, pinned": _median_of(3, lambda: raw_parallel(texts, workers)),
    }
    for layout, rate in raw.items():
        print(f"raw classifier, {layout}: {rate:.0f} texts/s (median of 3)", flush=True)
    costs, images = _media(image_share)
    started_broker = not local_broker("status")
    if started_broker and not local_broker("start"):
        print("the broker did not start", file=sys.stderr)
        return 1
    workdir = Path(settings.data_dir) / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    runs: list[StreamRun] = []
    api_runs: list[ApiRun] = []
    try:
        runs += _show(
            bench_stream(
                texts,
                settings.broker,
                workdir,
                workers,
                threads,
                pin=pin,
                image_share=image_share,
                images=images,
            )
        )
        _show_share(runs[0], raw)
        if len(runs) > 2 and runs[2].image_events:
            ratio = runs[2].events_per_s / runs[0].events_per_s
            texts_ratio = (runs[2].text_events_per_s or 0) / runs[0].events_per_s
            print(
                f"with image events vs text only, same run: {ratio:.0%} of the events/s counting the last "
                f"image decision, {texts_ratio:.0%} for the text events alone",
                flush=True,
            )
        if naive:
            runs += _show(bench_naive(texts[: min(len(texts), 1000)], settings.broker, workdir))
        if api:
            api_runs = bench_api(texts, settings.broker, workdir)
            _show_api(api_runs)
            top = api_runs[0].requests_per_s
            print(
                f"api maximum vs raw 1 process x 1 thread: {top / raw['1 process x 1 thread']:.0%}",
                flush=True,
            )
    finally:
        if started_broker:
            local_broker("stop")
    record = {
        "date": isoformat(datetime.now(UTC)),
        "machine": f"{os.cpu_count()} CPUs",
        "texts": len(texts),
        # The register texts we wrote since #14 (median about 51 characters); the dataset dev texts before
        # (median about 83): compare runs of the two through their ratios to the raw classifier.
        "texts_from": "classifiers/training/register",
        "text_chars_median": sorted(len(t) for t in texts)[len(texts) // 2],
        "model": served_model(settings),
        "settings": {
            "HUIYAN_FETCH_MIN_BYTES": settings.fetch_min_bytes,
            "HUIYAN_FETCH_MAX_WAIT_MS": settings.fetch_max_wait_ms,
            "HUIYAN_DELIVERY_IN_FLIGHT": settings.delivery_in_flight,
            "HUIYAN_BATCH_MAX": settings.batch_max,
            "HUIYAN_BATCH_WITHIN_MS": settings.batch_within_ms,
            "HUIYAN_PIXEL_QUEUE": settings.pixel_queue,
            "HUIYAN_PIXEL_TIMEOUT_MS": settings.pixel_timeout_ms,
            "workers_pinned": pin,
            "backlog_read": "after the run",
        },
        "raw_texts_per_s": raw,
        **({"pixel_read_ms": {c.what: round(c.ms, 1) for c in costs}} if costs else {}),
        "runs": [asdict(r) for r in runs],
        **({"api_runs": [asdict(r) for r in api_runs]} if api_runs else {}),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"appended to {out}")
    return 0
