"""Reads Markdown files for the AIGC label in their YAML front matter.

labels.md §4.3: AI-written Markdown carries the label as a front matter mapping ``AIGC:`` with the seven
keys (what AigcTotal checks and thousands of real files show); some writers put the JSON there as one
string (``AIGC: '{...}'``). The mapping form is reported as the ``yaml`` variant; a non-standard value
such as MiniMax's ``Label: AIGC`` comes back as written, for the validator to judge. Markdown has no
magic number: the reader is chosen by the declared MIME type only. Only the front matter is parsed,
with ``yaml`` safe loading, a size bound, and no anchors or aliases (which can multiply a small text
into a huge structure). A key written twice comes back twice (a loader would keep the last one).
This module must not read the document body or judge the label.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

import yaml

from classifiers.labels.media.base import (
    Extraction,
    FoundLabel,
    Limits,
    Variant,
    decode_text,
    is_aigc_key,
    parse_aigc_text,
)
from classifiers.labels.media.registry import ReaderSpec, register

_OPENING: Final = re.compile(r"\A\ufeff?---[ \t]*\r?\n")
_CLOSING: Final = re.compile(r"^(?:---|\.\.\.)[ \t]*\r?$", re.M)
_RAW_CHARS: Final = 2000
_LOADER: Final = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    """The AIGC records among the top-level keys of the front matter."""
    # The front matter is at the very start; a bound on it bounds the whole parse.
    head = data[: limits.max_field_bytes + 8]
    # A cut can split a character: then the head is read as UTF-8 minus the broken end.
    text = decode_text(head) if len(head) == len(data) else head.decode("utf-8", errors="ignore")
    front_matter = _front_matter(text, out, limits)
    if front_matter is None:
        return
    try:
        _check_events(front_matter, limits)
        entries = _top_level_entries(front_matter)
    except (yaml.YAMLError, _Refused) as exc:
        out.problem("corrupt", f"the front matter is not readable YAML: {exc}", "markdown:front_matter")
        return
    for key, value in entries:
        if isinstance(key, str) and is_aigc_key(key):
            out.add_label(_label(key, value), limits)


def _top_level_entries(front_matter: str) -> list[tuple[Any, Any]]:
    """The top-level (key, value) pairs in the order written, a repeated key as often as it occurs.

    A YAML loader keeps only the last of two ``AIGC:`` keys; GB 45438-2025 6.1 c (one label per file)
    needs both, so the pairs are taken from the composed node tree and each value is built on its own.
    """
    node = yaml.compose(front_matter, Loader=_LOADER)
    if not isinstance(node, yaml.MappingNode):
        return []
    constructor = _LOADER("")
    try:
        return [
            (constructor.construct_document(key), constructor.construct_document(value))
            for key, value in node.value
        ]
    finally:
        constructor.dispose()


class _Refused(Exception):
    """The front matter uses anchors or aliases, or nests too deeply."""


def _front_matter(text: str, out: Extraction, limits: Limits) -> str | None:
    opening = _OPENING.match(text)
    if opening is None:
        return None
    closing = _CLOSING.search(text, opening.end())
    if closing is None:
        if len(text) > limits.max_field_bytes:
            out.problem("limit_exceeded", "front matter longer than the field limit", "markdown:front_matter")
        else:
            out.problem("truncated", "the front matter has no closing '---' line", "markdown:front_matter")
        return None
    return text[opening.end() : closing.start()]


def _check_events(front_matter: str, limits: Limits) -> None:
    """Refuses aliases (YAML bombs) and deep nesting before the document is built."""
    depth = 0
    for count, event in enumerate(yaml.parse(front_matter, Loader=_LOADER)):
        if count > limits.max_structures:
            raise _Refused("too many YAML nodes")
        if isinstance(event, yaml.AliasEvent):
            raise _Refused("YAML aliases are not accepted in front matter")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > limits.max_depth:
                raise _Refused("YAML nested too deeply")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _label(key: str, value: Any) -> FoundLabel:
    location = f"markdown:front_matter:{key}"
    if isinstance(value, str):
        return parse_aigc_text(value, location)  # the JSON as one string
    if not isinstance(value, dict):
        raw = str(value)[:_RAW_CHARS]
        return FoundLabel(location, raw, None, ("yaml",), f"YAML {type(value).__name__}, not a mapping")
    variants: list[Variant] = ["yaml"]
    record = _plain(value)
    if set(record) == {"AIGC"} and isinstance(record["AIGC"], dict):
        record = record["AIGC"]
        variants.append("wrapped")
    label = record.get("Label")
    if isinstance(label, int | float) and not isinstance(label, bool):
        variants.append("numeric_label")
    raw = json.dumps(record, ensure_ascii=False, default=str)[:_RAW_CHARS]
    return FoundLabel(location, raw, record, tuple(variants))


def _plain(mapping: dict[Any, Any]) -> dict[str, Any]:
    """The mapping with string keys and JSON-like values (YAML dates become their ISO text)."""
    result: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, dict):
            result[str(key)] = _plain(value)
        elif isinstance(value, list):
            result[str(key)] = [item if _is_json_scalar(item) else str(item) for item in value]
        else:
            result[str(key)] = value if _is_json_scalar(value) else str(value)
    return result


def _is_json_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _sniff(data: bytes) -> bool:
    return False  # no magic number: chosen by the declared MIME type only


SPEC = register(
    ReaderSpec(format="markdown", mime_types=("text/markdown", "text/x-markdown"), sniff=_sniff, read=read)
)
