"""Hostile and broken input: read_visible_labels never raises, refuses decompression bombs from the
header, and reports why it could not read (the label status then stays undecided)."""

from __future__ import annotations

import random
import struct
import zlib

import pytest

from classifiers.labels.pixels import PixelLimits, PixelReading, read_visible_labels, supports
from tests.fixtures import pixels as scenes


def png(width: int = 64, height: int = 48) -> bytes:
    return scenes.encode(scenes.plain(width, height), "PNG")


def with_ihdr_size(data: bytes, width: int, height: int) -> bytes:
    """The PNG with its IHDR claiming another size (CRC fixed, so only the size is a lie)."""
    body = data[16:29]
    body = struct.pack(">II", width, height) + body[8:]
    chunk = b"IHDR" + body
    return data[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[33:]


def assert_unread(reading: PixelReading, problem: str) -> None:
    assert reading.problem is not None and reading.problem.startswith(problem), reading.problem
    assert reading.labels == () and reading.texts == () and reading.frames_read == 0


@pytest.mark.parametrize(
    ("mime", "supported"),
    [
        ("image/png", True),
        ("image/jpeg", True),
        ("IMAGE/WEBP", True),
        ("image/gif", True),
        ("image/bmp", True),
        ("image/tiff", True),
        ("video/mp4", True),
        ("video/quicktime", True),
        ("video/webm; codecs=vp9", True),
        ("video/x-matroska", True),
        ("image/svg+xml", False),
        ("application/postscript", False),
        ("video/x-flv", False),
        ("audio/mpeg", False),
    ],
)
def test_supports_the_formats_pillow_and_ffmpeg_read(mime: str, supported: bool) -> None:
    assert supports(mime) is supported


def test_unsupported_type_is_a_problem_not_an_error() -> None:
    assert_unread(read_visible_labels(b"%!PS-Adobe-3.0 EPSF", "application/postscript"), "unsupported")


def test_decompression_bomb_is_refused_from_its_header() -> None:
    bomb = with_ihdr_size(png(), 60_000, 60_000)
    assert_unread(read_visible_labels(bomb, "image/png"), "too_large")
    # Under Pillow's own limit (89 M pixels) ours refuses it, naming the size.
    assert_unread(
        read_visible_labels(with_ihdr_size(png(), 9_000, 6_000), "image/png"), "too_large: 9000x6000"
    )


def test_pixel_limit_applies_to_plain_images() -> None:
    reading = read_visible_labels(png(100, 100), "image/png", limits=PixelLimits(max_pixels=9_999))
    assert_unread(reading, "too_large")


def test_byte_limit_applies_before_decoding() -> None:
    assert_unread(read_visible_labels(png(), "image/png", limits=PixelLimits(max_bytes=100)), "too_large")


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (b"", "image/png"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "image/png"),
        (png()[:60], "image/png"),
        (b"\xff\xd8\xff\xe0" + b"garbage" * 20, "image/jpeg"),
        (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"GIF89a\xff\xff\xff\xff", "image/gif"),
        (png(), "image/jpeg"),  # a PNG sent as JPEG: only the named decoder may open it
    ],
    ids=["empty", "png-zeros", "png-truncated", "jpeg-garbage", "webp-stub", "gif-huge-screen", "mime-lie"],
)
def test_broken_image_is_undecodable(data: bytes, mime: str) -> None:
    reading = read_visible_labels(data, mime)
    assert reading.problem is not None and reading.problem.startswith(("undecodable", "too_large"))
    assert reading.labels == ()


@pytest.mark.parametrize("mime", ["video/mp4", "video/webm"])
def test_broken_video_is_undecodable(mime: str) -> None:
    assert_unread(read_visible_labels(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64, mime), "undecodable")


def test_video_probe_is_killed_at_the_timeout() -> None:
    data = scenes.video([], seconds=0.5, size=(64, 48))
    reading = read_visible_labels(data, "video/mp4", limits=PixelLimits(ffmpeg_timeout_s=0.001))
    assert_unread(reading, "timeout")


def test_video_frame_size_is_checked_before_decoding() -> None:
    data = scenes.video([], seconds=0.5, size=(320, 240))
    reading = read_visible_labels(data, "video/mp4", limits=PixelLimits(max_pixels=320 * 240 - 1))
    assert_unread(reading, "too_large: 320x240")


def test_damaged_bytes_never_raise() -> None:
    """Random byte flips in a real PNG and JPEG: every result is a reading, with a problem or not."""
    rng = random.Random(45438)
    sources = [(png(96, 64), "image/png"), (scenes.encode(scenes.gradient(96, 64), "JPEG"), "image/jpeg")]
    for data, mime in sources:
        for _ in range(6):
            damaged = bytearray(data)
            for _ in range(8):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            assert isinstance(read_visible_labels(bytes(damaged), mime), PixelReading)
