"""Reads Vorbis comments (FLAC, Ogg Vorbis, Ogg Opus, and the other Ogg codecs) for the AIGC label.

labels.md §4.3: FLAC, OGG and Opus carry the label as a Vorbis comment ``AIGC=<json>`` (field names are
case-insensitive; Annex E a: the name contains ``AIGC``). FLAC keeps the comments in its
``VORBIS_COMMENT`` metadata block; Ogg in the second packet of each logical stream (``\\x03vorbis``,
``OpusTags``, ...), reassembled from its pages up to a bound. An ID3v2 tag in front of a FLAC stream
(non-standard, but written by some taggers; C2PA's place for FLAC, labels.md §5.3) is read with
:mod:`id3`. This module must not decode audio or judge the label.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
from classifiers.labels.media.id3 import read_id3v2, tag_length
from classifiers.labels.media.registry import ReaderSpec, register

_FLAC_VORBIS_COMMENT: Final = 4
_FLAC_INVALID_BLOCK: Final = 127
# Ogg codecs: the identification packet's signature -> (name, the comment packet's signature).
# The comment list starts right after that signature (Ogg FLAC: after a 4-byte metadata block header).
_OGG_CODECS: Final = {
    b"\x01vorbis": ("vorbis", b"\x03vorbis"),
    b"OpusHead": ("opus", b"OpusTags"),
    b"\x80theora": ("theora", b"\x81theora"),
    b"Speex   ": ("speex", b""),
    b"\x7fFLAC": ("flac", b""),
}
_OGG_PAGE_HEADER: Final = 27
_OGG_BEGIN_OF_STREAM: Final = 0x02


def read_flac(data: bytes, out: Extraction, limits: Limits) -> None:
    """The AIGC records in a FLAC file's VORBIS_COMMENT block (and in an ID3v2 tag before it)."""
    position = 0
    if data.startswith(b"ID3"):
        position = read_id3v2(data, 0, "flac", out, limits, variants=("nonstandard_location",))
    if data[position : position + 4] != b"fLaC":
        out.problem("corrupt", "no fLaC signature", "flac")
        return
    position += 4
    for _ in range(limits.max_structures):
        if len(data) - position < 4:
            raise Truncated("the file ends inside the FLAC metadata blocks")
        header = data[position]
        kind, is_last = header & 0x7F, bool(header & 0x80)
        length = int.from_bytes(data[position + 1 : position + 4], "big")
        start = position + 4
        if kind == _FLAC_INVALID_BLOCK:
            out.problem("corrupt", "FLAC metadata block of the invalid type 127", "flac")
            return
        if start + length > len(data):
            out.problem("truncated", f"FLAC metadata block {kind} declares {length} bytes", "flac")
            return
        if kind == _FLAC_VORBIS_COMMENT:
            read_comments(data[start : start + length], "flac:VORBIS_COMMENT", out, limits)
        position = start + length
        if is_last:
            return
    raise LimitExceeded(f"more than {limits.max_structures} FLAC metadata blocks")


def read_comments(
    packet: bytes, prefix: str, out: Extraction, limits: Limits, *, variants: tuple[Variant, ...] = ()
) -> None:
    """A Vorbis comment list: vendor string, count, then ``length, NAME=value`` entries (little-endian)."""
    if len(packet) < 4:
        out.problem("truncated", "the comment list ends inside its vendor length", prefix)
        return
    position = 4 + int.from_bytes(packet[:4], "little")
    if position + 4 > len(packet):
        out.problem("corrupt", "the vendor string runs past the comment list", prefix)
        return
    count = int.from_bytes(packet[position : position + 4], "little")
    position += 4
    if count > limits.max_structures:
        out.problem(
            "limit_exceeded", f"{count} comments declared; the first {limits.max_structures} read", prefix
        )
        count = limits.max_structures
    for index in range(count):
        if len(packet) - position < 4:
            out.problem("truncated", f"the comment list ends after {index} of {count} comments", prefix)
            return
        length = int.from_bytes(packet[position : position + 4], "little")
        start = position + 4
        if start + length > len(packet):
            out.problem("truncated", f"comment {index + 1} declares {length} bytes", prefix)
            return
        position = start + length
        # The name ends at the first "="; no name contains one, so searching a bounded prefix suffices.
        separator = packet.find(b"=", start, min(start + 256, position))
        if separator < 0:
            continue
        name = packet[start:separator].decode("latin-1")
        if not is_aigc_key(name):
            continue
        location = f"{prefix}:{name}"
        if position - separator - 1 > limits.max_field_bytes:
            out.problem(
                "limit_exceeded", f"an AIGC value of {position - separator - 1} bytes skipped", location
            )
            continue
        text = decode_text(packet[separator + 1 : position])
        if text.strip():
            out.add_label(parse_aigc_text(text, location, variants=variants), limits)


