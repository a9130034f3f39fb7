"""WAV reader: labels.md §4.3 (RIFF sub-chunk AIGC), §4.6 (after the data), §5.3 (C2PA chunk).

The WAV files are written by Python's ``wave`` module and ffmpeg (LIST/INFO comment, RF64), the ID3
chunk by mutagen.wave and the C2PA chunk by c2pa-python. No library writes a custom RIFF chunk, so the
``AIGC`` chunk is inserted by a small helper that follows the RIFF rules (id, little-endian size, data,
pad byte) and fixes the RIFF size.
"""

# mutagen's tag classes are untyped; calling them is what these fixtures are for.
# mypy: disallow-untyped-calls=False

from __future__ import annotations

import io
import json
import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg  # type: ignore[import-untyped]
from mutagen.id3 import TXXX, Encoding
from mutagen.wave import WAVE

from classifiers.labels.media import wav
from classifiers.labels.media.base import Extraction, Limits
from classifiers.labels.media.registry import read_media, spec_for
from tests.fixtures.c2pa import created_action, make_credentials, sign
from tests.fixtures.media import LABEL

WRAPPED = json.dumps({"AIGC": LABEL}, separators=(",", ":"))


def _wave_file() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(b"\x01\x00" * 801)  # an odd byte count would need a pad; 1602 is even
    return buffer.getvalue()


PLAIN = _wave_file()


def _chunk(chunk_id: bytes, payload: bytes) -> bytes:
    return chunk_id + len(payload).to_bytes(4, "little") + payload + b"\x00" * (len(payload) % 2)


def _with_chunk(data: bytes, chunk: bytes, *, before_data: bool, fix_size: bool = True) -> bytes:
    at = data.find(b"data") if before_data else len(data)
    result = data[:at] + chunk + data[at:]
    if fix_size:
        result = result[:4] + (len(result) - 8).to_bytes(4, "little") + result[8:]
    return result


def _read(data: bytes, limits: Limits | None = None) -> Extraction:
    out = Extraction(format="wav")
    wav.read(data, out, limits or Limits())
    return out


def _ffmpeg(tmp_path: Path, *arguments: str) -> bytes:
    path = tmp_path / "f.wav"
    source = ["-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "0.1"]
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *source, *arguments, str(path)]
    subprocess.run(command, check=True, timeout=60, capture_output=True)
    return path.read_bytes()


def test_aigc_chunk_before_the_data() -> None:
    data = _with_chunk(PLAIN, _chunk(b"AIGC", WRAPPED.encode()), before_data=True)
    out = read_media(data, "audio/wav")
    assert out.format == "wav" and not out.problems
    assert [(label.location, label.record, label.variants) for label in out.labels] == [
        ("wav:AIGC", LABEL, ("wrapped",))
    ]
    with wave.open(io.BytesIO(data)) as check:  # the fixture is still a valid WAV
        assert check.getnframes() == 801


def test_aigc_chunk_after_the_data_with_odd_length_and_bare_numeric_json() -> None:
    record = {**LABEL, "Label": 1, "ProduceID": "hy-001"}
    bare = json.dumps(record)
    assert len(bare) % 2 == 1
    data = _with_chunk(PLAIN, _chunk(b"AIGC", bare.encode()), before_data=False)
    [label] = _read(data).labels
    assert label.record == record
    assert label.variants == ("after_media_data", "bare", "numeric_label")


def test_duplicate_chunks_both_come_back() -> None:
    first = json.dumps({"AIGC": {**LABEL, "ProduceID": "hy-001"}}).encode()
    assert len(first) % 2 == 1  # the pad byte before "data" must be skipped
    second = json.dumps({"AIGC": {**LABEL, "ProduceID": "hy-0002"}}).encode()
    data = _with_chunk(PLAIN, _chunk(b"AIGC", first), before_data=True)
    data = _with_chunk(data, _chunk(b"AIGC", second), before_data=False)
    out = _read(data)
    assert [label.record["ProduceID"] for label in out.labels if label.record] == ["hy-001", "hy-0002"]
    assert [label.variants for label in out.labels] == [("wrapped",), ("after_media_data", "wrapped")]
    assert not out.problems


def test_list_info_aigc_entry() -> None:
    info = _chunk(
        b"LIST", b"INFO" + _chunk(b"INAM", b"title\x00") + _chunk(b"AIGC", WRAPPED.encode() + b"\x00")
    )
    [label] = _read(_with_chunk(PLAIN, info, before_data=True)).labels
    assert label.location == "wav:LIST/INFO:AIGC" and label.record == LABEL
    assert label.variants == ("wrapped",)


