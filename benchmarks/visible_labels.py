"""How well, and how fast, the pixel reader (``classifiers.labels.pixels.read_visible_labels``) finds the
explicit label a person sees (GB 45438-2025 ch. 5), on the seeded corpus of ``benchmarks/visible_corpus.py``.

    .venv/bin/python -m benchmarks.visible_labels [--full] [--seed N] [--keep DIR] [--category NAME ...]

The corpus (about 120 images and 12 videos; four and three times as many with ``--full``) is rendered into
a temporary directory, then each file is read once, in one process, after one warm-up read that loads the
OCR engine. Figures are printed per category and overall, and one JSON line is appended to
``benchmarks/visible_labels.jsonl``.

How a reading is scored:

* **Detection** of "a complete label is visible" (both GB 45438-2025 5.1 elements): the reader's labels
  with ``complete`` set are its detections. One of them is *true* only if its grid cell is the truth's and
  its ``size_ratio`` is within 1 percentage point of the truth's ink height over the shortest side. An
  item with a true detection is a TP; an item with complete detections but no true one is an FP (and,
  when it has a label, also an FN: found in the wrong place or at the wrong size); a labelled item with
  no true detection is an FN. ``found`` is the loose recall: any complete detection on a labelled item.
* **Position** and **ratio error** judge the reader's best complete label (the first), on labelled items
  where it found one. The ratio error is signed (reader minus truth, in percentage points).
* **Too small** (GB 45438-2025 5.2 a): text height under 5% of the shortest side; ``height_px * 20 <
  shortest_side_px``, as ``check.py`` decides): the reader's decision on its best label against the
  truth's, at the boundary (truth 3.8%-6.2%) and on every labelled image where the label was found in its
  cell.
* **Video**: duration error is the best label's ``duration_s`` minus the seconds the label is on screen
  within the seconds read; the GB 45438-2025 5.4 decision (on the opening frames, at least 2 s) is
  ``first_seen_s < 1`` and ``duration_s >= 2`` against the truth's window.
* **False positives on unrelated text**: photos with shop signs, dates and English words (some with one
  of the two elements, such as 人工智能大会) for which the reader reports a complete label.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.visible_corpus import (  # noqa: E402
    TOO_SMALL_RATIO,
    CorpusItem,
    build_corpus,
    cjk_font,
    describe,
    render,
    video_codec,
)
from classifiers.labels.pixels import PixelReading, VisibleLabel, read_visible_labels  # noqa: E402
from classifiers.labels.pixels.check import MEASURE_TOLERANCE  # noqa: E402
from classifiers.labels.service_types import MIN_SIZE_RATIO  # noqa: E402

RESULTS = Path(__file__).with_name("visible_labels.jsonl")
RATIO_TOLERANCE = 0.01  # ±1 percentage point
BOUNDARY = (0.038, 0.062)
OPENING_S = 1.0  # a label first seen before this is on the opening frames
MIN_SECONDS = 2.0  # GB 45438-2025 5.4


@dataclass(frozen=True)
class Outcome:
    """One item's reading, graded."""

    item: CorpusItem
    reading: PixelReading
    ms: float

    @property
    def detections(self) -> list[VisibleLabel]:
        return [label for label in self.reading.labels if label.complete]

    @property
    def best(self) -> VisibleLabel | None:
        return next(iter(self.detections), None)

    @property
    def true_positive(self) -> bool:
        truth = self.item.complete_label
        return truth is not None and any(
            label.position == truth.position and abs(label.size_ratio - truth.ratio) <= RATIO_TOLERANCE
            for label in self.detections
        )

    @property
    def false_positive(self) -> bool:
        return bool(self.detections) and not self.true_positive

    @property
    def false_negative(self) -> bool:
        return self.item.complete_label is not None and not self.true_positive

    def too_small_judged(self) -> tuple[bool, bool] | None:
        """(the reader says too small, the truth is too small), where the reader found the label in its
        cell."""
        truth, best = self.item.complete_label, self.best
        if truth is None or best is None or best.position != truth.position:
            return None
        # As check_visible_label decides it: under 5% by more than the measurement's tolerance.
        return best.size_ratio + MEASURE_TOLERANCE < MIN_SIZE_RATIO, truth.ratio < TOO_SMALL_RATIO


