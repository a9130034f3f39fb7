"""What a metadata reader returns, the limits every reader works within, and the parsing of the AIGC
payload text that all containers share.

A reader (one module per container format) turns ``bytes`` into a :class:`Extraction`: the GB 45438
``AIGC`` records it found, with where each was found and how it deviates from the standard form, the
IPTC digital source types it saw in XMP, and whether a C2PA manifest store is embedded. Readers never
raise: damaged or hostile input becomes a :class:`Problem`. Judging a record (required fields,
provider code, tampering) is ``classifiers.labels.implicit``'s job, not a reader's.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

# Ways a found record departs from the GB 45438-2025 Annex E form, all seen in real files (labels.md §4.6).
Variant = Literal[
    "wrapped",  # {"AIGC": {...}}: the Annex E sample form (standard in EXIF/PNG text, bare in XMP/ilst)
    "bare",  # {...} without the AIGC wrapper
    "prefixed",  # AIGC{...} written as one string (seen in a JPEG APP segment)
    "html_escaped",  # &quot; entities inside the JSON (Doubao XMP)
    "xmp_attribute",  # TC260:AIGC="{...}" attribute form (PicWish)
    "numeric_label",  # "Label": 1 instead of "1"
    "after_media_data",  # placed after IDAT / mdat / the image data
    # a place no guide names (EXIF ImageDescription, a PNG tEXt key spelled differently)
    "nonstandard_location",
    "yaml",  # Markdown front matter mapping rather than JSON
]

ProblemCode = Literal[
    "truncated",  # the container ends inside a structure
    "corrupt",  # a structure is malformed (bad length, bad signature)
    "limit_exceeded",  # a size, count, depth or decompression limit was reached; reading stopped there
    "unparseable_label",  # an AIGC field was found but its value is not a JSON object
    "unsupported",  # no reader for this MIME type / format
    "mime_mismatch",  # the bytes are another format than the declared MIME type says
    "label_changed",  # an earlier version kept in the file (PDF incremental update) had another label
    "reader_error",  # a bug in a reader; the exception is named in the detail
]

# IPTC NewsCodes digital source types that mean generative AI (labels.md §5.1). Bare
# ``algorithmicMedia`` (pure algorithm, no training data) is deliberately absent.
IPTC_PREFIX: Final = "http://cv.iptc.org/newscodes/digitalsourcetype/"
AI_SOURCE_TYPES: Final = frozenset(
    {"trainedAlgorithmicMedia", "compositeWithTrainedAlgorithmicMedia", "compositeSynthetic"}
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on the work one file may cause, whatever it declares about itself."""

    max_bytes: int = 64 * 1024 * 1024  # larger inputs are read only up to here
    max_structures: int = 10_000  # chunks, boxes, segments, frames, zip entries walked per file
    max_depth: int = 16  # nesting of boxes / IFDs / XML elements
    max_field_bytes: int = 1024 * 1024  # one metadata value (an XMP packet, a text chunk, a tag)
    max_inflated_bytes: int = 4 * 1024 * 1024  # decompressed output of any one stream (zTXt, zip entry)
    max_labels: int = 32  # AIGC records kept per file (more is already a violation of §6.1 c)


DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True)
class FoundLabel:
    """One AIGC record as found in the file."""

    location: str  # e.g. "png:iTXt:AIGC", "jpeg:APP1:xmp:TC260:AIGC", "mp4:moov/udta/meta/ilst:AIGC"
    raw: str  # the value as stored (cut to 2,000 characters)
    # The seven-element object with any {"AIGC": ...} wrapper removed; None when the value is not JSON.
    record: dict[str, Any] | None
    variants: tuple[Variant, ...] = ()
    error: str | None = None  # why ``record`` is None


@dataclass(frozen=True, slots=True)
class SourceTypeClaim:
    """An IPTC DigitalSourceType value found in XMP (``Iptc4xmpExt:DigitalSourceType``)."""

    location: str
    value: str  # as stored, usually the full NewsCodes URI

    @property
    def term(self) -> str:
        return self.value.rsplit("/", 1)[-1].strip()

    @property
    def is_ai(self) -> bool:
        return self.term in AI_SOURCE_TYPES


@dataclass(frozen=True, slots=True)
class Problem:
    code: ProblemCode
    detail: str
    location: str | None = None


@dataclass
class Extraction:
    """Everything one reader found in one file."""

    format: str  # the container as identified: "png", "jpeg", "mp4", ...
    labels: list[FoundLabel] = field(default_factory=list)
    source_types: list[SourceTypeClaim] = field(default_factory=list)
    # Where an embedded C2PA manifest store was seen (PNG caBX, JPEG APP11 JUMBF, BMFF uuid, RIFF C2PA,
    # ID3 GEOB); reading it is ``c2pa.py``'s job through c2pa-python.
    c2pa_locations: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def problem(self, code: ProblemCode, detail: str, location: str | None = None) -> None:
        if len(self.problems) < 50:
            self.problems.append(Problem(code, detail[:300], location))

    def add_label(self, label: FoundLabel, limits: Limits) -> None:
        if len(self.labels) < limits.max_labels:
            self.labels.append(label)
        elif not any(p.code == "limit_exceeded" and p.detail.startswith("more than") for p in self.problems):
            self.problem("limit_exceeded", f"more than {limits.max_labels} AIGC records; the rest ignored")


