"""MP4/MOV/M4A reader: labels.md §4.3 (moov/udta/meta keys + ilst, XMP), §4.6 (variants), §5.3 (C2PA uuid).

Fixtures are written by ffmpeg (``-movflags use_metadata_tags``), mutagen (iTunes freeform items) and
c2pa-python; damage is applied on top of those files.
"""

# mutagen's tag classes are untyped; calling them is what these fixtures are for.
# mypy: disallow-untyped-calls=False

from __future__ import annotations

import json
import struct
import subprocess
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped]
import pytest
from mutagen.mp4 import MP4, MP4FreeForm

from classifiers.labels.file_labels import check_file_labels
from classifiers.labels.media import bmff
from classifiers.labels.media.base import Extraction, Limits
from classifiers.labels.media.registry import read_media, spec_for
from tests.fixtures.c2pa import created_action, make_credentials, sign
from tests.fixtures.labels import build_event, codes, media_fields
from tests.fixtures.media import LABEL

WRAPPED = json.dumps({"AIGC": LABEL}, separators=(",", ":"))
NUMERIC_BARE = json.dumps({**LABEL, "Label": 1, "ProduceID": "hy-0002"})
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    '<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/">'
    "<TC260:AIGC>" + json.dumps({**LABEL, "ProduceID": "hy-xmp"}).replace('"', "&quot;") + "</TC260:AIGC>"
    "</rdf:Description></rdf:RDF></x:xmpmeta>"
)
ILST = "mp4:moov/udta/meta/ilst:AIGC"
FREEFORM = "mp4:moov/udta/meta/ilst:----:com.apple.iTunes:AIGC"
VIDEO = ["-f", "lavfi", "-i", "color=c=black:s=16x16:d=0.2"]
AUDIO = ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "0.2"]


