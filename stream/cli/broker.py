"""The broker's set-up: topics with their configurations, and the ACLs of each role."""

from __future__ import annotations

import click

from stream.cli.base import main
from stream.settings import Settings


@main.command()
@click.option("--apply", "do_apply", is_flag=True, help="Create them (as an operator allowed to alter ACLs).")
@click.option("--worker", default="User:huiyan-worker", show_default=True, help="The workers' principal.")
@click.option("--admin", default="User:huiyan-admin", show_default=True, help="Policy administrators.")
@click.option("--producer", default="User:huiyan-producer", show_default=True, help="Content producers.")
def acls(do_apply: bool, worker: str, admin: str, producer: str) -> None:
    """List (or --apply) the Kafka ACLs of each role for this deployment's topics (docs/security.md)."""
    from stream.kafka.acls import apply, grants

    settings = Settings.from_env()
    planned = grants(settings, {"worker": worker, "admin": admin, "producer": producer})
    for grant in planned:
        click.echo(grant.describe())
    if do_apply:
        created = apply(settings, planned)
        click.echo(f"created {created} ACLs on {settings.broker}")


@main.command()
def topics() -> None:
    """Create the topics if missing (content, decisions, dead letters, shadow, strikes, policy, reviews)."""
    from stream.kafka.clients import create_topics

    settings = Settings.from_env()
    created = create_topics(settings, extra=(settings.review_topic,))
    click.echo(f"created: {', '.join(created) or 'nothing (all exist)'}")
