"""Reads RIFF/WAVE files for the AIGC label, XMP and the C2PA manifest store.

TC260-PG-202510A via implementers (labels.md §4.3): WAV carries the label in a RIFF sub-chunk with id
``AIGC`` whose data is the JSON. Also read: the same id inside ``LIST/INFO`` (the AVI guide's place),
an ``id3 `` chunk (mutagen's place for ID3 tags in WAV; its TXXX frames, see :mod:`id3`), XMP in
``_PMX``, and the C2PA ``C2PA`` chunk (labels.md §5.3). A label in a chunk after ``data`` is reported as
``after_media_data``. RF64/BW64 sizes come from ``ds64``. This module must not read the samples, the
C2PA store, or judge the label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from classifiers.labels.media.base import (
    Extraction,
    LimitExceeded,
    Limits,
    Truncated,
    Variant,
    decode_text,
    is_aigc_key,
    parse_aigc_text,
)
from classifiers.labels.media.id3 import read_id3v2
from classifiers.labels.media.registry import ReaderSpec, register
from classifiers.labels.media.xmp import read_xmp

_FORMS: Final = (b"RIFF", b"RF64", b"BW64")
_ID3_CHUNKS: Final = (b"id3 ", b"ID3 ")
_XMP_CHUNKS: Final = (b"_PMX", b"XMP ")
_UNKNOWN_SIZE: Final = 0xFFFFFFFF  # RF64: the real size is in ds64


@dataclass
class _State:
    out: Extraction
    limits: Limits
    chunks: int = 0
    after_data: bool = False
    ds64_data_size: int | None = None

    def count(self) -> None:
        self.chunks += 1
        if self.chunks > self.limits.max_structures:
            raise LimitExceeded(f"more than {self.limits.max_structures} RIFF chunks")

    @property
    def variants(self) -> tuple[Variant, ...]:
        return ("after_media_data",) if self.after_data else ()


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    """Every AIGC record in the chunks of the first RIFF/WAVE chunk (and any after its declared end)."""
    if len(data) < 12:
        raise Truncated("shorter than a RIFF header")
    if not _sniff(data):
        out.problem("corrupt", "not a RIFF/WAVE file", "wav:RIFF")
        return
    riff_size = int.from_bytes(data[4:8], "little")
    declared_end = 8 + riff_size
    if riff_size != _UNKNOWN_SIZE and declared_end > len(data):
        out.problem("truncated", f"RIFF declares {riff_size} bytes, {len(data) - 8} present", "wav:RIFF")
    state = _State(out, limits)
    position = 12
    warned_past_end = False
    while len(data) - position >= 8:
        if position >= declared_end and riff_size != _UNKNOWN_SIZE and not warned_past_end:
            # Writers that append a chunk without fixing the RIFF size; still read, but say so.
            out.problem("corrupt", "chunks after the end the RIFF header declares", "wav:RIFF")
            warned_past_end = True
        chunk_id = data[position : position + 4]
        if not all(0x20 <= byte < 0x7F for byte in chunk_id):
            if data[position:].strip(b"\x00"):
                out.problem("corrupt", f"invalid chunk id {chunk_id!r} at offset {position}", "wav:RIFF")
            return
        state.count()
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        if chunk_id == b"data" and size == _UNKNOWN_SIZE and state.ds64_data_size is not None:
            size = state.ds64_data_size
        start = position + 8
        if start + size > len(data):
            where = f"wav:{_name(chunk_id)}"
            out.problem(
                "truncated", f"chunk {chunk_id!r} declares {size} bytes, {len(data) - start} left", where
            )
            return
        _read_chunk(chunk_id, data[start : start + size], state)
        if chunk_id == b"data":
            state.after_data = True
        position = start + size + (size & 1)  # chunks are padded to an even length


def _read_chunk(chunk_id: bytes, body: bytes, state: _State) -> None:
    name = _name(chunk_id)
    if chunk_id == b"ds64" and len(body) >= 16:
        state.ds64_data_size = int.from_bytes(body[8:16], "little")
    elif chunk_id == b"C2PA":
        state.out.c2pa_locations.append("wav:C2PA")
    elif chunk_id in _ID3_CHUNKS:
        # No guide names ID3 inside WAV, but mutagen and tag editors write labels there.
        variants: tuple[Variant, ...] = (*state.variants, "nonstandard_location")
        read_id3v2(body, 0, "wav:id3", state.out, state.limits, variants=variants)
    elif chunk_id in _XMP_CHUNKS:
        read_xmp(body, f"wav:{name}", state.out, state.limits, variants=state.variants)
    elif chunk_id == b"LIST" and body[:4] == b"INFO":
        _read_info(body[4:], state)
    elif is_aigc_key(name):
        _add_text(body, f"wav:{name}", state, state.variants)


def _read_info(body: bytes, state: _State) -> None:
    """LIST/INFO: (id, size, zero-terminated text) entries."""
    position = 0
    while len(body) - position >= 8:
        state.count()
        sub_id = body[position : position + 4]
        size = int.from_bytes(body[position + 4 : position + 8], "little")
        start = position + 8
        if start + size > len(body):
            state.out.problem("truncated", f"INFO entry {sub_id!r} declares {size} bytes", "wav:LIST/INFO")
            return
        name = _name(sub_id)
        text = body[start : start + size]
        if is_aigc_key(name):
            _add_text(text, f"wav:LIST/INFO:{name}", state, state.variants)
        elif b"AIGC" in text and len(text) <= state.limits.max_field_bytes:
            # A comment (ICMT, ...) holding the wrapped JSON: a place no guide names.
            label = parse_aigc_text(
                decode_text(text), f"wav:LIST/INFO:{name}", variants=(*state.variants, "nonstandard_location")
            )
            if label.record is not None:
                state.out.add_label(label, state.limits)
        position = start + size + (size & 1)


def _add_text(value: bytes, location: str, state: _State, variants: tuple[Variant, ...]) -> None:
    if len(value) > state.limits.max_field_bytes:
        state.out.problem("limit_exceeded", f"an AIGC value of {len(value)} bytes skipped", location)
        return
    text = decode_text(value).rstrip("\x00")
    if text.strip():
        state.out.add_label(parse_aigc_text(text, location, variants=variants), state.limits)


def _name(chunk_id: bytes) -> str:
    return chunk_id.decode("latin-1").strip()


def _sniff(data: bytes) -> bool:
    return data[:4] in _FORMS and data[8:12] == b"WAVE"


SPEC = register(
    ReaderSpec(
        format="wav",
        mime_types=("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave", "audio/x-pn-wav"),
        sniff=_sniff,
        read=read,
    )
)