def read_all(items: Sequence[CorpusItem], directory: Path) -> tuple[list[Outcome], float, float]:
    """Renders and reads every item: the outcomes, the seconds spent rendering, and the warm-up read's
    seconds (the OCR engine's load)."""
    started = time.perf_counter()
    files = []
    for item in items:
        path = directory / f"{item.name}.{item.file_format}"
        path.write_bytes(render(item))
        files.append(path)
    render_s = time.perf_counter() - started
    warm = time.perf_counter()
    read_visible_labels(files[0].read_bytes(), items[0].mime_type)
    warm_s = time.perf_counter() - warm
    outcomes = []
    for n, (item, path) in enumerate(zip(items, files, strict=True)):
        data = path.read_bytes()
        started = time.perf_counter()
        reading = read_visible_labels(data, item.mime_type)
        outcomes.append(Outcome(item, reading, (time.perf_counter() - started) * 1000))
        if (n + 1) % 20 == 0:
            print(f"  read {n + 1}/{len(items)}", file=sys.stderr, flush=True)
    return outcomes, render_s, warm_s


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def score(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The detection, place, size and cost figures of a group of outcomes."""
    labelled = [o for o in outcomes if o.item.complete_label is not None]
    tp = sum(o.true_positive for o in outcomes)
    fp = sum(o.false_positive for o in outcomes)
    fn = sum(o.false_negative for o in outcomes)
    found = [(o.best, o.item.complete_label) for o in labelled if o.best and o.item.complete_label]
    errors = [(best.size_ratio - truth.ratio) * 100 for best, truth in found]
    placed = sum(best.position == truth.position for best, truth in found)
    sized = sum(abs(error) <= RATIO_TOLERANCE * 100 for error in errors)
    ms = [o.ms for o in outcomes]
    return {
        "items": len(outcomes),
        "labelled": len(labelled),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": _ratio(tp, tp + fp),
        "recall": _ratio(tp, len(labelled)),
        "found": _ratio(len(found), len(labelled)),
        "position_accuracy": _ratio(placed, len(found)),
        "size_within_1pp": _ratio(sized, len(found)),
        "ratio_error_pp_mean_abs": statistics.fmean(abs(e) for e in errors) if errors else None,
        "ratio_error_pp_mean": statistics.fmean(errors) if errors else None,
        "ratio_error_pp_max_abs": max((abs(e) for e in errors), default=None),
        "problems": sum(o.reading.problem is not None for o in outcomes),
        "ms_median": statistics.median(ms) if ms else None,
        "ms_p90": _percentile(ms, 0.9) if ms else None,
        "ms_mean": statistics.fmean(ms) if ms else None,
    }


def by_text(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The signed ratio error (reader minus truth, percentage points) of found labels, per label text."""
    errors: dict[str, list[float]] = {}
    for o in outcomes:
        truth, best = o.item.complete_label, o.best
        if truth is not None and best is not None and best.position == truth.position:
            errors.setdefault(truth.text, []).append((best.size_ratio - truth.ratio) * 100)
    return {
        text: {
            "found": len(values),
            "mean_pp": round(statistics.fmean(values), 2),
            "min_pp": round(min(values), 2),
            "max_pp": round(max(values), 2),
        }
        for text, values in sorted(errors.items())
    }


def found_by(outcomes: Sequence[Outcome]) -> dict[str, dict[str, str]]:
    """Loose recall (any complete label found) of labelled items per label style and per background."""
    figures: dict[str, dict[str, str]] = {"style": {}, "background": {}}
    for o in outcomes:
        if o.item.complete_label is None:
            continue
        for axis, key in (("style", o.item.complete_label.style), ("background", o.item.background)):
            found, total = map(int, figures[axis].get(key, "0/0").split("/"))
            figures[axis][key] = f"{found + (o.best is not None)}/{total + 1}"
    return figures


def too_small(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """The too-small decision, at the boundary and over every labelled image found in its cell."""
    figures: dict[str, Any] = {}
    images = [o for o in outcomes if o.item.kind == "image" and o.item.complete_label is not None]
    for name, group in (
        ("boundary", [o for o in images if BOUNDARY[0] <= _truth_ratio(o) <= BOUNDARY[1]]),
        ("all_labelled_images", images),
    ):
        judged = [(o, j) for o in group if (j := o.too_small_judged()) is not None]
        under = [said for _, (said, truth) in judged if truth]
        over = [said for _, (said, truth) in judged if not truth]
        figures[name] = {
            "items": len(group),
            "judged": len(judged),
            "accuracy": _ratio(sum(said == truth for _, (said, truth) in judged), len(judged)),
            "under_5_called_too_small": f"{sum(under)}/{len(under)}",
            "over_5_called_large_enough": f"{len(over) - sum(over)}/{len(over)}",
        }
    return figures


def _truth_ratio(outcome: Outcome) -> float:
    return outcome.item.complete_label.ratio if outcome.item.complete_label else 0.0


def video_figures(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Duration and first-seen errors, and the GB 45438-2025 5.4 decision, per video category."""
    figures: dict[str, Any] = {}
    videos = [o for o in outcomes if o.item.kind == "video"]
    for category in [*dict.fromkeys(o.item.category for o in videos), "all videos"]:
        group = [o for o in videos if category in (o.item.category, "all videos")]
        duration_errors, start_errors, decisions = [], [], []
        for o in group:
            label, best = o.item.complete_label, o.best
            seconds = o.item.label_seconds(o.reading.seconds_read or 6.0)
            truth_ok = label is not None and label.start_s == 0 and seconds >= MIN_SECONDS
            said_ok = (
                best is not None
                and best.first_seen_s is not None
                and best.first_seen_s < OPENING_S
                and (best.duration_s or 0.0) >= MIN_SECONDS
            )
            decisions.append(said_ok == truth_ok)
            if label is None or best is None or label.start_s is None:
                continue
            duration_errors.append((best.duration_s or 0.0) - seconds)
            start_errors.append((best.first_seen_s or 0.0) - label.start_s)
        figures[category] = {
            "videos": len(group),
            "found": sum(o.best is not None for o in group),
            "duration_error_s_mean_abs": _mean([abs(e) for e in duration_errors]),
            "duration_error_s_mean": _mean(duration_errors),
            "first_seen_error_s_mean_abs": _mean([abs(e) for e in start_errors]),
            "opening_2s_decision_accuracy": _ratio(sum(decisions), len(decisions)),
        }
    return figures


def unrelated(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """False positives on items that show no label: unrelated text, blank pictures, incomplete labels."""
    figures: dict[str, Any] = {}
    for category in ("unrelated_text", "video_unrelated", "blank", "video_blank", "incomplete"):
        group = [o for o in outcomes if o.item.category == category]
        if group:
            figures[category] = {
                "items": len(group),
                "complete_label_reported": sum(bool(o.detections) for o in group),
                "any_label_like_line": sum(bool(o.reading.labels) for o in group),
                "texts_called_complete": sorted({label.text for o in group for label in o.detections}),
            }
    return figures


def _f(value: float | None, form: str = ".2f") -> str:
    return "-" if value is None else format(value, form)


def print_report(outcomes: Sequence[Outcome], categories: dict[str, dict[str, Any]]) -> None:
    print(
        "| category | items | labelled | TP | FP | FN | precision | recall | found | position | size ±1 pp | "
        "ratio err pp (abs / signed) | ms median | ms p90 |\n|---|" + "---:|" * 13
    )
    for name, s in categories.items():
        print(
            f"| {name} | {s['items']} | {s['labelled']} | {s['tp']} | {s['fp']} | {s['fn']} | "
            f"{_f(s['precision'])} | {_f(s['recall'])} | {_f(s['found'])} | {_f(s['position_accuracy'])} | "
            f"{_f(s['size_within_1pp'])} | "
            f"{_f(s['ratio_error_pp_mean_abs'])} / {_f(s['ratio_error_pp_mean'], '+.2f')} | "
            f"{_f(s['ms_median'], '.0f')} | {_f(s['ms_p90'], '.0f')} |"
        )


def misses(outcomes: Sequence[Outcome], limit: int = 25) -> list[str]:
    """One line per wrong item (FP or FN), for reading by eye."""
    lines = []
    for o in outcomes:
        if not (o.false_positive or o.false_negative):
            continue
        truth = o.item.complete_label
        said = o.best
        expected = f"{truth.text} {truth.position} {truth.ratio:.1%}" if truth else "no complete label"
        got = f"{said.text} {said.position} {said.size_ratio:.1%}" if said else "nothing"
        if o.reading.problem:
            got += f" (problem: {o.reading.problem})"
        lines.append(f"  {o.item.name} [{o.item.background}, {o.item.label.style if o.item.label else '-'}]: "
                     f"truth {expected}; read {got}")  # fmt: skip
    return lines[:limit] + ([f"  ... and {len(lines) - limit} more"] if len(lines) > limit else [])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the larger corpus (about 4x the images)")
    parser.add_argument("--seed", type=int, default=20251201)
    parser.add_argument("--keep", type=Path, help="render the corpus here and keep it (default: a temp dir)")
    parser.add_argument("--category", action="append", help="only these categories (repeatable)")
    parser.add_argument("--no-record", action="store_true", help="do not append to the results file")
    args = parser.parse_args(argv)
    items = build_corpus(args.seed, args.full)
    if args.category:
        items = [item for item in items if item.category in args.category]
    print(f"corpus: seed {args.seed}, {'full' if args.full else 'default'}, {len(items)} items, font "
          f"{cjk_font().name}, video {video_codec()[1]}\n{describe(items)}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as work:
        directory = args.keep or Path(work)
        directory.mkdir(parents=True, exist_ok=True)
        outcomes, render_s, warm_s = read_all(items, directory)
    categories = {category: score([o for o in outcomes if o.item.category == category])
                  for category in dict.fromkeys(item.category for item in items)}  # fmt: skip
    images = [o for o in outcomes if o.item.kind == "image"]
    videos = [o for o in outcomes if o.item.kind == "video"]
    for name, group in (("all images", images), ("all videos", videos), ("all", outcomes)):
        if group:
            categories[name] = score(group)
    small, video, negatives = too_small(outcomes), video_figures(outcomes), unrelated(outcomes)
    texts, found = by_text(outcomes), found_by(outcomes)
    print(f"\nrendered in {render_s:.1f} s; OCR engine load (warm-up read) {warm_s:.2f} s; "
          f"{os.cpu_count()} CPUs\n")  # fmt: skip
    print_report(outcomes, categories)
    print("\ntoo small (< 5% of the shortest side): the reader's decision on its best label found in place")
    for name, figures in small.items():
        print(f"  {name}: accuracy {_f(figures['accuracy'])} on {figures['judged']} of {figures['items']}; "
              f"under 5% called too small {figures['under_5_called_too_small']}, over 5% called large "
              f"enough {figures['over_5_called_large_enough']}")  # fmt: skip
    print(
        "\nlabels found (any complete label), by "
        + "; by ".join(
            f"{axis}: " + ", ".join(f"{key} {value}" for key, value in sorted(counts.items()))
            for axis, counts in found.items()
        )
    )
    print("\nratio error by label text (reader minus truth, pp; found in place):")
    for text, figures in texts.items():
        print(f"  {text}: {figures['found']} found, mean {figures['mean_pp']:+.2f}, "
              f"range {figures['min_pp']:+.2f} to {figures['max_pp']:+.2f}")  # fmt: skip
    if video:
        print("\nvideo (window truth vs best label):")
        for name, figures in video.items():
            signed = _f(figures["duration_error_s_mean"], "+.2f")
            print(f"  {name}: found {figures['found']}/{figures['videos']}, duration error "
                  f"{_f(figures['duration_error_s_mean_abs'])} s abs ({signed} signed), first seen error "
                  f"{_f(figures['first_seen_error_s_mean_abs'])} s, 5.4 decision (opening, >= 2 s) accuracy "
                  f"{_f(figures['opening_2s_decision_accuracy'])}")  # fmt: skip
    print("\nitems without a complete label:")
    for name, figures in negatives.items():
        print(f"  {name}: {figures['complete_label_reported']}/{figures['items']} with a complete label "
              f"reported (FP), {figures['any_label_like_line']} with any label-like line; called complete: "
              f"{figures['texts_called_complete'] or '-'}")  # fmt: skip
    for kind, group in (("image", images), ("video", videos)):
        if group:
            ms = [o.ms for o in group]
            print(f"cost per {kind}: median {statistics.median(ms):.0f} ms, mean {statistics.fmean(ms):.0f} "
                  f"ms, p90 {_percentile(ms, 0.9):.0f} ms, max {max(ms):.0f} ms")  # fmt: skip
    wrong = misses(outcomes)
    if wrong:
        print("\nwrong items (FP or FN):\n" + "\n".join(wrong))
    record = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs",
        "corpus": {
            "seed": args.seed,
            "full": args.full,
            "items": len(items),
            "images": len(images),
            "videos": len(videos),
            "categories": args.category or "all",
            "font": cjk_font().name,
        },
        "reader": {
            **{name: _version(name) for name in ("rapidocr_onnxruntime", "onnxruntime")},
            # The reader changes often: which version of its code these figures are for.
            "pixels_sha256": _source_hash(ROOT / "classifiers" / "labels" / "pixels"),
        },
        "render_s": round(render_s, 1),
        "ocr_load_s": round(warm_s, 2),
        "scores": {name: _rounded(figures) for name, figures in categories.items()},
        "too_small": small,
        "ratio_error_by_text": texts,
        "found_by": found,
        "video": {name: _rounded(figures) for name, figures in video.items()},
        "without_label": negatives,
    }
    if not args.no_record:
        with RESULTS.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        print(f"\nappended to {RESULTS.relative_to(ROOT)}")


def _rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {key: round(value, 3) if isinstance(value, float) else value for key, value in figures.items()}


def _source_hash(package: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
