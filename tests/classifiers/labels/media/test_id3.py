"""MP3 / ID3v2 reader: labels.md §4.3 (TXXX description AIGC), §4.6 (variants), §5.3 (GEOB C2PA).

Fixtures: an MP3 written by ffmpeg (also its own TXXX from ``-metadata AIGC=...``), tags written by
mutagen.id3 (v2.3 and v2.4, every text encoding) and c2pa-python; the ID3v2.2 form, unsynchronisation,
an extended header and an appended tag are produced by transforming those library-written tags.
"""

# mutagen's tag classes are untyped; calling them is what these fixtures are for.
# mypy: disallow-untyped-calls=False

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped]
import pytest
from mutagen.id3 import COMM, GEOB, ID3, TXXX, Encoding

from classifiers.labels.media import id3
from classifiers.labels.media.base import Extraction, Limits
from classifiers.labels.media.registry import read_media, spec_for
from tests.fixtures.c2pa import created_action, make_credentials, sign
from tests.fixtures.media import LABEL

WRAPPED = json.dumps({"AIGC": LABEL}, separators=(",", ":"))
BARE_NUMERIC = json.dumps({**LABEL, "Label": 1})


def _synchsafe(value: int) -> bytes:
    return bytes((value >> shift) & 0x7F for shift in (21, 14, 7, 0))


@pytest.fixture(scope="module")
def mp3s(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    directory = tmp_path_factory.mktemp("mp3")
    audio = ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "0.2", "-c:a", "libmp3lame"]
    made = {}
    for name, extra in (("plain", []), ("ffmpeg", ["-metadata", f"AIGC={BARE_NUMERIC}"])):
        path = directory / f"{name}.mp3"
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *audio, *extra, str(path)]
        subprocess.run(command, check=True, timeout=60, capture_output=True)
        made[name] = path.read_bytes()
    return made


def _tagged(tmp_path: Path, audio: bytes, *frames: object, version: int = 4) -> bytes:
    """``audio`` with a new ID3v2 tag written by mutagen holding ``frames``."""
    path = tmp_path / "tagged.mp3"
    path.write_bytes(audio)
    tags = ID3()
    for frame in frames:
        tags.add(frame)
    tags.save(path, v2_version=version)
    return path.read_bytes()


def _split_tag(data: bytes) -> tuple[bytes, bytes]:
    length = id3.tag_length(data)
    assert length is not None
    return data[:length], data[length:]


def _read(data: bytes, limits: Limits | None = None) -> Extraction:
    out = Extraction(format="mp3")
    id3.read(data, out, limits or Limits())
    return out


def test_ffmpeg_writes_txxx(mp3s: dict[str, bytes]) -> None:
    out = read_media(mp3s["ffmpeg"], "audio/mpeg")
    assert out.format == "mp3" and not out.problems
    [label] = out.labels
    assert label.location == "mp3:ID3v2.4:TXXX:AIGC"
    assert label.record == {**LABEL, "Label": 1}
    assert label.variants == ("bare", "numeric_label")


@pytest.mark.parametrize("encoding", [Encoding.LATIN1, Encoding.UTF16, Encoding.UTF16BE, Encoding.UTF8])
def test_mutagen_txxx_in_every_text_encoding(
    mp3s: dict[str, bytes], tmp_path: Path, encoding: Encoding
) -> None:
    data = _tagged(tmp_path, mp3s["plain"], TXXX(encoding=encoding, desc="AIGC", text=[WRAPPED]))
    out = _read(data)
    assert [(label.location, label.record, label.variants) for label in out.labels] == [
        ("mp3:ID3v2.4:TXXX:AIGC", LABEL, ("wrapped",))
    ]
    assert not out.problems