class LimitExceeded(Exception):
    """Raised inside a reader when a limit is hit; the dispatcher records it as a problem."""


class Truncated(Exception):
    """Raised inside a reader when the input ends inside a structure."""


_RAW_CHARS: Final = 2000
_PREFIXED: Final = re.compile(r"^\s*AIGC\s*[:=]?\s*(?=\{)")


def decode_text(value: bytes) -> str:
    """Metadata text as stored: UTF-8 normally; GB 18030 as the fallback the standard's charset allows."""
    for encoding in ("utf-8", "gb18030"):
        try:
            return value.decode(encoding)
        except UnicodeDecodeError:
            continue
    return value.decode("utf-8", errors="replace")


def parse_aigc_text(text: str, location: str, *, variants: tuple[Variant, ...] = ()) -> FoundLabel:
    """Parses an AIGC value (wrapped, bare, ``AIGC{...}``-prefixed or HTML-escaped JSON) into a record.

    GB 45438-2025 Annex E b: the value is a JSON string; the wrapper ``{"AIGC": {...}}`` is the Annex E
    sample form, XMP and MP4 ilst carry the bare object. Both are accepted and reported as variants.
    """
    found: list[Variant] = list(variants)
    body = text.strip().lstrip("\ufeff").rstrip("\x00").strip()
    if "&quot;" in body or "&#34;" in body or "&#x22;" in body:
        body = html.unescape(body)
        found.append("html_escaped")
    if match := _PREFIXED.match(body):
        body = body[match.end() :]
        found.append("prefixed")
    raw = text[:_RAW_CHARS]
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return FoundLabel(location, raw, None, tuple(found), f"not JSON: {exc}"[:200])
    if not isinstance(value, dict):
        return FoundLabel(location, raw, None, tuple(found), f"JSON {type(value).__name__}, not an object")
    if set(value) == {"AIGC"}:
        inner = value["AIGC"]
        if not isinstance(inner, dict):
            return FoundLabel(location, raw, None, tuple(found), "the AIGC wrapper does not hold an object")
        value = inner
        found.append("wrapped")
    else:
        found.append("bare")
    if isinstance(value.get("Label"), int | float) and not isinstance(value.get("Label"), bool):
        found.append("numeric_label")
    return FoundLabel(location, raw, value, tuple(dict.fromkeys(found)))


def is_aigc_key(key: str) -> bool:
    """GB 45438-2025 Annex E a: the metadata field name or keyword contains ``AIGC``."""
    return "aigc" in key.lower()


# An AIGC value inside other text: {"AIGC": ...} (maybe HTML-escaped) or AIGC{...}.
_WRAPPED_START: Final = re.compile(r"\{\s*(?:\"|&quot;|&#34;)AIGC(?:\"|&quot;|&#34;)\s*:")
_PREFIX_START: Final = re.compile(r"\bAIGC[\s\x00:=]*(?=\{)")
_RECORD_KEYS: Final = ("Label", "ContentProducer", "ProduceID")


def find_aigc_json(text: str) -> str | None:
    """The AIGC value held in ``text``, a field whose name says nothing (a comment, a description).

    The whole text when it is the value (wrapped, bare, ``AIGC{...}`` or HTML-escaped JSON), else the
    first ``{"AIGC": {...}}`` or ``AIGC{...}`` inside it; None when the text holds no AIGC value, so
    that prose merely mentioning AIGC is not taken for a label.
    """
    body = text.strip().lstrip("\ufeff").strip("\x00").strip()
    lowered = body.lower()
    if "aigc" not in lowered and "contentproducer" not in lowered:
        return None
    if prefix := _PREFIX_START.match(body):
        return "AIGC" + body[prefix.end() :]
    if body.startswith("{") and _is_label_object(body):
        return body
    wrapped = _WRAPPED_START.search(body)
    prefixed = _PREFIX_START.search(body)
    starts = [m for m in (wrapped, prefixed) if m is not None]
    if not starts:
        return None
    first = min(starts, key=lambda m: m.start())
    brace = first.end() if first is prefixed else first.start()  # the prefix pattern ends at its "{"
    try:
        _, end = json.JSONDecoder().raw_decode(body, brace)
    except (ValueError, RecursionError):
        end = len(body)  # broken or escaped JSON: hand over the rest, the parser says what is wrong
    head = "AIGC" if first is prefixed else ""
    return head + body[brace:end]


def _is_label_object(body: str) -> bool:
    """Whether a text that starts with ``{`` is an AIGC record (wrapped or bare), readable or not."""
    unescaped = html.unescape(body) if "&" in body else body
    try:
        value = json.loads(unescaped)
    except (ValueError, RecursionError):
        # Not JSON: a damaged label still counts when it names the wrapper or the record's keys.
        return '"AIGC"' in unescaped or all(f'"{key}"' in unescaped for key in _RECORD_KEYS[:2])
    if not isinstance(value, dict):
        return False
    return "AIGC" in value or any(key in value for key in _RECORD_KEYS)
