"""Pinned training data: every file a training run reads, with its SHA-256.

A run refuses to start when a file differs from the committed manifest, so two runs with the same seed
read the same bytes. The data itself stays in ../shared (licences); only names and hashes are committed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_manifest(root: Path, files: Iterable[Path]) -> dict[str, str]:
    """Relative path -> SHA-256 for ``files`` under ``root``."""
    return {str(f.relative_to(root)): sha256_file(f) for f in sorted(files)}


def verify_manifest(root: Path, manifest_path: Path) -> dict[str, str]:
    """Checks every file of the manifest; raises ``SystemExit`` naming the first mismatch."""
    manifest: dict[str, str] = json.loads(manifest_path.read_text("utf-8"))["files"]
    for relative, expected in manifest.items():
        path = root / relative
        if not path.exists():
            raise SystemExit(f"training data missing: {path} (manifest {manifest_path})")
        actual = sha256_file(path)
        if actual != expected:
            raise SystemExit(f"training data changed: {path} has sha256 {actual}, manifest says {expected}")
    return manifest


def write_manifest(root: Path, files: Iterable[Path], manifest_path: Path, note: str) -> None:
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "note": note,
        "root": "../shared/datasets (relative to the repository)",
        "files": build_manifest(root, files),
    }
    manifest_path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", "utf-8")
