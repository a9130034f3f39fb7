"""FLAC / Ogg Vorbis / Ogg Opus reader: labels.md §4.3 (Vorbis comment AIGC=<json>), §4.6 (variants).

Fixtures: ffmpeg writes each format with ``-metadata AIGC=...``; mutagen.flac, mutagen.oggvorbis and
mutagen.oggopus edit the comments (other spellings, several values, a comment packet spread over many
Ogg pages); mutagen.id3 puts an ID3 tag in front of a FLAC stream.
"""

# mutagen's tag classes are untyped; calling them is what these fixtures are for.
# mypy: disallow-untyped-calls=False

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped]
import pytest
from mutagen.flac import FLAC
from mutagen.id3 import ID3, TXXX, Encoding
from mutagen.oggopus import OggOpus
from mutagen.oggvorbis import OggVorbis

from classifiers.labels.media import vorbis
from classifiers.labels.media.base import Extraction, Limits
from classifiers.labels.media.registry import read_media, spec_for
from tests.fixtures.media import LABEL

WRAPPED = json.dumps({"AIGC": LABEL}, separators=(",", ":"))
BARE_NUMERIC = json.dumps({**LABEL, "Label": 1})
CODECS = {"flac": "flac", "ogg": "libvorbis", "opus": "libopus"}
LOCATIONS = {
    "flac": "flac:VORBIS_COMMENT:AIGC",
    "ogg": "ogg:vorbis:comment:AIGC",
    "opus": "ogg:opus:OpusTags:AIGC",
}
MIME = {"flac": "audio/flac", "ogg": "audio/ogg", "opus": "audio/opus"}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    directory = tmp_path_factory.mktemp("vorbis")
    made = {}
    for extension, codec in CODECS.items():
        path = directory / f"labelled.{extension}"
        source = ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono", "-t", "0.2", "-c:a", codec]
        command = [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            *source,
            "-metadata",
            f"AIGC={WRAPPED}",
        ]
        subprocess.run([*command, str(path)], check=True, timeout=60, capture_output=True)
        made[extension] = path.read_bytes()
    return made


def _edit(tmp_path: Path, data: bytes, extension: str, **comments: list[str] | None) -> bytes:
    """``data`` with its comments changed by mutagen (None deletes the key)."""
    path = tmp_path / f"edited.{extension}"
    path.write_bytes(data)
    editor = {"flac": FLAC, "ogg": OggVorbis, "opus": OggOpus}[extension]
    audio = editor(path)
    assert audio.tags is not None
    for key, values in comments.items():
        if values is None:
            del audio.tags[key]
        else:
            audio.tags[key] = values
    audio.save()
    return path.read_bytes()


def _read_flac(data: bytes, limits: Limits | None = None) -> Extraction:
    out = Extraction(format="flac")
    vorbis.read_flac(data, out, limits or Limits())
    return out


@pytest.mark.parametrize("extension", ["flac", "ogg", "opus"])
def test_ffmpeg_writes_the_comment(files: dict[str, bytes], extension: str) -> None:
    out = read_media(files[extension], MIME[extension])
    assert out.format == ("flac" if extension == "flac" else "ogg")
    assert not out.problems
    assert [(label.location, label.record, label.variants) for label in out.labels] == [
        (LOCATIONS[extension], LABEL, ("wrapped",))
    ]


@pytest.mark.parametrize("extension", ["flac", "ogg", "opus"])
def test_mutagen_lower_case_key_bare_numeric_and_removal(
    files: dict[str, bytes], tmp_path: Path, extension: str
) -> None:
    """Vorbis comment names are case-insensitive: ``aigc=`` is the same field."""
    edited = _edit(tmp_path, files[extension], extension, AIGC=None, aigc=[BARE_NUMERIC])
    [label] = read_media(edited, MIME[extension]).labels
    assert label.location.lower() == LOCATIONS[extension].lower()
    assert label.record == {**LABEL, "Label": 1}
    assert label.variants == ("bare", "numeric_label")
    removed = read_media(_edit(tmp_path, files[extension], extension, AIGC=None), MIME[extension])
    assert removed.labels == [] and removed.problems == []


