"""Reads ID3v2 tags (MP3; also the ID3 chunk of WAV and an ID3 tag before FLAC) for the AIGC label.

TC260-PG-202510A via implementers (labels.md §4.3): MP3 carries the label in an ID3v2 ``TXXX`` frame whose
description is ``AIGC`` and whose value is the JSON. C2PA embeds its manifest store in a ``GEOB`` frame
with MIME type ``application/c2pa`` (labels.md §5.3). ID3v2.2, 2.3 and 2.4 are read: synchsafe sizes,
unsynchronisation, extended headers, compressed frames; a tag appended after the audio (found by its
ID3v2.4 footer ``3DI``) is reported as ``after_media_data``. This module must not decode audio frames,
parse the C2PA store, or judge the label.
"""

from __future__ import annotations

import zlib
from typing import Final

from classifiers.labels.media.base import (
    Extraction,
    LimitExceeded,
    Limits,
    Variant,
    decode_text,
    is_aigc_key,
    parse_aigc_text,
)
from classifiers.labels.media.registry import ReaderSpec, register

_HEADER: Final = 10
_C2PA_MIME_TYPES: Final = frozenset({"application/c2pa", "application/x-c2pa-manifest-store"})
_FRAME_ID_CHARS: Final = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# ID3v2.2 used three-letter frame ids; the frames this reader needs, by their v2.3/2.4 names.
_V22_IDS: Final = {b"TXX": b"TXXX", b"COM": b"COMM", b"GEO": b"GEOB"}


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    """The AIGC records in the ID3v2 tags at the start of an MP3 and in one appended at its end."""
    offset = 0
    tags = 0
    # Several tags may follow one another at the start (a writer that prepended without merging).
    while data.startswith(b"ID3", offset):
        tags += 1
        if tags > limits.max_structures:
            raise LimitExceeded(f"more than {limits.max_structures} ID3v2 tags")
        length = read_id3v2(data, offset, "mp3", out, limits)
        if length <= 0:
            break
        offset += length
    _read_appended(data, offset, out, limits)


def _read_appended(data: bytes, start_of_audio: int, out: Extraction, limits: Limits) -> None:
    """An ID3v2.4 tag after the audio, found by its footer (before an ID3v1 ``TAG`` block, if any)."""
    end = len(data)
    if end - 128 >= start_of_audio and data[end - 128 : end - 125] == b"TAG":
        end -= 128  # ID3v1 is always the last 128 bytes
    footer = data[end - _HEADER : end] if end >= _HEADER else b""
    if not footer.startswith(b"3DI"):
        return
    size = _synchsafe(footer[6:10])
    start = end - 2 * _HEADER - size if size is not None else -1
    if start < start_of_audio or data[start : start + 3] != b"ID3":
        out.problem("corrupt", "an ID3v2 footer at the end points to no tag header", "mp3:ID3v2 footer")
        return
    read_id3v2(data, start, "mp3", out, limits, variants=("after_media_data",))


def read_id3v2(
    data: bytes,
    offset: int,
    prefix: str,
    out: Extraction,
    limits: Limits,
    *,
    variants: tuple[Variant, ...] = (),
) -> int:
    """Reads the ID3v2 tag at ``offset``; returns its length in bytes (0 when there is no valid header).

    ``prefix`` starts every location ("mp3", "wav:id3"); ``variants`` are added to every record found.
    """
    header = data[offset : offset + _HEADER]
    if len(header) < _HEADER:
        out.problem("truncated", "the file ends inside an ID3v2 header", f"{prefix}:ID3v2")
        return len(data) - offset
    major, flags = header[3], header[5]
    size = _synchsafe(header[6:10])
    where = f"{prefix}:ID3v2.{major}"
    if major not in (2, 3, 4) or header[4] == 0xFF or size is None:
        out.problem("corrupt", f"not a readable ID3v2 header ({header[:6]!r})", f"{prefix}:ID3v2")
        return 0
    total = _HEADER + size + (_HEADER if major == 4 and flags & 0x10 else 0)
    body = data[offset + _HEADER : offset + _HEADER + size]
    if len(body) < size:
        out.problem("truncated", f"the ID3v2 tag declares {size} bytes, {len(body)} present", where)
    if major == 2 and flags & 0x40:
        out.problem("corrupt", "ID3v2.2 tag compression has no defined scheme; tag skipped", where)
        return total
    tag_unsynchronised = bool(flags & 0x80)
    if tag_unsynchronised and major < 4:
        body = _resynchronise(body)  # v2.2/2.3 unsynchronise the whole tag, v2.4 frame by frame
    position: int | None = 0
    if flags & 0x40 and major >= 3:
        position = _skip_extended_header(body, major)
    if position is None:
        out.problem("corrupt", "the ID3v2 extended header has an impossible size", where)
        return total
    _read_frames(body, position, major, tag_unsynchronised, where, out, limits, variants)
    return total


