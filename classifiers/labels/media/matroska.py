"""Reads Matroska and WebM files (EBML) for the AIGC label in their tags.

TC260-PG-20257A via implementers (labels.md §4.3): the label is a ``Segment/Tags/Tag/SimpleTag`` whose
``TagName`` is ``AIGC`` and whose ``TagString`` is the JSON, as ``ffmpeg -metadata AIGC=...`` writes it
(the name keeps its case). The reader walks the EBML elements by their declared sizes: it descends only
into the Segment, Tags, Tag and SimpleTag elements and skips everything else (Clusters, Cues,
Attachments) without reading it. An element of unknown size (all size bits set, as a live stream or a
pipe writes the Segment and sometimes the Clusters) ends where its parent ends, or, for a Cluster, at
the first element that cannot be a Cluster's child. Tags after the first Cluster are reported as
``after_media_data``. This module must not decode frames or judge the label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from classifiers.labels.media.base import (
    Extraction,
    LimitExceeded,
    Limits,
    ProblemCode,
    Variant,
    decode_text,
    is_aigc_key,
    parse_aigc_text,
)
from classifiers.labels.media.registry import ReaderSpec, register

EBML_ID: Final = 0x1A45DFA3
SEGMENT: Final = 0x18538067
CLUSTER: Final = 0x1F43B675
TAGS: Final = 0x1254C367
TAG: Final = 0x7373
SIMPLE_TAG: Final = 0x67C8
TAG_NAME: Final = 0x45A3
TAG_STRING: Final = 0x4487
TAG_BINARY: Final = 0x4485
STANDARD_NAME: Final = "AIGC"
MAGIC: Final = b"\x1a\x45\xdf\xa3"
# The Segment's own children (Matroska spec, level 1): where an unknown-size Cluster ends.
_SEGMENT_CHILDREN: Final = frozenset(
    {
        0x114D9B74,  # SeekHead
        0x1549A966,  # Info
        0x1654AE6B,  # Tracks
        CLUSTER,
        0x1C53BB6B,  # Cues
        0x1941A469,  # Attachments
        0x1043A770,  # Chapters
        TAGS,
        EBML_ID,  # the next Segment of a chained file starts with its EBML header
        SEGMENT,
    }
)
_MAX_ID_LENGTH: Final = 4  # EBML: element IDs are 1-4 bytes (EBMLMaxIDLength)
_MAX_SIZE_LENGTH: Final = 8  # EBML: sizes are 1-8 bytes (EBMLMaxSizeLength)


@dataclass(frozen=True, slots=True)
class _Element:
    id: int
    start: int  # the first byte of the ID
    body: int  # the first byte after the size
    end: int  # one past the last byte, clipped to the parent; the parent's end when the size is unknown
    unknown_size: bool = False
    clipped: bool = False  # the declared size runs past the parent or the file


@dataclass
class _State:
    data: bytes
    out: Extraction
    limits: Limits
    elements: int = 0
    after_clusters: bool = False

    def count(self) -> None:
        self.elements += 1
        if self.elements > self.limits.max_structures:
            raise LimitExceeded(f"more than {self.limits.max_structures} EBML elements")

    @property
    def variants(self) -> tuple[Variant, ...]:
        return ("after_media_data",) if self.after_clusters else ()


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    """Every AIGC record in the SimpleTags of every Segment of the file."""
    state = _State(data, out, limits)
    position = 0
    while position < len(data):
        element = _element_at(state, position, len(data), "file")
        if element is None:
            return
        state.count()
        if position == 0 and element.id != EBML_ID:
            out.problem("corrupt", "the file does not start with an EBML header", "matroska")
            return
        position = _segment(state, element) if element.id == SEGMENT else element.end


def _vint(data: bytes, position: int, end: int, max_length: int) -> tuple[int, int, bool] | None:
    """(value with the length marker removed, length, all value bits set) of the EBML number at
    ``position``; None when the first byte declares more than ``max_length`` bytes or the data ends."""
    if position >= end:
        return None
    first = data[position]
    length = 1
    while length <= max_length and not first & (0x80 >> (length - 1)):
        length += 1
    if length > max_length or position + length > end:
        return None
    value = first & (0xFF >> length)
    for byte in data[position + 1 : position + length]:
        value = (value << 8) | byte
    return value, length, value == (1 << (7 * length)) - 1


def _element_at(state: _State, position: int, end: int, where: str) -> _Element | None:
    """The element header at ``position`` inside a parent ending at ``end``; None (with a problem
    recorded) when there is none."""
    data, out = state.data, state.out
    location = f"matroska:{where}"
    if data[position] == 0 and not data[position:end].strip(b"\x00"):
        return None  # zero padding after the last element
    id_field = _vint(data, position, end, _MAX_ID_LENGTH)
    if id_field is None:
        code: ProblemCode = "truncated" if data[position] and end - position < _MAX_ID_LENGTH else "corrupt"
        out.problem(code, f"no EBML element ID at offset {position}", location)
        return None
    _, id_length, _ = id_field
    element_id = int.from_bytes(data[position : position + id_length], "big")  # IDs keep their marker
    size_field = _vint(data, position + id_length, end, _MAX_SIZE_LENGTH)
    if size_field is None:
        size_at = position + id_length
        # A first byte of 0 declares more than 8 bytes: corrupt, not cut.
        code = "truncated" if size_at >= end or data[size_at] else "corrupt"
        out.problem(code, f"no EBML element size at offset {position + id_length}", location)
        return None
    size, size_length, unknown = size_field
    body = position + id_length + size_length
    if unknown:
        return _Element(element_id, position, body, end, unknown_size=True)
    if body + size <= end:
        return _Element(element_id, position, body, body + size)
    # The enclosing elements of a cut element are cut too: one problem says it.
    if not any(problem.code == "truncated" for problem in out.problems):
        out.problem(
            "truncated", f"element {element_id:#x} declares {size} bytes, {end - body} left", location
        )
    return _Element(element_id, position, body, end, clipped=True)


def _segment(state: _State, segment: _Element) -> int:
    """Reads the Segment's Tags and returns where the Segment ends."""
    position = segment.body
    while position < segment.end:
        element = _element_at(state, position, segment.end, "Segment")
        if element is None:
            return segment.end
        if element.id in (EBML_ID, SEGMENT) and segment.unknown_size:
            return position  # a chained Segment: the unknown-size one ends where the next begins
        state.count()
        if element.id == TAGS:
            position = _children(state, element, "Segment/Tags", 1)
        elif element.id == CLUSTER:
            state.after_clusters = True
            position = _cluster_end(state, element) if element.unknown_size else element.end
        else:
            position = element.end
    return segment.end


