"""Reads the labels a WebP file carries in its RIFF chunks, and where its C2PA store is.

GB 45438 image guide (labels.md §4.3): the XMP packet in the ``XMP `` chunk; the ``EXIF`` chunk is
read like JPEG EXIF (UserComment, ImageDescription). C2PA stores its manifest in a ``C2PA`` chunk
(§5.3). The WebP container puts EXIF and XMP after the image data, so that order is no deviation here.
The reader walks the chunks of the RIFF form and never decodes image data.
"""

from __future__ import annotations

import struct
from typing import Final

from classifiers.labels.media.base import Extraction, LimitExceeded, Limits, decode_text, parse_aigc_text
from classifiers.labels.media.exif import read_tiff_structure
from classifiers.labels.media.registry import ReaderSpec, register
from classifiers.labels.media.xmp import read_xmp

_HEADER_SIZE: Final = 12  # "RIFF", the form size, "WEBP"


def _sniff(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    if not _sniff(data):
        out.problem("corrupt", "no RIFF WEBP header", "webp")
        return
    (form_size,) = struct.unpack_from("<I", data, 4)
    end = 8 + form_size
    if end > len(data):
        out.problem("truncated", f"RIFF declares {form_size} bytes, {len(data) - 8} present", "webp:RIFF")
        end = len(data)
    pos = _HEADER_SIZE
    chunks = 0
    while pos < end:
        if pos + 8 > end:
            out.problem("truncated", "the RIFF form ends inside a chunk header", "webp")
            return
        fourcc, size = struct.unpack_from("<4sI", data, pos)
        name = fourcc.decode("latin-1")
        where = f"webp:{name.rstrip()}"
        chunks += 1
        if chunks > limits.max_structures:
            raise LimitExceeded(f"more than {limits.max_structures} WebP chunks")
        body_end = pos + 8 + size
        if body_end > end:
            out.problem("truncated", f"chunk declares {size} bytes, {end - pos - 8} left", where)
            return
        _chunk(fourcc, data[pos + 8 : body_end], where, out, limits)
        pos = body_end + (size & 1)  # RIFF: chunks are padded to an even size


def _chunk(fourcc: bytes, body: bytes, where: str, out: Extraction, limits: Limits) -> None:
    if fourcc == b"C2PA":
        out.c2pa_locations.append(where)
        return
    if fourcc not in (b"XMP ", b"EXIF") and fourcc.upper() != b"AIGC":
        return  # image data, animation frames, ICC profile
    if len(body) > limits.max_field_bytes:
        out.problem("limit_exceeded", f"chunk of {len(body)} bytes; not read", where)
        return
    if fourcc == b"XMP ":
        read_xmp(body, where, out, limits)
    elif fourcc == b"EXIF":
        # The WebP container spec stores the TIFF structure bare; some writers keep JPEG's "Exif\0\0".
        read_tiff_structure(body[6:] if body.startswith(b"Exif\x00") else body, where, out, limits)
    else:
        # The WAV guide's RIFF chunk id written into a WebP: a label, in a place no image guide names.
        label = parse_aigc_text(decode_text(body), where, variants=("nonstandard_location",))
        out.add_label(label, limits)


SPEC = register(ReaderSpec(format="webp", mime_types=("image/webp",), sniff=_sniff, read=read))
