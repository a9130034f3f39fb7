"""Compares the prompt seen in an image's or video's pixels with the explicit label the event declares
(Labeling Measures Art. 4(3), 4(4); GB 45438-2025 5.2, 5.4).

It judges the best complete prompt :func:`~classifiers.labels.pixels.read.read_visible_labels` found:
its text height against 5 % of the shortest side, its place (an edge or corner of an image; the opening
of a video) and a video prompt's time on screen. A label the event neither declares nor shows is
``explicit.py``'s ``explicit_label_missing``, not a finding here. It must not read pixels or decide the
label status.
"""

from __future__ import annotations

from typing import Final

from classifiers.content import ContentEvent
from classifiers.labels.codes import finding
from classifiers.labels.findings import LabelFinding
from classifiers.labels.pixels.layout import OPENING_WINDOW_S
from classifiers.labels.pixels.reading import PixelReading, VisibleLabel
from classifiers.labels.service_types import CONTENT_RULES, MIN_SIZE_RATIO
from classifiers.labels.text_prompt import missing_elements

_FIELD = "explicit_label"
# The error of a text height measured from the pixels, as a share of the shortest side: -2 to +2 px on
# 480 px (tests/classifiers/labels/pixels, benchmarks/visible_labels.py), and over 0.4 points only on
# busy backgrounds at 3%, where the error is upward.
MEASURE_TOLERANCE: Final = 0.004


def check_visible_label(event: ContentEvent, reading: PixelReading) -> tuple[LabelFinding, ...]:
    """The findings of what the pixels show, for image and video events; none for other content."""
    if event.content_type not in ("image", "video"):
        return ()
    rule = CONTENT_RULES[event.content_type]
    if reading.problem is not None:
        return (
            finding(
                "explicit_label_unseen",
                f"the {event.content_type}'s pixels could not be read ({reading.problem}): a visible "
                "prompt is neither confirmed nor ruled out",
                article=f"GB 45438-2025 {rule.gb_clause}",
                evidence=reading.problem,
            ),
        )
    declared = event.explicit_label
    complete = [label for label in reading.labels if label.complete]
    if not complete:
        findings = []
        if declared is not None and declared.kind == "text":
            findings.append(
                finding(
                    "explicit_label_declared_not_visible",
                    f"a text label is declared ({declared.text or 'no text given'}), but OCR saw no text "
                    f"prompt with both elements on the {_where(reading)}",
                    article=rule.article,
                    field=_FIELD,
                    evidence=declared.text,
                )
            )
        if reading.labels:
            # GB 45438-2025 5.1: a prompt needs both the AI element and the generation element.
            partial = reading.labels[0]
            lacks = " and the ".join(missing_elements(partial.text))
            findings.append(
                finding(
                    "explicit_label_seen_incomplete",
                    f"the visible prompt {partial.text!r} lacks the {lacks}",
                    article=f"GB 45438-2025 5.1, {rule.gb_clause}",
                    field=_FIELD,
                    evidence=partial.text,
                )
            )
        return tuple(findings)
    return tuple(_seen_findings(event, reading, complete[0]))


def _seen_findings(event: ContentEvent, reading: PixelReading, label: VisibleLabel) -> list[LabelFinding]:
    rule = CONTENT_RULES[event.content_type]
    video = event.content_type == "video"
    size = f"{label.height_px} px of {label.shortest_side_px} px ({label.size_ratio:.1%})"
    shown = f"{label.text!r}, {size}, at {label.position}"
    if video:
        shown += f", from {label.first_seen_s or 0.0:g} s for {label.duration_s or 0.0:g} s"
    findings = [
        finding(
            "explicit_label_seen",
            f"visible prompt {shown} on the {_where(reading)}",
            article=rule.article,
            field=_FIELD,
            evidence=shown,
        )
    ]
    # GB 45438-2025 5.2, 5.4: text height at least 1/20 of the shortest side. A measured height is
    # within MEASURE_TOLERANCE of the shortest side of the drawn one (ocr.py), so a prompt is too small
    # only when it measures below 5% by more than that: the finding then stands whatever the error.
    if label.size_ratio + MEASURE_TOLERANCE < MIN_SIZE_RATIO:
        findings.append(
            finding(
                "explicit_label_seen_too_small",
                f"the visible prompt's text height is {size}, below {MIN_SIZE_RATIO:.0%}",
                article=f"GB 45438-2025 {rule.gb_clause}",
                field=f"{_FIELD}.size_ratio",
                evidence=size,
            )
        )
    if video:
        findings += _video_findings(reading, label, rule.min_duration_s or 0.0)
    elif not label.on_edge:
        # GB 45438-2025 5.2: on an edge or corner of the image (our 3x3 grid, layout.py).
        findings.append(
            finding(
                # The rule the declared position is held to, with its severity: one rule, one code.
                "explicit_label_not_on_edge",
                "the visible prompt sits in the centre of the image, not on an edge or corner",
                article="GB 45438-2025 5.2",
                field=f"{_FIELD}.position",
                evidence=label.position,
            )
        )
    if event.explicit_label is None:
        findings.append(
            finding(
                "explicit_label_seen_undeclared",
                f"a prompt is visible ({label.text!r}) but the event declares no explicit label",
                article=rule.article,
                field=_FIELD,
                evidence=label.text,
            )
        )
    return findings


def _video_findings(reading: PixelReading, label: VisibleLabel, min_duration_s: float) -> list[LabelFinding]:
    findings = []
    first_seen = label.first_seen_s or 0.0
    duration = label.duration_s or 0.0
    if first_seen >= OPENING_WINDOW_S:
        # Labeling Measures Art. 4(4), GB 45438-2025 5.4: the prompt is on the opening frame.
        findings.append(
            finding(
                "explicit_label_seen_wrong_place",
                f"the visible prompt first appears at {first_seen:g} s, not in the opening frames",
                article="Labeling Measures Art. 4(4); GB 45438-2025 5.4",
                field=f"{_FIELD}.position",
                evidence=f"{first_seen:g} s",
            )
        )
    # A video shorter than the minimum that shows the prompt throughout shows it as long as it can.
    whole_video = reading.seconds_read is not None and first_seen + duration >= reading.seconds_read
    if duration < min_duration_s and not (whole_video and (reading.seconds_read or 0.0) < min_duration_s):
        # GB 45438-2025 5.4: shown for at least 2 s.
        findings.append(
            finding(
                "explicit_label_seen_too_short",
                f"the visible prompt stays {duration:g} s on screen, below {min_duration_s:g} s",
                article="GB 45438-2025 5.4",
                field=f"{_FIELD}.duration_s",
                evidence=f"{duration:g} s",
            )
        )
    return findings


def _where(reading: PixelReading) -> str:
    if reading.seconds_read is None:
        return "image"
    return f"first {reading.seconds_read:g} s of the video ({reading.frames_read} frames)"
