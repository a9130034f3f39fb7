"""Matroska/WebM reader: labels.md §4.3 (Segment/Tags/Tag/SimpleTag ``AIGC``), §4.6 (after the media data).

Fixtures are written by ffmpeg (from imageio-ffmpeg) with ``-metadata AIGC=...``: a Matroska file, a VP8
WebM video, an Opus WebM audio file and a Matroska stream written to a pipe (unknown-size Segment).
Damage (moved, cut, nested or resized elements) is applied on top of those files.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped]
import pytest

from classifiers.labels.media import matroska
from classifiers.labels.media.base import Extraction, Limits
from classifiers.labels.media.registry import read_media, spec_for
from tests.fixtures.media import LABEL

WRAPPED = json.dumps({"AIGC": LABEL}, separators=(",", ":"))
BARE = json.dumps(LABEL)
WHERE = "matroska:Segment/Tags/Tag/SimpleTag:AIGC"
VIDEO = ["-f", "lavfi", "-i", "testsrc=d=0.2:s=64x64:r=10"]
AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:duration=0.2"]
UNKNOWN_SIZE = bytes.fromhex("01ffffffffffffff")


def _ffmpeg(directory: Path, name: str, arguments: list[str]) -> bytes:
    path = directory / name
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *arguments, str(path)]
    subprocess.run(command, check=True, timeout=60, capture_output=True)
    return path.read_bytes()


def _ffmpeg_pipe(arguments: list[str]) -> bytes:
    """What ffmpeg writes to a pipe: it cannot seek back, so the Segment keeps its unknown size."""
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", *arguments, "-f", "matroska", "pipe:1"]
    return subprocess.run(command, check=True, timeout=60, capture_output=True).stdout


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    directory = tmp_path_factory.mktemp("matroska")
    return {
        "mkv": _ffmpeg(directory, "l.mkv", [*VIDEO, "-c:v", "mpeg4", "-metadata", f"AIGC={WRAPPED}"]),
        "webm": _ffmpeg(directory, "l.webm", [*VIDEO, "-c:v", "libvpx", "-metadata", f"AIGC={BARE}"]),
        "weba": _ffmpeg(
            directory, "l.weba", [*AUDIO, "-c:a", "libopus", "-f", "webm", "-metadata", f"AIGC={BARE}"]
        ),
        "pipe": _ffmpeg_pipe([*VIDEO, "-c:v", "mpeg4", "-metadata", f"AIGC={WRAPPED}"]),
        "plain": _ffmpeg(directory, "p.mkv", [*VIDEO, "-c:v", "mpeg4"]),
    }


def _read(data: bytes, limits: Limits | None = None) -> Extraction:
    out = Extraction(format="matroska")
    matroska.read(data, out, limits or Limits())
    return out


def _vint(data: bytes, position: int) -> tuple[int, int]:
    """(value, length) of an EBML size (test-side, for locating elements)."""
    length = 1
    while not data[position] & (0x80 >> (length - 1)):
        length += 1
    value = data[position] & (0xFF >> length)
    for byte in data[position + 1 : position + length]:
        value = (value << 8) | byte
    return value, length


def _element(data: bytes, *path: int) -> tuple[int, int, int]:
    """(start, body, end) of the first element at ``path`` from the top level (test-side locator)."""
    start, end = 0, len(data)
    found = (0, 0, 0)
    for element_id in path:
        position = start
        id_bytes = element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")
        while position < end:
            id_length = 1
            while not data[position] & (0x80 >> (id_length - 1)):
                id_length += 1
            size, length = _vint(data, position + id_length)
            body = position + id_length + length
            if data[position : position + id_length] == id_bytes:
                unknown = size == (1 << (7 * length)) - 1
                found = (position, body, end if unknown else body + size)
                break
            position = body + size
        else:
            raise AssertionError(f"no element {element_id:#x}")
        start, end = found[1], found[2]
    return found


def _summary(out: Extraction) -> list[tuple[str, object, tuple[str, ...]]]:
    return [(label.location, label.record, label.variants) for label in out.labels]


def test_ffmpeg_matroska_simpletag(files: dict[str, bytes]) -> None:
    data = files["mkv"]
    assert b"\x45\xa3\x84AIGC" in data  # ffmpeg keeps the tag name's case: TagName "AIGC"
    out = read_media(data, "video/x-matroska")
    assert out.format == "matroska" and not out.problems
    assert _summary(out) == [(WHERE, LABEL, ("wrapped",))]


@pytest.mark.parametrize(("name", "mime"), [("webm", "video/webm"), ("weba", "audio/webm")])
def test_ffmpeg_webm_video_and_audio(files: dict[str, bytes], name: str, mime: str) -> None:
    assert b"webm" in files[name][:64]  # the EBML DocType
    out = read_media(files[name], mime)
    assert not out.problems
    assert _summary(out) == [(WHERE, LABEL, ("bare",))]


def test_unknown_size_segment_from_a_pipe(files: dict[str, bytes]) -> None:
    data = files["pipe"]
    segment, _, _ = _element(data, matroska.SEGMENT)
    assert data[segment + 4 : segment + 12] == UNKNOWN_SIZE
    out = read_media(data, "video/x-matroska")
    assert not out.problems and _summary(out) == [(WHERE, LABEL, ("wrapped",))]


def test_no_tag_reads_nothing(files: dict[str, bytes]) -> None:
    out = read_media(files["plain"], "video/x-matroska")
    assert out.labels == [] and out.problems == [] and out.c2pa_locations == []


def test_tags_after_the_clusters_are_after_media_data(files: dict[str, bytes]) -> None:
    """The Tags element moved to the end of the Segment (where mkvpropedit puts tags that no longer fit)."""
    data = files["mkv"]
    start, _, end = _element(data, matroska.SEGMENT, matroska.TAGS)
    moved = data[:start] + data[end:] + data[start:end]  # the Segment is last and keeps its size
    assert moved.index(b"AIGC") > moved.index(b"\x1f\x43\xb6\x75")  # after the first Cluster
    out = read_media(moved, "video/x-matroska")
    assert not out.problems
    assert _summary(out) == [(WHERE, LABEL, ("after_media_data", "wrapped"))]


def test_unknown_size_cluster_ends_at_the_next_segment_child(files: dict[str, bytes]) -> None:
    data = files["pipe"]
    start, _, end = _element(data, matroska.SEGMENT, matroska.TAGS)
    moved = data[:start] + data[end:] + data[start:end]
    cluster, body, _ = _element(moved, matroska.SEGMENT, matroska.CLUSTER)
    width = body - cluster - 4
    unknown = bytes([0xFF >> (width - 1)]) + b"\xff" * (width - 1)  # every value bit set, same width
    damaged = moved[: cluster + 4] + unknown + moved[body:]
    out = read_media(damaged, "video/x-matroska")
    assert not out.problems
    assert _summary(out) == [(WHERE, LABEL, ("after_media_data", "wrapped"))]


def test_truncated_file_keeps_what_was_read(files: dict[str, bytes]) -> None:
    data = files["mkv"]
    _, _, tags_end = _element(data, matroska.SEGMENT, matroska.TAGS)
    cut = read_media(data[: tags_end + 20], "video/x-matroska")
    assert _summary(cut) == [(WHERE, LABEL, ("wrapped",))]
    assert [problem.code for problem in cut.problems] == ["truncated"]
    inside = read_media(data[: data.index(b"ContentProducer")], "video/x-matroska")
    assert inside.labels == [] and [problem.code for problem in inside.problems] == ["truncated"]


def test_huge_declared_sizes(files: dict[str, bytes]) -> None:
    data = files["mkv"]
    segment, body, _ = _element(data, matroska.SEGMENT)
    marker = 1 << (7 * (body - segment - 4))
    # The largest size that is not "unknown", in the same width.
    resized = data[: segment + 4] + (marker | (marker - 2)).to_bytes(body - segment - 4, "big") + data[body:]
    out = read_media(resized, "video/x-matroska")
    assert _summary(out) == [(WHERE, LABEL, ("wrapped",))]
    assert [problem.code for problem in out.problems] == ["truncated"]
    # A SimpleTag whose size says 2^56 - 2 bytes: cut, and its value not taken from beyond the file.
    tag, tag_body, _ = _element(data, matroska.SEGMENT, matroska.TAGS, matroska.TAG, matroska.SIMPLE_TAG)
    blown = data[: tag + 2] + b"\x01\xff\xff\xff\xff\xff\xff\xfe" + data[tag_body:]
    blown_out = read_media(blown, "video/x-matroska")
    assert "truncated" in {problem.code for problem in blown_out.problems}


def test_invalid_ids_and_sizes_are_corrupt(files: dict[str, bytes]) -> None:
    data = files["mkv"]
    tags, _, _ = _element(data, matroska.SEGMENT, matroska.TAGS)
    zeroed = data[:tags] + b"\x00\x01" + data[tags + 2 :]  # an ID byte of 0 declares more than 8 bytes
    out = read_media(zeroed, "video/x-matroska")
    assert out.labels == [] and [problem.code for problem in out.problems] == ["corrupt"]
    assert read_media(b"\x1a\x45\xdf\xa3\x00", None).problems[0].code == "corrupt"
    not_ebml = read_media(b"\x1a\x45\xdf\xa3" + b"\x80" + bytes(16), "video/webm")
    assert not_ebml.labels == []


def test_deep_nesting_and_structure_limits(files: dict[str, bytes]) -> None:
    data = files["mkv"]
    start, _, end = _element(data, matroska.SEGMENT, matroska.TAGS, matroska.TAG, matroska.SIMPLE_TAG)
    nested = data[start:end]
    for _ in range(40):  # SimpleTag inside SimpleTag, 40 deep
        nested = b"\x67\xc8" + (len(nested) | (1 << 56)).to_bytes(8, "big") + nested
    tags, _, _ = _element(data, matroska.SEGMENT, matroska.TAGS)
    new_tag = b"\x73\x73" + (len(nested) | (1 << 56)).to_bytes(8, "big") + nested
    new_tags = b"\x12\x54\xc3\x67" + (len(new_tag) | (1 << 56)).to_bytes(8, "big") + new_tag
    segment, segment_body, _ = _element(data, matroska.SEGMENT)
    deep = data[:segment] + b"\x18\x53\x80\x67" + UNKNOWN_SIZE + data[segment_body:tags] + new_tags
    out = read_media(deep, "video/x-matroska")
    assert out.labels == [] and "limit_exceeded" in {problem.code for problem in out.problems}
    counted = read_media(data, "video/x-matroska", Limits(max_structures=5))
    assert counted.labels == [] and [problem.code for problem in counted.problems] == ["limit_exceeded"]
    small = read_media(data, "video/x-matroska", Limits(max_field_bytes=16))
    assert small.labels == [] and {problem.code for problem in small.problems} == {"limit_exceeded"}


def test_two_aigc_tags_both_come_back(files: dict[str, bytes]) -> None:
    """GB 45438-2025 6.1: one label per file; a second Tag (here a copy) must show as a duplicate."""
    data = files["mkv"]
    tag, _, tag_end = _element(data, matroska.SEGMENT, matroska.TAGS, matroska.TAG)
    tags, tags_body, _ = _element(data, matroska.SEGMENT, matroska.TAGS)
    copy = data[tag:tag_end]
    width = tags_body - tags - 4
    size = int.from_bytes(data[tags + 4 : tags_body], "big") & ((1 << (7 * width)) - 1)
    grown = (size + len(copy)) | (1 << (7 * width))
    data = data[: tags + 4] + grown.to_bytes(width, "big") + data[tags_body:tag_end] + copy + data[tag_end:]
    segment, segment_body, _ = _element(data, matroska.SEGMENT)
    data = data[: segment + 4] + UNKNOWN_SIZE + data[segment_body:]
    out = read_media(data, "video/x-matroska")
    assert not out.problems and [label.location for label in out.labels] == [WHERE, WHERE]


def test_registry_picks_the_matroska_reader(files: dict[str, bytes]) -> None:
    for mime in ("video/x-matroska", "audio/x-matroska", "video/webm", "audio/webm"):
        assert spec_for(files["mkv"], mime) == (matroska.SPEC, False)
    assert read_media(files["webm"], None).format == "matroska"
    mismatch = read_media(files["mkv"], "video/mp4")
    assert mismatch.format == "matroska" and [p.code for p in mismatch.problems] == ["mime_mismatch"]
    assert mismatch.labels[0].record == LABEL
