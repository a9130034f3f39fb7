"""Chooses the metadata reader for a file and runs it inside its limits.

The bytes decide the format (magic numbers); the declared MIME type is only a hint for formats
without one (Markdown) and a mismatch is reported. Whatever a reader does wrong, :func:`read_media`
returns an :class:`Extraction`: limits, truncation and reader bugs become problems, never exceptions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from classifiers.labels.media.base import DEFAULT_LIMITS, Extraction, LimitExceeded, Limits, Truncated

Reader = Callable[[bytes, Extraction, Limits], None]


@dataclass(frozen=True, slots=True)
class ReaderSpec:
    """One container format: the MIME types that name it, how to recognise its bytes, its reader."""

    format: str
    mime_types: tuple[str, ...]
    sniff: Callable[[bytes], bool]
    read: Reader


REGISTRY: list[ReaderSpec] = []
_GENERIC = frozenset({"application/octet-stream", "binary/octet-stream", "application/unknown"})


def register(spec: ReaderSpec) -> ReaderSpec:
    REGISTRY.append(spec)
    return spec


def spec_for(data: bytes, mime_type: str | None) -> tuple[ReaderSpec | None, bool]:
    """The reader for ``data`` and whether ``mime_type`` disagrees with what the bytes are."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    if mime in _GENERIC:
        mime = ""  # "some bytes" declares no format: nothing to disagree with
    by_mime = next((s for s in REGISTRY if mime in s.mime_types), None)
    if by_mime is not None and by_mime.sniff(data):
        return by_mime, False
    by_bytes = next((s for s in REGISTRY if s.sniff(data)), None)
    if by_bytes is not None:
        return by_bytes, bool(mime) and by_mime is not by_bytes
    return by_mime, False


def read_media(data: bytes, mime_type: str | None, limits: Limits = DEFAULT_LIMITS) -> Extraction:
    """Every AIGC record, IPTC source type and C2PA store location in ``data``; never raises."""
    spec, mismatch = spec_for(data, mime_type)
    if spec is None:
        out = Extraction(format="unknown")
        out.problem("unsupported", f"no metadata reader for {mime_type or 'undeclared'} content")
        return out
    out = Extraction(format=spec.format)
    if mismatch:
        out.problem("mime_mismatch", f"declared {mime_type}, but the bytes are {spec.format}")
    if len(data) > limits.max_bytes:
        out.problem("limit_exceeded", f"{len(data)} bytes; only the first {limits.max_bytes} read")
        data = data[: limits.max_bytes]
    try:
        spec.read(data, out, limits)
    except LimitExceeded as exc:
        out.problem("limit_exceeded", str(exc) or "limit exceeded")
    except Truncated as exc:
        out.problem("truncated", str(exc) or "the file ends inside a structure")
    except RecursionError:
        out.problem("limit_exceeded", "nested too deeply")
    except Exception as exc:  # a reader bug must not take the worker down
        out.problem("reader_error", f"{type(exc).__name__}: {exc}")
    return out