def _ffmpeg(directory: Path, name: str, arguments: list[str]) -> bytes:
    path = directory / name
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *arguments, str(path)]
    subprocess.run(command, check=True, timeout=60, capture_output=True)
    return path.read_bytes()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Tiny files written once by ffmpeg for the whole module."""
    directory = tmp_path_factory.mktemp("bmff")
    tags = ["-movflags", "use_metadata_tags"]
    return {
        "mp4": _ffmpeg(
            directory, "l.mp4", [*VIDEO, *AUDIO, "-c:v", "mpeg4", "-metadata", f"AIGC={WRAPPED}", *tags]
        ),
        "mov": _ffmpeg(
            directory, "l.mov", [*VIDEO, "-c:v", "mjpeg", "-metadata", f"AIGC={NUMERIC_BARE}", *tags]
        ),
        # ffmpeg's mov muxer writes the "xmp" key as udta/XMP_ (without use_metadata_tags).
        "xmp": _ffmpeg(directory, "x.mov", [*VIDEO, "-c:v", "mjpeg", "-metadata", f"xmp={XMP}"]),
        "m4a": _ffmpeg(directory, "l.m4a", [*AUDIO, "-c:a", "aac", "-metadata", f"AIGC={WRAPPED}", *tags]),
        # +faststart: ffmpeg moves moov in front of mdat once the file is written.
        "faststart": _ffmpeg(
            directory,
            "f.mp4",
            [
                *VIDEO,
                "-c:v",
                "mpeg4",
                "-metadata",
                f"AIGC={WRAPPED}",
                "-movflags",
                "use_metadata_tags+faststart",
            ],
        ),
        "m4a_plain": _ffmpeg(directory, "p.m4a", [*AUDIO, "-c:a", "aac"]),
        "m4a_faststart": _ffmpeg(directory, "f.m4a", [*AUDIO, "-c:a", "aac", "-movflags", "+faststart"]),
        # Without use_metadata_tags ffmpeg drops the key silently (labels.md §4.3).
        "plain": _ffmpeg(directory, "p.mp4", [*VIDEO, "-c:v", "mpeg4", "-metadata", f"AIGC={WRAPPED}"]),
    }


def _read(data: bytes, limits: Limits | None = None) -> Extraction:
    out = Extraction(format="mp4")
    bmff.read(data, out, limits or Limits())
    return out


def _summary(out: Extraction) -> list[tuple[str, object, tuple[str, ...]]]:
    return [(label.location, label.record, label.variants) for label in out.labels]


def _box(data: bytes, *path: bytes) -> tuple[int, int]:
    """(offset, size) of the box at ``path`` (test-side locator for applying damage)."""
    start, end, found = 0, len(data), (0, 0)
    for kind in path:
        position = start
        while position + 8 <= end:
            size = int.from_bytes(data[position : position + 4], "big")
            if data[position + 4 : position + 8] == kind:
                found = (position, size)
                break
            position += size
        else:
            raise AssertionError(f"no {kind!r} box")
        header = 12 if kind == b"meta" else 8
        start, end = found[0] + header, found[0] + found[1]
    return found


def _with_size(data: bytes, offset: int, size: int) -> bytes:
    return data[:offset] + struct.pack(">I", size) + data[offset + 4 :]


def _mutagen_freeform(tmp_path: Path, source: bytes, *values: str) -> bytes:
    path = tmp_path / "freeform.mp4"
    path.write_bytes(source)
    audio = MP4(path)
    assert audio.tags is not None
    audio.tags["----:com.apple.iTunes:AIGC"] = [MP4FreeForm(value.encode()) for value in values]
    audio.save()
    return path.read_bytes()


def test_ffmpeg_keys_and_ilst_with_moov_after_mdat(files: dict[str, bytes]) -> None:
    data = files["mp4"]
    assert data.find(b"moov") > data.find(b"mdat") > 0  # ffmpeg's default layout, no +faststart
    out = read_media(data, "video/mp4")
    assert out.format == "mp4" and not out.problems
    [label] = out.labels
    assert label.location == ILST
    assert label.record == LABEL
    assert label.variants == ("after_media_data", "wrapped")  # labels.md §4.6: behind the media data


def test_quicktime_bare_json_with_numeric_label(files: dict[str, bytes]) -> None:
    out = read_media(files["mov"], "video/quicktime")
    assert not out.problems
    [label] = out.labels
    assert label.location == ILST
    assert label.record == {**LABEL, "Label": 1, "ProduceID": "hy-0002"}
    assert label.variants == ("after_media_data", "bare", "numeric_label")


def test_udta_xmp_box(files: dict[str, bytes]) -> None:
    out = read_media(files["xmp"], "video/quicktime")
    assert not out.problems
    [label] = out.labels
    assert label.location == "mp4:moov/udta/XMP_:TC260:AIGC"
    assert label.record is not None and label.record["ProduceID"] == "hy-xmp"
    assert "html_escaped" in label.variants


def test_m4a_audio(files: dict[str, bytes]) -> None:
    out = read_media(files["m4a"], "audio/x-m4a")
    assert [(label.location, label.record) for label in out.labels] == [(ILST, LABEL)]


def test_tag_dropped_without_use_metadata_tags_reads_nothing(files: dict[str, bytes]) -> None:
    assert b"ContentProducer" not in files["plain"]
    out = read_media(files["plain"], "video/mp4")
    assert out.labels == [] and out.problems == [] and out.c2pa_locations == []


def test_mutagen_freeform_item(files: dict[str, bytes], tmp_path: Path) -> None:
    data = _mutagen_freeform(tmp_path, files["plain"], WRAPPED)
    out = read_media(data, "video/mp4")
    assert [(label.location, label.record, label.variants) for label in out.labels] == [
        (FREEFORM, LABEL, ("after_media_data", "wrapped"))
    ]
    assert not out.problems


def test_duplicate_values_both_come_back(files: dict[str, bytes], tmp_path: Path) -> None:
    """GB 45438-2025 6.1: one label per file; the reader must return both so the validator sees it."""
    second = json.dumps({"AIGC": {**LABEL, "ProduceID": "hy-0009"}})
    out = _read(_mutagen_freeform(tmp_path, files["m4a"], WRAPPED, second))
    produce_ids = sorted(label.record["ProduceID"] for label in out.labels if label.record)
    # the keys/ilst label ffmpeg wrote survives mutagen's rewrite, plus the two freeform values
    assert produce_ids.count("hy-0009") == 1 and produce_ids.count("hy-0001") >= 1
    assert [label.location for label in out.labels].count(FREEFORM) == 2


def test_quicktime_meta_without_version_and_flags(files: dict[str, bytes]) -> None:
    """QuickTime's meta is a plain box (ISO's is a FullBox): drop ffmpeg's 4 version/flag bytes."""
    data = files["mp4"]
    moov, moov_size = _box(data, b"moov")
    udta, udta_size = _box(data, b"moov", b"udta")
    meta, meta_size = _box(data, b"moov", b"udta", b"meta")
    assert data[meta + 8 : meta + 12] == b"\x00\x00\x00\x00"
    quicktime = data[: meta + 8] + data[meta + 12 :]
    for offset, size in ((moov, moov_size), (udta, udta_size), (meta, meta_size)):
        quicktime = _with_size(quicktime, offset, size - 4)
    out = _read(quicktime)
    assert [label.location for label in out.labels] == [ILST] and not out.problems