def _cluster_end(state: _State, cluster: _Element) -> int:
    """Where an unknown-size Cluster ends: at the first element that is one of the Segment's children
    (RFC 8794 §6.2: an unknown-size element ends at an element that is not a valid child)."""
    position = cluster.body
    while position < cluster.end:
        child = _element_at(state, position, cluster.end, "Segment/Cluster")
        if child is None or child.id in _SEGMENT_CHILDREN:
            return position if child is not None else cluster.end
        state.count()
        if child.unknown_size:  # a block of unknown size cannot be skipped
            state.out.problem("corrupt", "an element of unknown size inside a Cluster", "matroska:Cluster")
            return cluster.end
        position = child.end
    return cluster.end


def _children(state: _State, parent: _Element, where: str, depth: int) -> int:
    """Tags > Tag > SimpleTag; returns where ``parent`` ends (an unknown-size one: at a Segment child)."""
    if depth > state.limits.max_depth:
        raise LimitExceeded(f"EBML elements nested deeper than {state.limits.max_depth}")
    position = parent.body
    while position < parent.end:
        element = _element_at(state, position, parent.end, where)
        if element is None:
            return parent.end
        if parent.unknown_size and element.id in _SEGMENT_CHILDREN:
            return position
        state.count()
        if element.id == TAG:
            position = _children(state, element, f"{where}/Tag", depth + 1)
        elif element.id == SIMPLE_TAG:
            _simple_tag(state, element, f"{where}/SimpleTag", depth + 1)
            position = element.end
        else:
            position = element.end
    return parent.end


def _simple_tag(state: _State, tag: _Element, where: str, depth: int) -> None:
    if depth > state.limits.max_depth:
        raise LimitExceeded(f"EBML elements nested deeper than {state.limits.max_depth}")
    name: str | None = None
    values: list[bytes] = []
    position = tag.body
    while position < tag.end:
        element = _element_at(state, position, tag.end, where)
        if element is None:
            break
        state.count()
        body = state.data[element.body : element.end]
        if element.id == TAG_NAME:
            name = decode_text(body[:256]).rstrip("\x00")
        elif element.id in (TAG_STRING, TAG_BINARY) and not element.clipped:
            if len(body) > state.limits.max_field_bytes:
                state.out.problem(
                    "limit_exceeded", f"a tag value of {len(body)} bytes skipped", f"matroska:{where}"
                )
            else:
                values.append(body)
        elif element.id == SIMPLE_TAG:
            _simple_tag(state, element, f"{where}/SimpleTag", depth + 1)
        position = element.end
    if name is None or not is_aigc_key(name):
        return
    # GB 45438-2025 Annex E a: the tag name contains AIGC; the video guide spells it exactly "AIGC".
    extra: tuple[Variant, ...] = () if name == STANDARD_NAME else ("nonstandard_location",)
    for value in values:
        text = decode_text(value).rstrip("\x00")
        if text.strip():
            label = parse_aigc_text(text, f"matroska:{where}:{name}", variants=(*state.variants, *extra))
            state.out.add_label(label, state.limits)


def _sniff(data: bytes) -> bool:
    return data.startswith(MAGIC)


SPEC = register(
    ReaderSpec(
        format="matroska",
        mime_types=("video/x-matroska", "audio/x-matroska", "video/webm", "audio/webm", "video/matroska"),
        sniff=_sniff,
        read=read,
    )
)
