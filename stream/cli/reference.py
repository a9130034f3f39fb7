"""Reference output: the settings table and the JSON Schemas of the contracts."""

from __future__ import annotations

import json

import click

from stream.cli.base import main
from stream.settings import Settings, markdown_table


@main.command(name="settings")
@click.option("--markdown", is_flag=True, help="Print the configuration table of docs/configuration.md.")
def settings_command(markdown: bool) -> None:
    """Show every setting with its environment variable and current value."""
    if markdown:
        click.echo(markdown_table())
        return
    current = Settings.from_env()
    from stream.settings import SETTINGS

    for setting in SETTINGS:
        click.echo(f"{setting.env}={getattr(current, setting.name)}")


@main.command()
@click.argument("which", type=click.Choice(["event", "decision"]))
def schema(which: str) -> None:
    """Print the JSON Schema of the event or decision contract."""
    from stream.core.records import load_schema

    name = "content-event.v1" if which == "event" else "decision.v1"
    click.echo(json.dumps(load_schema(name), ensure_ascii=False, indent=2))