def test_uuid_xmp_box(files: dict[str, bytes]) -> None:
    packet = XMP.encode()
    box = struct.pack(">I4s", 8 + 16 + len(packet), b"uuid") + bmff.XMP_UUID + packet
    out = _read(files["plain"] + box)
    [label] = out.labels
    assert label.location == "mp4:uuid:xmp:TC260:AIGC"
    assert label.record is not None and label.record["ProduceID"] == "hy-xmp"


def test_c2pa_uuid_box_written_by_c2pa_python(files: dict[str, bytes]) -> None:
    signed = sign(files["mp4"], "video/mp4", make_credentials(), [created_action("trainedAlgorithmicMedia")])
    out = read_media(signed, "video/mp4")
    assert out.c2pa_locations == ["mp4:uuid:c2pa"]
    assert [label.location for label in out.labels] == [ILST]


def test_64_bit_largesize_and_size_zero(files: dict[str, bytes]) -> None:
    data = files["mp4"]
    moov, size = _box(data, b"moov")
    assert moov + size == len(data)  # moov is the last box
    large = data[:moov] + struct.pack(">I4sQ", 1, b"moov", size + 8) + data[moov + 8 :]
    to_end = _with_size(data, moov, 0)
    for variant in (large, to_end):
        out = _read(variant)
        assert [label.record for label in out.labels] == [LABEL] and not out.problems


def test_mdat_is_skipped_by_size_not_scanned(files: dict[str, bytes]) -> None:
    """A udta box copied into the media data must not be read: boxes are walked, not searched."""
    labelled = files["mp4"]
    udta, udta_size = _box(labelled, b"moov", b"udta")
    plain = files["plain"]
    mdat, mdat_size = _box(plain, b"mdat")
    end = mdat + mdat_size
    data = _with_size(
        plain[:end] + labelled[udta : udta + udta_size] + plain[end:], mdat, mdat_size + udta_size
    )
    assert b"ContentProducer" in data
    out = _read(data)
    assert out.labels == [] and out.problems == []


def test_truncated_file_keeps_what_was_read(files: dict[str, bytes]) -> None:
    data = files["mp4"]
    ilst, _ = _box(data, b"moov", b"udta", b"meta", b"ilst")
    out = read_media(data[: ilst + 40], "video/mp4")
    assert out.labels == []  # the cut value is not reported as a label
    assert [problem.code for problem in out.problems] == ["truncated"]
    # moov declares more than the file holds: what was read before the end stays
    moov, moov_size = _box(data, b"moov")
    kept = read_media(_with_size(data, moov, moov_size + 100), "video/mp4")
    assert [label.record for label in kept.labels] == [LABEL]
    assert [problem.code for problem in kept.problems] == ["truncated"]


def test_huge_and_impossible_box_sizes(files: dict[str, bytes]) -> None:
    data = files["mp4"]
    mdat, _ = _box(data, b"mdat")
    huge = read_media(_with_size(data, mdat, 0xFFFFFFF0), "video/mp4")
    assert huge.labels == [] and [problem.code for problem in huge.problems] == ["truncated"]
    tiny = read_media(_with_size(data, mdat, 3), "video/mp4")
    assert tiny.labels == [] and [problem.code for problem in tiny.problems] == ["corrupt"]
    moov, _ = _box(data, b"moov")
    largesize = data[:moov] + struct.pack(">I4sQ", 1, b"moov", 2**63) + data[moov + 8 :]
    assert "truncated" in {problem.code for problem in read_media(largesize, "video/mp4").problems}


def test_depth_and_box_count_limits(files: dict[str, bytes]) -> None:
    data = files["mp4"]
    moov, _ = _box(data, b"moov")
    nested = data[moov:]
    for _ in range(40):
        nested = struct.pack(">I4s", len(nested) + 8, b"moov") + nested
    deep = read_media(data[:moov] + nested, "video/mp4")
    assert deep.labels == [] and "limit_exceeded" in {problem.code for problem in deep.problems}
    meta, meta_size = _box(data, b"moov", b"udta", b"meta")
    metas = data[meta : meta + meta_size]
    for _ in range(40):  # QuickTime-style meta boxes (no version/flags) inside one another
        metas = struct.pack(">I4s", len(metas) + 8, b"meta") + metas
    nested_meta = read_media(data + metas, "video/mp4")
    assert "limit_exceeded" in {problem.code for problem in nested_meta.problems}
    counted = read_media(data, "video/mp4", Limits(max_structures=5))
    assert counted.labels == [] and [problem.code for problem in counted.problems] == ["limit_exceeded"]


