"""API keys: each belongs to one tenant and is stored only as its SHA-256 hash, in a JSON file that is
re-read when it changes (keys rotate without a restart).

The file (``HUIYAN_API_KEYS_FILE``)::

    {"keys": [{"id": "k-3f9a1c", "tenant": "demo", "sha256": "<hex>", "created_at": "...",
               "disabled": false}]}

``huiyan api-key add --tenant demo`` writes an entry and prints the key once; nothing else ever sees it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

log = logging.getLogger(__name__)

PREFIX: Final = "hy_"
# A key file is looked at no more often than this (a stat per request would be wasted work).
RECHECK_S: Final = 1.0


class KeyFileError(ValueError):
    """A key file that cannot be used; the message names the file and what is wrong."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    tenant: str
    sha256: str
    created_at: str = ""
    disabled: bool = False


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh key: 32 random bytes, URL-safe."""
    return PREFIX + secrets.token_urlsafe(32)


def read_keys(path: Path) -> list[ApiKey]:
    """The keys of a key file (none when it does not exist)."""
    if not path.exists():
        return []
    try:
        doc = json.loads(path.read_text("utf-8"))
        entries = doc["keys"]
        keys = [
            ApiKey(
                id=str(entry["id"]),
                tenant=str(entry["tenant"]),
                sha256=str(entry["sha256"]).lower(),
                created_at=str(entry.get("created_at", "")),
                disabled=bool(entry.get("disabled", False)),
            )
            for entry in entries
        ]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"{path}: not a key file ({type(exc).__name__}: {exc})") from exc
    for key in keys:
        if len(key.sha256) != 64 or any(c not in "0123456789abcdef" for c in key.sha256):
            raise KeyFileError(f"{path}: key {key.id}: sha256 must be 64 hex digits")
        if not key.tenant:
            raise KeyFileError(f"{path}: key {key.id}: no tenant")
    return keys


def write_keys(path: Path, keys: list[ApiKey]) -> None:
    """Writes the key file atomically (a reader never sees half of it), readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc: dict[str, Any] = {"keys": [asdict(k) for k in keys]}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", "utf-8")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def add_key(path: Path, tenant: str) -> tuple[ApiKey, str]:
    """Adds a key for ``tenant`` to the file; returns its entry and the key itself (shown once)."""
    key = new_key()
    entry = ApiKey(
        id=f"k-{secrets.token_hex(3)}",
        tenant=tenant,
        sha256=digest(key),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    write_keys(path, [*read_keys(path), entry])
    return entry, key


class KeyRing:
    """The tenant of a presented key, from a key file followed as it changes. A file that turns bad
    keeps the keys read before (and logs why), so a typo in a rotation does not lock every caller out."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self._clock = clock
        self._by_hash: dict[str, ApiKey] = {}
        self._stamp: tuple[int, int] | None = None
        self._checked = float("-inf")
        self.reload(force=True)

    def reload(self, force: bool = False) -> None:
        try:
            stat = self.path.stat()
            stamp: tuple[int, int] | None = (stat.st_mtime_ns, stat.st_size)
        except FileNotFoundError:
            stamp = None
        if not force and stamp == self._stamp:
            return
        try:
            keys = read_keys(self.path)
        except KeyFileError as exc:
            if force:
                raise
            log.error("API keys not reloaded, the previous ones stay: %s", exc)
            return
        self._by_hash = {k.sha256: k for k in keys if not k.disabled}
        self._stamp = stamp
        log.info("API keys: %d active for %d tenants", len(self._by_hash), len(self.tenants))

    @property
    def tenants(self) -> set[str]:
        return {k.tenant for k in self._by_hash.values()}

    def __len__(self) -> int:
        return len(self._by_hash)

    def tenant_of(self, presented: str) -> str | None:
        """The tenant the key acts for, or None for an unknown or disabled key."""
        now = self._clock()
        if now - self._checked >= RECHECK_S:
            self._checked = now
            self.reload()
        found = self._by_hash.get(digest(presented))
        return found.tenant if found is not None else None
