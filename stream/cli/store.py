"""The decision store: ``huiyan store`` (the sink) and ``huiyan audit export|verify``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from stream.cli.base import main
from stream.settings import Settings
from stream.store.db import VERDICTS


@main.command(name="store")
@click.option("--url", help="Store URL (HUIYAN_STORE_URL): sqlite:///FILE or postgresql://...")
def store_command(url: str | None) -> None:
    """Keep the decision, shadow-decision and dead-letter topics in the store, each record once."""
    from stream.runtime import configure_logging
    from stream.store.db import StoreError, open_store
    from stream.store.sink import Sink

    settings = Settings.from_env(store_url=url)
    configure_logging(settings)
    try:
        Sink(settings, open_store(settings.store_url)).run()
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc


@main.group()
def audit() -> None:
    """The audit trail: export a period for a regulator, and verify an export."""


@audit.command(name="export")
@click.option("--from", "start", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day (UTC).")
@click.option(
    "--to", "end", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day (UTC), included."
)
@click.option("--tenant", help="One tenant's records only.")
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write."
)
@click.option("--url", help="Store URL (HUIYAN_STORE_URL).")
def audit_export(start: datetime, end: datetime, tenant: str | None, out: Path, url: str | None) -> None:
    """JSON lines per kind and day, each line chained to the one before by SHA-256, and a manifest that
    chains the files: nothing can be removed unseen."""
    from stream.store.audit import export
    from stream.store.db import open_store

    store = open_store(Settings.from_env(store_url=url).store_url)
    try:
        done = export(store, out, start.date(), end.date(), tenant)
    finally:
        store.close()
    click.echo(f"{done.records} records in {done.files} files written to {out}; chain {done.chain}")


@audit.command(name="verify")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def audit_verify(directory: Path) -> None:
    """Check an export: every file present, unchanged, and every line in its chain."""
    from stream.store.audit import verify

    problems = verify(directory)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} problems: the export is not complete or was changed")
    click.echo("the export is complete and unchanged")


@main.group()
def review() -> None:
    """The review queue: flagged decisions waiting for a reviewer's verdict (stored, and produced to
    HUIYAN_REVIEW_TOPIC)."""


_url_option = click.option("--url", help="Store URL (HUIYAN_STORE_URL).")


@review.command(name="queue")
@click.option("--tenant", required=True)
@click.option("--category", help="Only decisions with a reason of this category (rumor, vulgar, ...).")
@click.option("--scene")
@click.option("--reason", help="Only decisions with this reason code.")
@click.option("--limit", type=int, default=20, show_default=True)
@_url_option
def review_queue(
    tenant: str, category: str | None, scene: str | None, reason: str | None, limit: int, url: str | None
) -> None:
    """Flagged decisions of a tenant with no final verdict, oldest first, one JSON line each."""
    from stream.store.db import open_store

    store = open_store(Settings.from_env(store_url=url).store_url)
    try:
        rows = store.queue(tenant, category=category, scene=scene, reason=reason, limit=limit)
    finally:
        store.close()
    for row in rows:
        doc = json.loads(row["doc"])
        summary = {
            "event_id": row["event_id"],
            "at": row["at"],
            "scene": row["scene"],
            "content_id": row["content_id"],
            "reasons": [r["code"] for r in doc["reasons"]],
            "scores": doc["scores"],
        }
        click.echo(json.dumps(summary, ensure_ascii=False))


@review.command(name="record")
@click.argument("event_id")
@click.option("--tenant", required=True)
@click.option("--verdict", required=True, type=click.Choice(VERDICTS))
@click.option("--note", default="")
@click.option("--by", "reviewer", required=True, help="Who reviewed it.")
@_url_option
def review_record(
    event_id: str, tenant: str, verdict: str, note: str, reviewer: str, url: str | None
) -> None:
    """Record a verdict on a stored decision and produce it to the review topic."""
    from stream.store.db import StoreError, open_store
    from stream.store.reviews import ReviewPublisher, record_review

    settings = Settings.from_env(store_url=url)
    store = open_store(settings.store_url)
    publisher = ReviewPublisher(settings)
    try:
        done = record_review(store, tenant, event_id, verdict, reviewer, note, publish=publisher.publish)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        publisher.close()
        store.close()
    click.echo(f"{done.verdict} on {done.event_id} by {done.reviewer} at {done.at}")