def _skip_extended_header(body: bytes, major: int) -> int | None:
    if len(body) < 4:
        return None
    if major == 3:
        end = 4 + int.from_bytes(body[:4], "big")  # v2.3: the size excludes its own four bytes
    else:
        size = _synchsafe(body[:4])  # v2.4: synchsafe, and includes itself
        if size is None or size < 6:
            return None
        end = size
    return end if end <= len(body) else None


def _read_frames(
    body: bytes,
    position: int,
    major: int,
    tag_unsynchronised: bool,
    where: str,
    out: Extraction,
    limits: Limits,
    variants: tuple[Variant, ...],
) -> None:
    id_length, header_length = (3, 6) if major == 2 else (4, 10)
    frames = 0
    while position + header_length <= len(body):
        frame_id = body[position : position + id_length]
        if frame_id[0] == 0:
            return  # padding
        if not set(frame_id) <= _FRAME_ID_CHARS:
            out.problem("corrupt", f"invalid ID3v2 frame id {frame_id!r}; the rest of the tag skipped", where)
            return
        frames += 1
        if frames > limits.max_structures:
            raise LimitExceeded(f"more than {limits.max_structures} ID3v2 frames")
        size, flags = _frame_size_and_flags(body, position, major)
        start = position + header_length
        if start + size > len(body):
            out.problem("truncated", f"ID3v2 frame {frame_id.decode()} declares {size} bytes", where)
            return
        payload = body[start : start + size]
        position = start + size
        name = _V22_IDS.get(frame_id, frame_id) if major == 2 else frame_id
        if name not in (b"TXXX", b"COMM", b"GEOB"):
            continue
        content = _frame_content(payload, major, flags, tag_unsynchronised, where, out, limits)
        if content is not None:
            _read_frame(name, content, where, out, limits, variants)


def _frame_size_and_flags(body: bytes, position: int, major: int) -> tuple[int, int]:
    if major == 2:
        return int.from_bytes(body[position + 3 : position + 6], "big"), 0
    raw = body[position + 4 : position + 8]
    flags = int.from_bytes(body[position + 8 : position + 10], "big")
    if major == 3:
        return int.from_bytes(raw, "big"), flags
    # v2.4 sizes are synchsafe; some writers (old iTunes) wrote plain integers, which have a high bit set.
    synchsafe = _synchsafe(raw)
    return (synchsafe if synchsafe is not None else int.from_bytes(raw, "big")), flags


def _frame_content(
    payload: bytes,
    major: int,
    flags: int,
    tag_unsynchronised: bool,
    where: str,
    out: Extraction,
    limits: Limits,
) -> bytes | None:
    """The frame's data with grouping, length indicator, unsynchronisation and compression undone."""
    if major == 3:
        compressed, encrypted, grouped = flags & 0x0080, flags & 0x0040, flags & 0x0020
        skip = (4 if compressed else 0) + (1 if encrypted else 0) + (1 if grouped else 0)
    elif major == 4:
        grouped, encrypted, compressed = flags & 0x0040, flags & 0x0004, flags & 0x0008
        length_indicator = flags & 0x0001
        skip = (1 if grouped else 0) + (1 if encrypted else 0) + (4 if length_indicator else 0)
    else:
        return payload
    if encrypted:
        out.problem("corrupt", "an encrypted ID3v2 frame cannot be read", where)
        return None
    content = payload[skip:]
    if major == 4 and (flags & 0x0002 or tag_unsynchronised):
        content = _resynchronise(content)
    if compressed:
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(content, limits.max_inflated_bytes)
        except zlib.error as exc:
            out.problem("corrupt", f"a compressed ID3v2 frame does not inflate: {exc}", where)
            return None
        if inflater.unconsumed_tail:
            out.problem("limit_exceeded", "a compressed ID3v2 frame inflates past the limit", where)
            return None
        content = inflated
    return content


