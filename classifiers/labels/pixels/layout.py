"""Turns OCR lines into visible labels: which lines carry a prompt, which adjacent lines form one, where on
the picture it sits, and (video) how long it stays.

Our choices, not the standard's (GB 45438-2025 5.2 asks for an edge or corner of the image and 5.4 for
the opening frame and at least 2 s, and names no grid or tolerance):

* **Position.** The picture is cut into a 3x3 grid of equal thirds; the cell holding the centre of the
  label's box is its position, and every cell but the middle one is on an edge or a corner. Thirds keep a
  long bottom line ("由人工智能生成" centred under a picture) on the bottom edge, and a label floating
  over the subject in the middle.
* **Which lines.** A line counts when the lexical rules of ``text_prompt.py`` find a label-like span in
  it: both elements, or one with a provenance cue ("由AI…") or brackets. A sign in a photo reading
  "人工智能大会" is not a label.
* **Merging.** Only when needed: a line with one element is joined to an adjacent line carrying the
  other ("由人工智能" over "生成"), when the two are of about the same height (at most
  :data:`SAME_HEIGHT` apart) and stand on one row or one above the other at most one line height apart.
  Two lines that each read complete stay two labels.
* **Time (video).** A label in one sampled frame is the same label in the next when their boxes overlap
  (intersection over union at least :data:`SAME_PLACE_IOU`). One missed sample inside a run is bridged:
  the OCR misses a frame now and then. A run of n samples counts as n / fps seconds on screen, so a
  measured duration can exceed the true one by less than one sample interval, in the producer's favour.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

from classifiers.labels.pixels.ocr import OcrLine
from classifiers.labels.pixels.reading import GridPosition, VisibleLabel
from classifiers.labels.text_prompt import (
    find_text_label,
    has_ai_element,
    has_generation_element,
    missing_elements,
)

SAME_HEIGHT: Final = 1.3  # larger / smaller line height of two lines that may form one prompt
SAME_PLACE_IOU: Final = 0.5
BRIDGED_SAMPLES: Final = 1
# GB 45438-2025 5.4, Labeling Measures Art. 4(4): a label first seen this late is not on the opening
# frame. The first second: a fade-in of a few frames still counts as the opening.
OPENING_WINDOW_S: Final = 1.0

_GRID: Final[tuple[tuple[GridPosition, ...], ...]] = (
    ("top_left", "top", "top_right"),
    ("left", "center", "right"),
    ("bottom_left", "bottom", "bottom_right"),
)

Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Sighting:
    """A label-like line (or merged pair) on one frame."""

    text: str
    complete: bool
    box: Box
    height: float


def grid_position(box: Box, width: int, height: int) -> GridPosition:
    """The 3x3 cell of the picture holding the box's centre."""
    centre_x, centre_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    column = min(2, max(0, int(3 * centre_x / width)))
    row = min(2, max(0, int(3 * centre_y / height)))
    return _GRID[row][column]


def find_sightings(lines: Sequence[OcrLine]) -> list[Sighting]:
    """The label-like lines of one frame, adjacent halves of one prompt merged."""
    ordered = sorted(lines, key=lambda line: (line.seen.box[1], line.seen.box[0]))
    elements = [_elements(line.seen.text) for line in ordered]
    used: set[int] = set()
    sightings = []
    for i, line in enumerate(ordered):
        if i in used or elements[i] == (False, False):
            continue
        group = [line]
        if elements[i] != (True, True):
            partner = _partner(i, ordered, elements, used)
            if partner is not None:
                used.add(partner)
                group = sorted((line, ordered[partner]), key=_reading_order(line, ordered[partner]))
        used.add(i)
        text = _join(line.seen.text for line in group)
        if find_text_label(text) is None:
            continue
        boxes = [line.seen.box for line in group]
        box = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        # A merged prompt is as legible as its smaller line.
        height = min(line.height for line in group)
        sightings.append(Sighting(text, not missing_elements(text), box, height))
    return sightings


def _elements(text: str) -> tuple[bool, bool]:
    return has_ai_element(text), has_generation_element(text)


def _partner(
    i: int, lines: Sequence[OcrLine], elements: Sequence[tuple[bool, bool]], used: set[int]
) -> int | None:
    """The nearest adjacent line that carries the element line ``i`` lacks."""
    ai, generation = elements[i]
    best: tuple[float, int] | None = None
    for j, other in enumerate(lines):
        if j == i or j in used:
            continue
        other_ai, other_generation = elements[j]
        if not ((ai or other_ai) and (generation or other_generation)):
            continue
        gap = _adjacent_gap(lines[i], other)
        if gap is not None and (best is None or gap < best[0]):
            best = (gap, j)
    return None if best is None else best[1]