def test_registry_picks_the_bmff_reader(files: dict[str, bytes]) -> None:
    for mime in ("video/mp4", "video/quicktime", "audio/mp4", "audio/x-m4a"):
        assert spec_for(files["mp4"], mime) == (bmff.SPEC, False)
    assert read_media(files["m4a"], None).format == "mp4"
    mismatch = read_media(files["mp4"], "audio/mpeg")
    assert mismatch.format == "mp4" and [p.code for p in mismatch.problems] == ["mime_mismatch"]
    assert mismatch.labels[0].record == LABEL


def test_faststart_moov_before_mdat_is_not_after_media_data(files: dict[str, bytes]) -> None:
    data = files["faststart"]
    assert 0 < data.find(b"moov") < data.find(b"mdat")
    out = read_media(data, "video/mp4")
    assert _summary(out) == [(ILST, LABEL, ("wrapped",))] and not out.problems


def test_mutagen_m4a_tags_after_mdat(files: dict[str, bytes], tmp_path: Path) -> None:
    """mutagen writes the tags into moov where it is: behind mdat unless ffmpeg ran with +faststart."""
    behind = _mutagen_freeform(tmp_path, files["m4a_plain"], WRAPPED)
    assert behind.find(b"mdat") < behind.find(b"ContentProducer")
    assert _summary(read_media(behind, "audio/mp4")) == [(FREEFORM, LABEL, ("after_media_data", "wrapped"))]
    check = check_file_labels(build_event(**media_fields(behind, "audio/mp4")))
    assert check is not None and "file_label_nonstandard_form" in codes(check.findings)
    ahead = _mutagen_freeform(tmp_path, files["m4a_faststart"], WRAPPED)
    assert ahead.find(b"ContentProducer") < ahead.find(b"mdat")
    assert _summary(read_media(ahead, "audio/mp4")) == [(FREEFORM, LABEL, ("wrapped",))]


def test_size_zero_free_box_ahead_of_the_media_and_moov(files: dict[str, bytes]) -> None:
    """ffmpeg's free box before mdat set to size 0: read literally it would swallow mdat and moov."""
    data = files["mp4"]
    free, free_size = _box(data, b"free")
    assert free < _box(data, b"mdat")[0] < _box(data, b"moov")[0] and free_size == 8
    damaged = _with_size(data, free, 0)
    out = read_media(damaged, "video/mp4")
    assert _summary(out) == [(ILST, LABEL, ("after_media_data", "wrapped"))]
    [problem] = out.problems
    assert problem.code == "corrupt" and "size 0" in problem.detail
    check = check_file_labels(build_event(**media_fields(damaged, "video/mp4")))
    assert check is not None and check.found and "file_label_missing" not in codes(check.findings)


def test_size_zero_box_inside_moov_ahead_of_udta(files: dict[str, bytes]) -> None:
    """A size-0 trak (a container: walked to the end of moov) and a size-0 free box in moov before udta."""
    data = files["mp4"]
    trak, _ = _box(data, b"moov", b"trak")
    out = read_media(_with_size(data, trak, 0), "video/mp4")
    assert [label.record for label in out.labels] == [LABEL]
    assert [problem.code for problem in out.problems] == ["corrupt"]
    # The trak turned into a size-0 free box: its bytes are skipped, udta is found behind them.
    placeholder = data[: trak + 4] + b"free" + data[trak + 8 :]
    hidden = read_media(_with_size(placeholder, trak, 0), "video/mp4")
    assert _summary(hidden) == [(ILST, LABEL, ("after_media_data", "wrapped"))]
    assert [problem.code for problem in hidden.problems] == ["corrupt"]
    # udta turned into a size-0 skip box: the meta box inside it is found as the next box header.
    udta, _ = _box(data, b"moov", b"udta")
    skipped = _with_size(data[: udta + 4] + b"skip" + data[udta + 8 :], udta, 0)
    out = read_media(skipped, "video/mp4")
    assert _summary(out) == [("mp4:moov/meta/ilst:AIGC", LABEL, ("after_media_data", "wrapped"))]
    assert [problem.code for problem in out.problems] == ["corrupt"]
    check = check_file_labels(build_event(**media_fields(skipped, "video/mp4")))
    assert check is not None and check.found and not check.complete