@pytest.mark.parametrize("extension", ["flac", "opus"])
def test_two_values_both_come_back(files: dict[str, bytes], tmp_path: Path, extension: str) -> None:
    second = json.dumps({"AIGC": {**LABEL, "ProduceID": "hy-0002"}})
    edited = _edit(tmp_path, files[extension], extension, AIGC=[WRAPPED, second])
    records = [label.record for label in read_media(edited, MIME[extension]).labels]
    assert [record["ProduceID"] for record in records if record] == ["hy-0001", "hy-0002"]


def test_comment_packet_over_many_ogg_pages(files: dict[str, bytes], tmp_path: Path) -> None:
    """A large comment header (here a 200 kB description) is split over pages and reassembled."""
    edited = _edit(tmp_path, files["ogg"], "ogg", DESCRIPTION=["x" * 200_000])
    assert edited.count(b"OggS") > 10
    out = read_media(edited, "audio/ogg")
    assert [label.record for label in out.labels] == [LABEL] and not out.problems
    bounded = read_media(edited, "audio/ogg", Limits(max_field_bytes=50_000, max_inflated_bytes=50_000))
    assert bounded.labels == [] and [problem.code for problem in bounded.problems] == ["limit_exceeded"]


def test_id3_tag_in_front_of_flac(files: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "id3.flac"
    path.write_bytes(_edit(tmp_path, files["flac"], "flac", AIGC=None))
    tags = ID3()
    tags.add(TXXX(encoding=Encoding.UTF8, desc="AIGC", text=[WRAPPED]))
    tags.save(path)
    data = path.read_bytes()
    assert data.startswith(b"ID3")
    assert spec_for(data, None) == (vorbis.FLAC_SPEC, False)
    [label] = read_media(data, "audio/flac").labels
    assert label.location == "flac:ID3v2.4:TXXX:AIGC"
    assert label.variants == ("nonstandard_location", "wrapped")


def test_flac_truncated_and_huge_lengths(files: dict[str, bytes]) -> None:
    data = files["flac"]
    cut = read_media(data[: data.find(b"ContentProducer")], "audio/flac")
    assert cut.labels == [] and {problem.code for problem in cut.problems} == {"truncated"}
    entry = data.find(b"AIGC=") - 4
    huge = data[:entry] + b"\xff\xff\xff\x7f" + data[entry + 4 :]
    out = _read_flac(huge)
    assert out.labels == [] and [problem.code for problem in out.problems] == ["truncated"]
    assert read_media(b"fLaC", "audio/flac").problems[0].code == "truncated"


def test_flac_comment_count_limit(files: dict[str, bytes], tmp_path: Path) -> None:
    many = {f"OTHER{index}": ["x"] for index in range(6)}
    edited = _edit(tmp_path, files["flac"], "flac", AIGC=None, **many, ZAIGC=[WRAPPED])
    out = _read_flac(edited, Limits(max_structures=5))
    assert out.labels == [] and "limit_exceeded" in {problem.code for problem in out.problems}
    assert [label.location for label in _read_flac(edited).labels] == ["flac:VORBIS_COMMENT:ZAIGC"]


def test_ogg_truncated_and_corrupt_pages(files: dict[str, bytes]) -> None:
    data = files["opus"]
    cut = read_media(data[: data.find(b"ContentProducer")], "audio/opus")
    assert cut.labels == [] and [problem.code for problem in cut.problems] == ["truncated"]
    second_page = data.find(b"OggS", 4)
    broken = data[:second_page] + b"Junk" + data[second_page + 4 :]
    corrupt = read_media(broken, "audio/opus")
    assert corrupt.labels == [] and [problem.code for problem in corrupt.problems] == ["corrupt"]
    pages = read_media(data, "audio/opus", Limits(max_structures=1))
    assert pages.labels == [] and [problem.code for problem in pages.problems] == ["limit_exceeded"]


def test_registry_picks_the_vorbis_readers(files: dict[str, bytes]) -> None:
    for mime in ("audio/flac", "audio/x-flac"):
        assert spec_for(files["flac"], mime) == (vorbis.FLAC_SPEC, False)
    for mime in ("audio/ogg", "audio/opus", "application/ogg"):
        assert spec_for(files["opus"], mime) == (vorbis.OGG_SPEC, False)
    assert read_media(files["ogg"], None).format == "ogg"
    assert read_media(files["flac"], None).format == "flac"
