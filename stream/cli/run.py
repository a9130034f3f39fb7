"""Running Huiyan: the worker, the offline mode, the demo, and producing and reading events."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO

import click

from stream.cli.base import main
from stream.settings import Settings


@main.command()
@click.option("--web-port", type=int, help="Port of /metrics (HUIYAN_WEB_PORT).")
@click.option("--data-dir", help="Worker state directory (HUIYAN_DATA_DIR).")
@click.option("--broker", help="Kafka URL, e.g. kafka://127.0.0.1:19092 (HUIYAN_BROKER).")
@click.option("--policy", "policy_file", help="Policy YAML (HUIYAN_POLICY_FILE).")
@click.option("--log-level", help="Log level (HUIYAN_LOG_LEVEL).")
def worker(
    web_port: int | None,
    data_dir: str | None,
    broker: str | None,
    policy_file: str | None,
    log_level: str | None,
) -> None:
    """Run a worker: consume content events, produce decisions and dead letters."""
    from stream.kafka.worker import run_worker

    settings = Settings.from_env(
        web_port=web_port, data_dir=data_dir, broker=broker, policy_file=policy_file, log_level=log_level
    )
    run_worker(settings)


@main.command()
@click.option("--serve", is_flag=True, help="Serve it on /metrics (HUIYAN_LAG_PORT) until stopped.")
def lag(serve: bool) -> None:
    """The worker group's lag on the content topic, per partition (end offset minus committed offset)."""
    import logging

    from stream.kafka.lag import LagReader, serve_lag
    from stream.runtime import configure_logging

    settings = Settings.from_env()
    if serve:
        configure_logging(settings)
        logging.getLogger("kafka").setLevel(logging.WARNING)
        serve_lag(settings, settings.web_host, settings.lag_port)
        return
    reader = LagReader(settings)
    try:
        offsets = reader.read()
    except LookupError as exc:  # the content topic is missing
        raise click.ClickException(str(exc)) from None
    finally:
        reader.close()
    click.echo(f"group {settings.app_id} on {settings.content_topic}")
    click.echo(f"{'partition':>9} {'end':>12} {'committed':>12} {'lag':>10}")
    for partition, o in sorted(offsets.items()):
        committed = "-" if o.committed is None else str(o.committed)
        click.echo(f"{partition:>9} {o.end:>12} {committed:>12} {o.lag:>10}")
    click.echo(f"{'total':>9} {'':>12} {'':>12} {sum(o.lag for o in offsets.values()):>10}")


@main.command()
@click.argument("events_file", type=click.File("rb"))
@click.option("-o", "--output", type=click.File("wb"), default="-", help="Decisions JSONL (default stdout).")
@click.option(
    "--dead-letters",
    type=click.File("w", encoding="utf-8"),
    default="-",
    help="Rejected lines as JSONL (default stderr).",
)
@click.option("--policy", "policy_file", help="Policy YAML (HUIYAN_POLICY_FILE).")
@click.option("--batch-size", type=int, default=64, show_default=True)
def moderate(
    events_file: IO[bytes], output: IO[bytes], dead_letters: IO[str], policy_file: str | None, batch_size: int
) -> None:
    """Decide the events of a JSONL file without Kafka (one event per line)."""
    from stream.core.offline import moderate_lines
    from stream.runtime import build_context

    context = build_context(Settings.from_env(policy_file=policy_file), offline=True)
    # click opens "-" for writing as stdout; rejected lines belong on stderr beside the summary.
    sink = (
        sys.stderr
        if dead_letters is sys.stdout or getattr(dead_letters, "name", "") == "<stdout>"
        else dead_letters
    )
    summary = moderate_lines(events_file, output, sink, context, batch_size=batch_size)
    click.echo(
        f"huiyan moderate: {summary.decided} decided ({summary.actions_text()}), "
        f"{summary.rejected} rejected, policy {context.policy.version}",
        err=True,
    )


@main.command()
@click.argument("events_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--topic", help="Topic (default HUIYAN_CONTENT_TOPIC).")
def produce(events_file: Path, topic: str | None) -> None:
    """Produce each line of a JSONL file to the content topic, as is."""
    from stream.kafka.clients import produce_events

    lines = [line.rstrip(b"\r\n") for line in events_file.read_bytes().splitlines() if line.strip()]
    count = produce_events(Settings.from_env(), lines, topic=topic)
    click.echo(f"produced {count} events", err=True)


@main.command()
@click.option("--from-beginning", is_flag=True, help="Start at the oldest decision instead of new ones.")
@click.option(
    "--idle-timeout", type=float, default=10.0, show_default=True, help="Stop after this many idle seconds."
)
@click.option("--max", "max_records", type=int, help="Stop after this many decisions.")
@click.option("--dead-letters", is_flag=True, help="Read the dead-letter topic instead.")
def decisions(from_beginning: bool, idle_timeout: float, max_records: int | None, dead_letters: bool) -> None:
    """Print decisions (or dead letters) from Kafka as JSON lines."""
    from stream.kafka.clients import open_reader, read_records

    settings = Settings.from_env()
    topic = settings.dead_letter_topic if dead_letters else settings.decision_topic
    consumer = open_reader(settings, [topic], from_beginning=from_beginning)
    try:
        for record in read_records(consumer, idle_timeout_s=idle_timeout, max_records=max_records):
            if dead_letters:
                headers = {k: v.decode("utf-8", "replace") for k, v in record.headers.items()}
                click.echo(
                    json.dumps(
                        {"headers": headers, "value": record.value.decode("utf-8", "replace")},
                        ensure_ascii=False,
                    )
                )
            else:
                click.echo(record.value.decode("utf-8"))
    finally:
        consumer.close()


@main.command()
@click.option("--keep-running", is_flag=True, help="Leave the broker and the worker running at the end.")
@click.option(
    "--events",
    "events_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Events to send (default: the bundled samples).",
)
def demo(keep_running: bool, events_file: Path | None) -> None:
    """Start the local broker and a worker, send sample events, print the decisions as they arrive."""
    from stream.tools.demo import BROKER_SCRIPT, run_demo

    if not BROKER_SCRIPT.is_file():
        raise click.ClickException(
            f"huiyan demo starts the development broker with {BROKER_SCRIPT}, which only a source checkout "
            "has: run `make demo` there (an installed wheel decides files with `huiyan moderate`)"
        )
    sys.exit(run_demo(Settings.from_env(), keep_running=keep_running, events_file=events_file))
