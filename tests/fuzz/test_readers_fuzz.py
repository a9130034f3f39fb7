"""Fuzz test of the metadata readers: mutated real files never make a reader raise, hang or balloon.

Each example takes a labelled seed file (``seeds.py``) and applies a few mutations that hostile or broken
files show: flipped bytes, huge values written over length fields, deleted or duplicated ranges, a
truncated end, random junk inserted. ``read_media`` must return an ``Extraction`` with no
``reader_error`` problem (a reader exception is a bug), within its limits, in bounded time.

The suite runs a short version (``HUIYAN_FUZZ_EXAMPLES``, 1,500 by default); ``make fuzz`` runs 100,000.
"""

from __future__ import annotations

import os
import struct
import time
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from classifiers.labels.media import read_media
from classifiers.labels.media.base import DEFAULT_LIMITS
from tests.fuzz.seeds import seed_files

EXAMPLES = int(os.environ.get("HUIYAN_FUZZ_EXAMPLES", "1500"))
SEEDS = seed_files()
NAMES = sorted(SEEDS)
# One file may take this long at most: far above any seed's read time (about a millisecond).
MAX_SECONDS = 2.0

_BIG = (0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFF, 0x10000, 0)
_mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 1 << 30), st.integers(1, 255)),
    st.tuples(st.just("big"), st.integers(0, 1 << 30), st.sampled_from(_BIG), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 1 << 30), st.integers(1, 64)),
    st.tuples(st.just("duplicate"), st.integers(0, 1 << 30), st.integers(1, 512), st.integers(1, 8)),
    st.tuples(st.just("truncate"), st.integers(0, 1 << 30)),
    st.tuples(st.just("insert"), st.integers(0, 1 << 30), st.binary(min_size=1, max_size=32)),
)


def mutate(data: bytes, mutations: list[Any]) -> bytes:
    buffer = bytearray(data)
    for mutation in mutations:
        if not buffer:
            break
        kind, at = mutation[0], mutation[1] % len(buffer)
        if kind == "flip":
            buffer[at] ^= mutation[2]
        elif kind == "big":
            packed = struct.pack(">I" if mutation[3] else "<I", mutation[2])
            buffer[at : at + 4] = packed
        elif kind == "delete":
            del buffer[at : at + mutation[2]]
        elif kind == "duplicate":
            piece = bytes(buffer[at : at + mutation[2]])
            buffer[at:at] = piece * mutation[3]
        elif kind == "truncate":
            del buffer[at:]
        else:
            buffer[at:at] = mutation[2]
    return bytes(buffer)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
@given(name=st.sampled_from(NAMES), mutations=st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_files_never_break_a_reader(name: str, mutations: list[Any]) -> None:
    mime, seed = SEEDS[name]
    data = mutate(seed, mutations)
    started = time.perf_counter()
    out = read_media(data, mime)
    elapsed = time.perf_counter() - started
    assert not [p for p in out.problems if p.code == "reader_error"], (name, out.problems)
    assert elapsed < MAX_SECONDS, (name, elapsed)
    assert len(out.labels) <= DEFAULT_LIMITS.max_labels
    assert all(len(label.raw) <= 2000 for label in out.labels)


def test_every_seed_is_read_with_its_label() -> None:
    """The seeds are valid labelled files, so mutations start from files the readers fully parse."""
    for name, (mime, data) in SEEDS.items():
        out = read_media(data, mime)
        assert out.labels and not out.problems, (name, out.labels, out.problems)
