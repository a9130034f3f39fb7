"""The synchronous check API: ``huiyan serve`` and the API keys it accepts (``huiyan api-key``)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from stream.cli.base import main
from stream.settings import Settings


@main.command()
@click.option("--host", help="Address to listen on (HUIYAN_API_HOST, default 127.0.0.1).")
@click.option("--port", type=int, help="Port (HUIYAN_API_PORT, default 8080).")
@click.option("--policy", "policy_file", help="Policy YAML (HUIYAN_POLICY_FILE).")
def serve(host: str | None, port: int | None, policy_file: str | None) -> None:
    """Run the check API: POST /v1/moderate answers with the decision and records it on Kafka."""
    from stream.api.keys import KeyFileError
    from stream.api.server import run_api

    settings = Settings.from_env(api_host=host, api_port=port, policy_file=policy_file)
    try:
        run_api(settings)
    except (KeyFileError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.group(name="api-key")
def api_key() -> None:
    """Keys of the check API: one tenant each, stored as SHA-256 hashes (HUIYAN_API_KEYS_FILE)."""


def _keys_file(path: str | None) -> Path:
    return Path(path or Settings.from_env().api_keys_file)


_file_option = click.option("--file", "keys_file", help="Key file (default HUIYAN_API_KEYS_FILE).")


@api_key.command(name="add")
@click.option("--tenant", required=True, help="The tenant the key acts for.")
@_file_option
def api_key_add(tenant: str, keys_file: str | None) -> None:
    """Create a key for a tenant; print it once (only its hash is kept). A running server takes it
    within a second."""
    from stream.api.keys import add_key

    entry, key = add_key(_keys_file(keys_file), tenant)
    click.echo(key)
    click.echo(f"key {entry.id} for tenant {tenant} added to {_keys_file(keys_file)}", err=True)


@api_key.command(name="list")
@_file_option
def api_key_list(keys_file: str | None) -> None:
    """List the keys: id, tenant, created, disabled (never the keys themselves)."""
    from stream.api.keys import read_keys

    for key in read_keys(_keys_file(keys_file)):
        state = "disabled" if key.disabled else "active"
        click.echo(
            json.dumps({"id": key.id, "tenant": key.tenant, "created_at": key.created_at, "state": state})
        )


@api_key.command(name="disable")
@click.argument("key_id")
@_file_option
def api_key_disable(key_id: str, keys_file: str | None) -> None:
    """Disable a key (rotation: add the new key, move callers to it, then disable the old one)."""
    from dataclasses import replace

    from stream.api.keys import read_keys, write_keys

    path = _keys_file(keys_file)
    keys = read_keys(path)
    if key_id not in {k.id for k in keys}:
        raise click.ClickException(f"no key {key_id} in {path}")
    write_keys(path, [replace(k, disabled=True) if k.id == key_id else k for k in keys])
    click.echo(f"key {key_id} disabled", err=True)