@dataclass
class _OggStream:
    """One logical stream while its header packets are read."""

    codec: str = ""
    comment_signature: bytes = b""
    packets: int = 0
    pending: bytearray = field(default_factory=bytearray)
    done: bool = False


def read_ogg(data: bytes, out: Extraction, limits: Limits) -> None:
    """The AIGC records in the comment header of every logical stream that starts the Ogg file."""
    streams: dict[int, _OggStream] = {}
    # Comment packets can hold cover art (METADATA_BLOCK_PICTURE), so they are allowed to be large.
    packet_limit = max(limits.max_field_bytes, limits.max_inflated_bytes)
    position = 0
    for _ in range(limits.max_structures):
        if position >= len(data):
            return
        if data[position : position + 4] != b"OggS":
            out.problem("corrupt", f"no Ogg page at offset {position}", "ogg")
            return
        if len(data) - position < _OGG_PAGE_HEADER:
            raise Truncated("the file ends inside an Ogg page header")
        header_type = data[position + 5]
        serial = int.from_bytes(data[position + 14 : position + 18], "little")
        segments = data[position + 26]
        lacing = data[position + _OGG_PAGE_HEADER : position + _OGG_PAGE_HEADER + segments]
        body = position + _OGG_PAGE_HEADER + segments
        if len(lacing) < segments or body + sum(lacing) > len(data):
            out.problem("truncated", f"the file ends inside the Ogg page at offset {position}", "ogg")
            return
        if header_type & _OGG_BEGIN_OF_STREAM:
            streams.setdefault(serial, _OggStream())
        elif streams and all(stream.done for stream in streams.values()):
            return  # every stream's headers are read; the rest is audio
        stream = streams.get(serial)
        if stream is not None and not stream.done:
            _read_segments(data, body, lacing, stream, packet_limit, out, limits)
        position = body + sum(lacing)
    raise LimitExceeded(f"more than {limits.max_structures} Ogg pages before the comment headers end")


def _read_segments(
    data: bytes,
    position: int,
    lacing: bytes,
    stream: _OggStream,
    packet_limit: int,
    out: Extraction,
    limits: Limits,
) -> None:
    for length in lacing:
        if stream.done:
            return
        if len(stream.pending) + length > packet_limit:
            out.problem("limit_exceeded", f"an Ogg header packet over {packet_limit} bytes", "ogg")
            stream.done = True
            return
        stream.pending += data[position : position + length]
        position += length
        if length < 255:  # a lacing value below 255 ends the packet
            _read_packet(bytes(stream.pending), stream, out, limits)
            stream.pending.clear()


def _read_packet(packet: bytes, stream: _OggStream, out: Extraction, limits: Limits) -> None:
    stream.packets += 1
    if stream.packets == 1:
        codec = next(
            ((n, c) for signature, (n, c) in _OGG_CODECS.items() if packet.startswith(signature)), None
        )
        if codec is None:
            stream.done = True  # a codec without Vorbis comments
        else:
            stream.codec, stream.comment_signature = codec
        return
    stream.done = True  # the comment header is the second packet of every codec read here
    if stream.codec == "flac":
        if not packet or packet[0] & 0x7F != _FLAC_VORBIS_COMMENT:
            out.problem("corrupt", "Ogg FLAC: the second packet is not VORBIS_COMMENT", "ogg:flac")
            return
        read_comments(packet[4:], "ogg:flac:VORBIS_COMMENT", out, limits)
        return
    if not packet.startswith(stream.comment_signature):
        out.problem("corrupt", f"Ogg {stream.codec}: the second packet is not the comment header", "ogg")
        return
    name = {"opus": "OpusTags"}.get(stream.codec, "comment")
    read_comments(packet[len(stream.comment_signature) :], f"ogg:{stream.codec}:{name}", out, limits)


def _sniff_flac(data: bytes) -> bool:
    if data.startswith(b"ID3"):
        length = tag_length(data)
        return length is not None and data[length : length + 4] == b"fLaC"
    return data.startswith(b"fLaC")


def _sniff_ogg(data: bytes) -> bool:
    return data.startswith(b"OggS")


FLAC_SPEC = register(
    ReaderSpec(format="flac", mime_types=("audio/flac", "audio/x-flac"), sniff=_sniff_flac, read=read_flac)
)
OGG_SPEC = register(
    ReaderSpec(
        format="ogg",
        mime_types=(
            "audio/ogg",
            "audio/opus",
            "audio/vorbis",
            "application/ogg",
            "video/ogg",
            "audio/x-vorbis+ogg",
            "audio/x-opus+ogg",
        ),
        sniff=_sniff_ogg,
        read=read_ogg,
    )
)