def _adjacent_gap(a: OcrLine, b: OcrLine) -> float | None:
    """The gap between two lines of about one height on one row or stacked; None when not adjacent."""
    small, large = sorted((a.height, b.height))
    if small <= 0 or large > SAME_HEIGHT * small:
        return None
    ax0, ay0, ax1, ay1 = a.seen.box
    bx0, by0, bx1, by1 = b.seen.box
    vertical_overlap = min(ay1, by1) - max(ay0, by0)
    horizontal_overlap = min(ax1, bx1) - max(ax0, bx0)
    if vertical_overlap >= small / 2:  # one row
        gap = max(bx0 - ax1, ax0 - bx1, 0)
    elif horizontal_overlap > 0:  # stacked
        gap = max(by0 - ay1, ay0 - by1, 0)
    else:
        return None
    return gap if gap <= small else None


def _reading_order(a: OcrLine, b: OcrLine) -> Callable[[OcrLine], int]:
    """Left to right on one row, else top to bottom."""
    one_row = (
        min(a.seen.box[3], b.seen.box[3]) - max(a.seen.box[1], b.seen.box[1]) >= min(a.height, b.height) / 2
    )
    return (lambda line: line.seen.box[0]) if one_row else (lambda line: line.seen.box[1])


def _join(texts: Iterable[str]) -> str:
    parts = [text.strip() for text in texts]
    joined = parts[0]
    for part in parts[1:]:
        # Chinese runs on without a space; two Latin words ("AI" / "generated") keep one.
        joined += " " + part if joined[-1:].isascii() and part[:1].isascii() else part
    return joined


def visible_label(sighting: Sighting, width: int, height: int) -> VisibleLabel:
    """The image label of one sighting."""
    position = grid_position(sighting.box, width, height)
    height_px = round(sighting.height)
    shortest = min(width, height)
    return VisibleLabel(
        text=sighting.text,
        complete=sighting.complete,
        height_px=height_px,
        shortest_side_px=shortest,
        size_ratio=height_px / shortest,
        position=position,
        on_edge=position != "center",
    )


def image_labels(sightings: Sequence[Sighting], width: int, height: int) -> tuple[VisibleLabel, ...]:
    """Best first: complete, then larger."""
    labels = [visible_label(s, width, height) for s in sightings]
    return tuple(sorted(labels, key=lambda label: (not label.complete, -label.height_px)))


def same_labels(a: Sequence[Sighting], b: Sequence[Sighting]) -> bool:
    """Two frames show the same labels in the same places (so the frame between them is not read)."""
    if len(a) != len(b):
        return False
    return all(any(s.complete == t.complete and _iou(s.box, t.box) >= SAME_PLACE_IOU for t in b) for s in a)


@dataclass(slots=True)
class _Track:
    sightings: list[tuple[int, Sighting]] = field(default_factory=list)

    @property
    def last(self) -> tuple[int, Sighting]:
        return self.sightings[-1]


def video_labels(
    per_frame: Sequence[Sequence[Sighting]], fps: float, width: int, height: int
) -> tuple[VisibleLabel, ...]:
    """One label per run of sightings across the sampled frames; best first: complete, then seen in the
    opening, then longer on screen, then larger."""
    tracks: list[_Track] = []
    for index, sightings in enumerate(per_frame):
        taken: set[int] = set()
        for sighting in sightings:
            best: tuple[float, int] | None = None
            for t, track in enumerate(tracks):
                last_index, last = track.last
                if t in taken or index - last_index > BRIDGED_SAMPLES + 1:
                    continue
                overlap = _iou(last.box, sighting.box)
                if overlap >= SAME_PLACE_IOU and (best is None or overlap > best[0]):
                    best = (overlap, t)
            if best is None:
                tracks.append(_Track([(index, sighting)]))
                taken.add(len(tracks) - 1)
            else:
                tracks[best[1]].sightings.append((index, sighting))
                taken.add(best[1])
    labels = [_track_label(track, fps, width, height) for track in tracks]
    return tuple(
        sorted(
            labels,
            key=lambda label: (
                not label.complete,
                (label.first_seen_s or 0.0) >= OPENING_WINDOW_S,
                -(label.duration_s or 0.0),
                -label.height_px,
            ),
        )
    )


def _track_label(track: _Track, fps: float, width: int, height: int) -> VisibleLabel:
    first_index, first = track.sightings[0]
    last_index = track.sightings[-1][0]
    complete = [s for _, s in track.sightings if s.complete]
    # OCR may drop a character in one frame; a prompt read complete in any frame is complete.
    texts = [s.text for s in complete] if complete else [s.text for _, s in track.sightings]
    shown = Sighting(
        text=statistics.mode(texts),
        complete=bool(complete),
        box=first.box,
        height=statistics.median(s.height for _, s in track.sightings),
    )
    return replace(
        visible_label(shown, width, height),
        first_seen_s=first_index / fps,
        duration_s=(last_index - first_index + 1) / fps,
    )


def _iou(a: Box, b: Box) -> float:
    inter_w = min(a[2], b[2]) - max(a[0], b[0])
    inter_h = min(a[3], b[3]) - max(a[1], b[1])
    if inter_w <= 0 or inter_h <= 0:
        return 0.0
    inter = inter_w * inter_h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union