def test_id3v23_tag(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    data = _tagged(
        tmp_path, mp3s["plain"], TXXX(encoding=Encoding.UTF16, desc="AIGC", text=[WRAPPED]), version=3
    )
    assert data[3] == 3
    assert [label.location for label in _read(data).labels] == ["mp3:ID3v2.3:TXXX:AIGC"]


def test_id3v22_tag(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    """mutagen writes v2.3; rewriting its frame headers gives the v2.2 layout (3-byte ids and sizes)."""
    data = _tagged(
        tmp_path, mp3s["plain"], TXXX(encoding=Encoding.LATIN1, desc="AIGC", text=[WRAPPED]), version=3
    )
    tag, audio = _split_tag(data)
    body, position, frames = tag[10:], 0, b""
    while position + 10 <= len(body) and body[position] != 0:
        size = int.from_bytes(body[position + 4 : position + 8], "big")
        short_id = {b"TXXX": b"TXX"}.get(body[position : position + 4], body[position : position + 3])
        frames += short_id + size.to_bytes(3, "big") + body[position + 10 : position + 10 + size]
        position += 10 + size
    converted = b"ID3\x02\x00\x00" + _synchsafe(len(frames)) + frames + audio
    assert [label.location for label in _read(converted).labels] == ["mp3:ID3v2.2:TXXX:AIGC"]


def test_unsynchronised_v23_tag(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    """UTF-16 text starts with 0xFF 0xFE: unsynchronisation inserts a zero after every 0xFF."""
    data = _tagged(
        tmp_path, mp3s["plain"], TXXX(encoding=Encoding.UTF16, desc="AIGC", text=[WRAPPED]), version=3
    )
    tag, audio = _split_tag(data)
    body = tag[10:].replace(b"\xff", b"\xff\x00")
    assert len(body) > len(tag) - 10
    unsynchronised = b"ID3\x03\x00\x80" + _synchsafe(len(body)) + body + audio
    assert [label.record for label in _read(unsynchronised).labels] == [LABEL]


def test_extended_header_v24(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    data = _tagged(tmp_path, mp3s["plain"], TXXX(encoding=Encoding.UTF8, desc="AIGC", text=[WRAPPED]))
    tag, audio = _split_tag(data)
    extended = _synchsafe(6) + b"\x01\x00"  # size including itself, one flag byte, no flags
    body = extended + tag[10:]
    rewritten = b"ID3\x04\x00\x40" + _synchsafe(len(body)) + body + audio
    out = _read(rewritten)
    assert [label.record for label in out.labels] == [LABEL] and not out.problems


def test_two_values_and_two_frames_all_come_back(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    """GB 45438-2025 6.1 allows one label; the reader returns every copy for the validator."""
    second = json.dumps({"AIGC": {**LABEL, "ProduceID": "hy-0002"}})
    data = _tagged(
        tmp_path,
        mp3s["plain"],
        TXXX(encoding=Encoding.UTF8, desc="AIGC", text=[WRAPPED, second]),
        TXXX(encoding=Encoding.UTF8, desc="AIGC-copy", text=[WRAPPED]),
    )
    out = _read(data)
    assert sorted((label.location, label.record["ProduceID"]) for label in out.labels if label.record) == [
        ("mp3:ID3v2.4:TXXX:AIGC", "hy-0001"),
        ("mp3:ID3v2.4:TXXX:AIGC", "hy-0002"),
        ("mp3:ID3v2.4:TXXX:AIGC-copy", "hy-0001"),
    ]


def test_comment_frame_is_a_nonstandard_location(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    data = _tagged(
        tmp_path, mp3s["plain"], COMM(encoding=Encoding.UTF8, lang="eng", desc="AIGC", text=[WRAPPED])
    )
    [label] = _read(data).labels
    assert label.location == "mp3:ID3v2.4:COMM:AIGC"
    assert label.variants == ("nonstandard_location", "wrapped")


def test_unlabelled_mp3(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    other = _tagged(tmp_path, mp3s["plain"], TXXX(encoding=Encoding.UTF8, desc="comment", text=[WRAPPED]))
    for data in (mp3s["plain"], other):
        out = read_media(data, "audio/mpeg")
        assert out.labels == [] and out.problems == [] and out.c2pa_locations == []


def test_tag_appended_after_the_audio(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    """An ID3v2.4 tag with a footer ("3DI") at the end, before an ID3v1 block."""
    data = _tagged(tmp_path, mp3s["plain"], TXXX(encoding=Encoding.UTF8, desc="AIGC", text=[WRAPPED]))
    tag, audio = _split_tag(data)
    body = tag[10:]
    appended = b"ID3\x04\x00\x10" + _synchsafe(len(body)) + body + b"3DI\x04\x00\x10" + _synchsafe(len(body))
    id3v1 = b"TAG" + b"\x00" * 125
    for moved in (audio + appended, audio + appended + id3v1):
        [label] = _read(moved).labels
        assert label.record == LABEL
        assert label.variants == ("after_media_data", "wrapped")


def test_c2pa_geob(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    signed = sign(
        mp3s["ffmpeg"], "audio/mpeg", make_credentials(), [created_action("trainedAlgorithmicMedia")]
    )
    out = read_media(signed, "audio/mpeg")
    assert out.c2pa_locations == ["mp3:ID3v2.4:GEOB"]
    assert [label.record for label in out.labels] == [{**LABEL, "Label": 1}]
    older = GEOB(
        encoding=0, mime="application/x-c2pa-manifest-store", filename="", desc="c2pa", data=b"\x00" * 8
    )
    assert _read(_tagged(tmp_path, mp3s["plain"], older)).c2pa_locations == ["mp3:ID3v2.4:GEOB"]
    other = GEOB(encoding=0, mime="image/png", filename="", desc="cover", data=b"\x00" * 8)
    assert _read(_tagged(tmp_path, mp3s["plain"], other)).c2pa_locations == []


def test_truncated_and_huge_sizes(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    data = _tagged(tmp_path, mp3s["plain"], TXXX(encoding=Encoding.UTF8, desc="AIGC", text=[WRAPPED]))
    cut = read_media(data[: data.find(b"ContentProducer")], "audio/mpeg")
    assert cut.labels == [] and "truncated" in {problem.code for problem in cut.problems}
    # the tag declares far more than the file: frames that are complete are still read
    huge_tag = data[:6] + b"\x7f\x7f\x7f\x7f" + data[10:]
    kept = read_media(huge_tag, "audio/mpeg")
    assert [label.record for label in kept.labels] == [LABEL]
    assert [problem.code for problem in kept.problems] == ["truncated"]
    frame = data.find(b"TXXX")
    huge_frame = data[: frame + 4] + b"\x7f\x7f\x7f\x7f" + data[frame + 8 :]
    broken = read_media(huge_frame, "audio/mpeg")
    assert broken.labels == [] and [problem.code for problem in broken.problems] == ["truncated"]
    not_synchsafe = read_media(data[:6] + b"\x80\x00\x00\x00" + data[10:], "audio/mpeg")
    assert not_synchsafe.labels == [] and "corrupt" in {problem.code for problem in not_synchsafe.problems}


def test_frame_count_limit(mp3s: dict[str, bytes], tmp_path: Path) -> None:
    frames = [TXXX(encoding=Encoding.UTF8, desc=f"other{index}", text=["x"]) for index in range(5)]
    data = _tagged(
        tmp_path, mp3s["plain"], *frames, TXXX(encoding=Encoding.UTF8, desc="AIGC", text=[WRAPPED])
    )
    out = read_media(data, "audio/mpeg", Limits(max_structures=3))
    assert [problem.code for problem in out.problems] == ["limit_exceeded"]


def test_registry_picks_the_mp3_reader(mp3s: dict[str, bytes]) -> None:
    for mime in ("audio/mpeg", "audio/mp3"):
        assert spec_for(mp3s["ffmpeg"], mime) == (id3.SPEC, False)
    assert read_media(mp3s["ffmpeg"], None).format == "mp3"
    _, frames_only = _split_tag(mp3s["plain"])  # no tag: recognised by the MPEG frame header
    assert spec_for(frames_only, None) == (id3.SPEC, False)
    assert read_media(frames_only, "audio/mpeg").labels == []