def _read_frame(
    name: bytes,
    content: bytes,
    where: str,
    out: Extraction,
    limits: Limits,
    variants: tuple[Variant, ...],
) -> None:
    if not content:
        return
    encoding, rest = content[0], content[1:]
    if encoding > 3:
        out.problem("corrupt", f"ID3v2 {name.decode()} frame with unknown text encoding {encoding}", where)
        return
    if name == b"GEOB":
        mime, _, _ = rest.partition(b"\x00")  # the MIME type is always Latin-1
        if mime.decode("latin-1").strip().lower() in _C2PA_MIME_TYPES:
            out.c2pa_locations.append(f"{where}:GEOB")
        return
    extra: tuple[Variant, ...] = ()
    if name == b"COMM":
        rest = rest[3:]  # language code
        extra = ("nonstandard_location",)  # the guides name TXXX, not comments
    raw_description, value = _split_terminated(rest, encoding)
    description = _decode(raw_description, encoding)
    if not is_aigc_key(description):
        return
    location = f"{where}:{name.decode()}:{description}"
    if len(value) > limits.max_field_bytes:
        out.problem("limit_exceeded", f"an AIGC value of {len(value)} bytes skipped", location)
        return
    # ID3v2.4 separates several values of one text frame with the terminator.
    for text in _decode(value, encoding).split("\x00"):
        if text.strip():
            out.add_label(parse_aigc_text(text, location, variants=(*variants, *extra)), limits)


def _split_terminated(buffer: bytes, encoding: int) -> tuple[bytes, bytes]:
    """Splits at the first string terminator: one zero byte, or two at an even offset for UTF-16."""
    if encoding in (1, 2):
        index = buffer.find(b"\x00\x00")
        while index >= 0 and index % 2:
            index = buffer.find(b"\x00\x00", index + 1)
        return (buffer[:index], buffer[index + 2 :]) if index >= 0 else (buffer, b"")
    head, _, tail = buffer.partition(b"\x00")
    return head, tail


def _decode(value: bytes, encoding: int) -> str:
    if encoding == 1:
        return value.decode("utf-16", errors="replace") if len(value) >= 2 else ""
    if encoding == 2:
        return value.decode("utf-16-be", errors="replace")
    # 0 is Latin-1 by the specification, yet Chinese writers put UTF-8 or GB 18030 there.
    return decode_text(value)


def _synchsafe(raw: bytes) -> int | None:
    """A 28-bit integer stored seven bits per byte; None when a high bit is set (not synchsafe)."""
    if len(raw) != 4 or any(byte & 0x80 for byte in raw):
        return None
    return (raw[0] << 21) | (raw[1] << 14) | (raw[2] << 7) | raw[3]


def _resynchronise(buffer: bytes) -> bytes:
    """Undoes ID3 unsynchronisation: every 0xFF 0x00 pair was 0xFF."""
    return buffer.replace(b"\xff\x00", b"\xff")


def tag_length(data: bytes, offset: int = 0) -> int | None:
    """The length of a valid ID3v2 tag starting at ``offset`` (header, body and footer), else None."""
    header = data[offset : offset + _HEADER]
    if len(header) < _HEADER or not header.startswith(b"ID3") or header[3] not in (2, 3, 4):
        return None
    size = _synchsafe(header[6:10])
    if size is None:
        return None
    return _HEADER + size + (_HEADER if header[3] == 4 and header[5] & 0x10 else 0)


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, a defined version, layer, bit rate and sample rate."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 0x03, (head[1] >> 1) & 0x03
    bitrate, sample_rate = head[2] >> 4, (head[2] >> 2) & 0x03
    return version != 1 and layer != 0 and bitrate != 0x0F and sample_rate != 0x03


def _sniff(data: bytes) -> bool:
    if data.startswith(b"ID3"):
        length = tag_length(data)
        # An ID3 tag in front of FLAC is the FLAC reader's, not an MP3.
        return length is not None and data[length : length + 4] != b"fLaC"
    return _is_mpeg_audio_frame(data[:4])


SPEC = register(
    ReaderSpec(
        format="mp3",
        mime_types=("audio/mpeg", "audio/mp3", "audio/x-mp3", "audio/mpeg3", "audio/x-mpeg"),
        sniff=_sniff,
        read=read,
    )
)
