"""``huiyan audit export`` and ``verify``: the stored records of a period as JSON lines a regulator can
check for completeness.

One file per kind and day (``decisions-2026-12-04.jsonl``, ...). Each line is ``{"record": ...,
"chain": H}``, where ``H = sha256(previous line's H + the record's canonical JSON)`` and the first ``H``
starts from the file's name: removing, reordering or changing a line breaks every ``H`` after it.
``MANIFEST.json`` lists the files in order with their line count, SHA-256 and last ``H``, and chains the
files the same way, so a removed file shows too. ``verify`` recomputes all of it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from stream.store.db import KINDS, Store

MANIFEST = "MANIFEST.json"


def _canonical(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _seed(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


def _link(previous: str, data: bytes) -> str:
    return hashlib.sha256(previous.encode("ascii") + data).hexdigest()


@dataclass(frozen=True, slots=True)
class Exported:
    files: int
    records: int
    chain: str


def export(store: Store, out: Path, start: date, end: date, tenant: str | None = None) -> Exported:
    """Writes the records of ``start`` to ``end`` (both included) of every kind, optionally one tenant's."""
    out.mkdir(parents=True, exist_ok=True)
    files: list[dict[str, Any]] = []
    chain = _seed(f"huiyan audit {start} {end} {tenant or '*'}")
    total = 0
    for kind in KINDS:
        day = start
        while day <= end:
            rows = list(store.rows(kind, day, tenant))
            if rows:
                name = f"{kind}-{day.isoformat()}.jsonl"
                head = _seed(name)
                with (out / name).open("wb") as handle:
                    for row in rows:
                        record = {**row, "doc": json.loads(row["doc"])}
                        head = _link(head, _canonical(record))
                        handle.write(_canonical({"record": record, "chain": head}) + b"\n")
                digest = hashlib.sha256((out / name).read_bytes()).hexdigest()
                chain = _link(chain, digest.encode("ascii"))
                files.append(
                    {"name": name, "lines": len(rows), "sha256": digest, "last": head, "chain": chain}
                )
                total += len(rows)
            day += timedelta(days=1)
    manifest = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "tenant": tenant,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": files,
        "chain": chain,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return Exported(len(files), total, chain)


def verify(directory: Path) -> list[str]:
    """Every problem found in an export (none: it is complete and unchanged)."""
    manifest = json.loads((directory / MANIFEST).read_text("utf-8"))
    problems: list[str] = []
    chain = _seed(f"huiyan audit {manifest['from']} {manifest['to']} {manifest['tenant'] or '*'}")
    listed = {entry["name"] for entry in manifest["files"]}
    for path in sorted(directory.glob("*.jsonl")):
        if path.name not in listed:
            problems.append(f"{path.name}: not in the manifest")
    for entry in manifest["files"]:
        path = directory / entry["name"]
        if not path.exists():
            problems.append(f"{entry['name']}: missing")
            chain = _link(chain, entry["sha256"].encode("ascii"))
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:
            problems.append(f"{entry['name']}: SHA-256 differs from the manifest")
        head = _seed(entry["name"])
        lines = [line for line in data.splitlines() if line.strip()]
        for number, line in enumerate(lines, start=1):
            doc = json.loads(line)
            head = _link(head, _canonical(doc["record"]))
            if head != doc["chain"]:
                problems.append(
                    f"{entry['name']}:{number}: chain broken (a line before it was removed or changed)"
                )
                break
        if len(lines) != entry["lines"] or head != entry["last"]:
            problems.append(f"{entry['name']}: {len(lines)} lines, the manifest says {entry['lines']}")
        chain = _link(chain, digest.encode("ascii"))
        if chain != entry["chain"]:
            problems.append(
                f"{entry['name']}: the file chain breaks here (a file before it was removed or changed)"
            )
    if chain != manifest["chain"]:
        problems.append("the manifest's chain does not match its files")
    return problems
