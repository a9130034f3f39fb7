"""Reads the labels a TIFF file carries in its IFDs, and where its C2PA store is.

GB 45438 image guide (labels.md §4.3): the XMP packet in IFD0 tag 700 (0x2BC); real files also put the
JSON in ImageDescription or in the Exif IFD's UserComment. C2PA stores its manifest in tag 52545.
The IFD walk is :mod:`classifiers.labels.media.exif`'s, shared with JPEG and WebP EXIF; this module
only recognises the file (classic TIFF and BigTIFF, either byte order). It never decodes strips.
"""

from __future__ import annotations

from classifiers.labels.media.base import Extraction, Limits
from classifiers.labels.media.exif import read_tiff_structure
from classifiers.labels.media.registry import ReaderSpec, register


def _sniff(data: bytes) -> bool:
    return data[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")


def read(data: bytes, out: Extraction, limits: Limits) -> None:
    read_tiff_structure(data, "tiff", out, limits, xmp_is_standard=True)


SPEC = register(
    ReaderSpec(
        format="tiff",
        mime_types=("image/tiff", "image/tiff-fx", "image/x-tiff", "image/dng", "image/x-adobe-dng"),
        sniff=_sniff,
        read=read,
    )
)