def test_ffmpeg_info_comment_holding_the_json(tmp_path: Path) -> None:
    """ffmpeg writes -metadata comment=... as LIST/INFO ICMT: a place no guide names."""
    data = _ffmpeg(tmp_path, "-metadata", f"comment={WRAPPED}")
    assert b"ICMT" in data
    [label] = read_media(data, "audio/x-wav").labels
    assert label.location == "wav:LIST/INFO:ICMT"
    assert label.variants == ("nonstandard_location", "wrapped")


def test_ffmpeg_rf64_with_chunk_after_the_data(tmp_path: Path) -> None:
    data = _ffmpeg(tmp_path, "-rf64", "always")
    assert data.startswith(b"RF64")
    labelled = _with_chunk(data, _chunk(b"AIGC", WRAPPED.encode()), before_data=False, fix_size=False)
    out = read_media(labelled, "audio/wav")
    assert out.format == "wav"
    assert [(label.record, label.variants) for label in out.labels] == [
        (LABEL, ("after_media_data", "wrapped"))
    ]


def test_mutagen_id3_chunk(tmp_path: Path) -> None:
    path = tmp_path / "tagged.wav"
    path.write_bytes(PLAIN)
    audio = WAVE(path)
    audio.add_tags()
    assert audio.tags is not None
    audio.tags.add(TXXX(encoding=Encoding.UTF8, desc="AIGC", text=[WRAPPED]))
    audio.save()
    [label] = _read(path.read_bytes()).labels
    assert label.location == "wav:id3:ID3v2.4:TXXX:AIGC"
    assert label.record == LABEL
    # mutagen appends the chunk after "data"; no guide names ID3 inside WAV
    assert label.variants == ("after_media_data", "nonstandard_location", "wrapped")


def test_xmp_chunk() -> None:
    packet = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:TC260="http://www.tc260.org.cn/ns/AIGC/1.0/"><TC260:AIGC>'
        + json.dumps(LABEL).replace('"', "&quot;")
        + "</TC260:AIGC></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    [label] = _read(_with_chunk(PLAIN, _chunk(b"_PMX", packet.encode()), before_data=True)).labels
    assert label.location == "wav:_PMX:TC260:AIGC" and label.record == LABEL


def test_c2pa_chunk_written_by_c2pa_python() -> None:
    labelled = _with_chunk(PLAIN, _chunk(b"AIGC", WRAPPED.encode()), before_data=True)
    signed = sign(labelled, "audio/wav", make_credentials(), [created_action("trainedAlgorithmicMedia")])
    out = read_media(signed, "audio/wav")
    assert out.c2pa_locations == ["wav:C2PA"]
    assert [label.record for label in out.labels] == [LABEL]


def test_unlabelled() -> None:
    out = read_media(PLAIN, "audio/wav")
    assert out.labels == [] and out.problems == [] and out.c2pa_locations == []


def test_chunk_appended_without_fixing_the_riff_size() -> None:
    data = _with_chunk(PLAIN, _chunk(b"AIGC", WRAPPED.encode()), before_data=False, fix_size=False)
    out = _read(data)
    assert [label.record for label in out.labels] == [LABEL]
    assert [problem.code for problem in out.problems] == ["corrupt"]


def test_truncated_huge_and_garbage_chunks() -> None:
    data = _with_chunk(PLAIN, _chunk(b"AIGC", WRAPPED.encode()), before_data=False)
    cut = read_media(data[:-20], "audio/wav")
    assert cut.labels == [] and {problem.code for problem in cut.problems} == {"truncated"}
    at = len(PLAIN)  # the appended chunk's id
    huge = read_media(data[: at + 4] + b"\xf0\xff\xff\xff" + data[at + 8 :], "audio/wav")
    assert huge.labels == [] and "truncated" in {problem.code for problem in huge.problems}
    garbage = read_media(data[:at] + b"\x01\x02\x03\x04" + data[at + 4 :], "audio/wav")
    assert garbage.labels == [] and "corrupt" in {problem.code for problem in garbage.problems}
    assert [p.code for p in read_media(PLAIN[:10], "audio/wav").problems] == ["truncated"]


def test_chunk_count_limit() -> None:
    data = PLAIN
    for index in range(5):
        data = _with_chunk(data, _chunk(b"junk", bytes([index]) * 4), before_data=True)
    data = _with_chunk(data, _chunk(b"AIGC", WRAPPED.encode()), before_data=False)
    out = read_media(data, "audio/wav", Limits(max_structures=4))
    assert out.labels == [] and [problem.code for problem in out.problems] == ["limit_exceeded"]


def test_registry_picks_the_wav_reader() -> None:
    for mime in ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"):
        assert spec_for(PLAIN, mime) == (wav.SPEC, False)
    assert read_media(PLAIN, None).format == "wav"
