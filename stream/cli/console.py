"""The trust-and-safety console: ``huiyan console`` and its users (``huiyan console-user``)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from stream.cli.base import main
from stream.console.users import ROLES
from stream.settings import Settings


@main.command()
@click.option("--port", type=int, help="Port (HUIYAN_CONSOLE_PORT, default 8090).")
def console(port: int | None) -> None:
    """Run the console on 127.0.0.1 (HUIYAN_CONSOLE_HOST): decisions, reviews, thresholds."""
    from stream.console.server import run_console

    try:
        run_console(Settings.from_env(console_port=port))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc


@main.group(name="console-user")
def console_user() -> None:
    """Console users: a role each (viewer, reviewer, admin), passwords kept as scrypt hashes."""


@console_user.command(name="add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def console_user_add(name: str, role: str, password_stdin: bool) -> None:
    """Add (or replace) a user; asks for the password unless --password-stdin."""
    from stream.console.users import add_user

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    path = Path(Settings.from_env().console_users_file)
    try:
        add_user(path, name, role, password)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"user {name} ({role}) written to {path}", err=True)
