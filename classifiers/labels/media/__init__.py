"""Metadata readers: the labels a file carries, read from its bytes (issue #4).

One module per container format, each registered in :mod:`classifiers.labels.media.registry` when
imported here; :func:`read_media` picks the reader by the bytes and never raises.
"""

from classifiers.labels.media import (  # noqa: F401 - importing a reader registers it
    bmff,
    gif,
    id3,
    jpeg,
    markdown,
    matroska,
    ooxml,
    pdf,
    png,
    tiff,
    vorbis,
    wav,
    webp,
)
from classifiers.labels.media.registry import read_media

__all__ = ["read_media"]
