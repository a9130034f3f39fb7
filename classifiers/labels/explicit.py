"""Checks the explicit label: the one the producer declared, and a text prompt found in the event's text.

Whether a label is required comes from the rule table (``service_types.py``); what a label must look
like per content type comes from the same table; finding a prompt in text is ``text_prompt.py``'s job.
This module applies them to one event. It must not read labels from media bytes or pixels (it trusts
the declared geometry), nor decide the notice or the label status.
"""

from __future__ import annotations

from dataclasses import dataclass

from classifiers.content import ContentEvent, ExplicitLabel, Media
from classifiers.labels.codes import finding
from classifiers.labels.findings import LabelFinding
from classifiers.labels.service_types import (
    CONTENT_RULES,
    MIN_SIZE_DIVISOR,
    MIN_SIZE_RATIO,
    SERVICE_RULES,
    ContentLabelRule,
    requirement_article,
)
from classifiers.labels.text_prompt import TextLabelSpan, find_text_label, missing_elements


@dataclass(frozen=True, slots=True)
class ExplicitLabelCheck:
    """The explicit-label findings of one event and what they rest on."""

    findings: tuple[LabelFinding, ...]
    declared: bool
    # A label-like span in event.text (the content for text, else its caption), complete or not.
    text_label: TextLabelSpan | None

    @property
    def found(self) -> bool:
        """An explicit label, or a label-like trace of one, was declared or found."""
        return self.declared or self.text_label is not None


def check_explicit_label(event: ContentEvent) -> ExplicitLabelCheck:
    """Applies Deep Synthesis Provisions Art. 17, Labeling Measures Art. 4 and GB 45438-2025 ch. 5."""
    rule = CONTENT_RULES[event.content_type]
    text_label = find_text_label(event.text) if event.text else None
    findings = _text_label_findings(event, text_label, rule)
    if event.explicit_label is not None:
        findings += _declared_label_findings(event.explicit_label, event.media, rule)
    findings += _requirement_findings(event, text_label)
    return ExplicitLabelCheck(
        findings=tuple(findings), declared=event.explicit_label is not None, text_label=text_label
    )


def _text_label_findings(
    event: ContentEvent, span: TextLabelSpan | None, rule: ContentLabelRule
) -> list[LabelFinding]:
    if span is None:
        return []
    if not span.complete:
        # GB 45438-2025 5.1: a prompt needs both the AI element and the generation element.
        return [
            finding(
                "explicit_label_in_text_incomplete",
                f"label-like span at the {span.position} of the text lacks the "
                + " and the ".join(missing_elements(span.text)),
                field="text",
                evidence=span.text,
            )
        ]
    if event.content_type == "text":
        message = f"text prompt found at the {span.position} of the text"
    else:
        # Labeling Measures Art. 4(2)-(5): a caption does not label the media itself.
        message = (
            f"text prompt found at the {span.position} of the caption; it does not replace the label on "
            f"the {event.content_type} itself ({rule.article})"
        )
    return [finding("explicit_label_in_text", message, field="text", evidence=span.text)]


def _declared_label_findings(
    label: ExplicitLabel, media: Media | None, rule: ContentLabelRule
) -> list[LabelFinding]:
    if label.kind not in rule.accepted_kinds:
        # Labeling Measures Art. 4(1)-(5): the label must reach people the way the content does.
        kinds = ", ".join(sorted(rule.accepted_kinds))
        return [
            finding(
                "explicit_label_wrong_kind",
                f"a {label.kind} label does not fit {rule.content_type} content (expected {kinds})",
                article=rule.article,
                field="explicit_label.kind",
                evidence=label.kind,
            )
        ]
    findings = _kind_findings(label, rule)
    findings += _text_findings(label, rule)
    findings += _position_findings(label, rule)
    if rule.checks_size and label.kind in ("text", "graphic"):
        findings += _size_findings(label, media, rule)
    if rule.min_duration_s is not None:
        findings += _duration_findings(label, rule.min_duration_s)
    if not any(f.severity == "violation" for f in findings):
        findings.append(
            finding(
                "explicit_label_present",
                f"declared {label.kind} label at {label.position or 'an undeclared position'}",
                evidence=label.text,
            )
        )
    return findings


def _kind_findings(label: ExplicitLabel, rule: ContentLabelRule) -> list[LabelFinding]:
    if rule.text_prompt_expected and label.kind == "graphic":
        # GB 45438-2025 5.2, 5.4: the prompt on an image or video is text.
        return [
            finding(
                "explicit_label_graphic_only",
                f"the {rule.content_type} label is a graphic; GB 45438-2025 {rule.gb_clause} asks for text",
                article=f"GB 45438-2025 {rule.gb_clause}",
                field="explicit_label.kind",
            )
        ]
    return []


def _text_findings(label: ExplicitLabel, rule: ContentLabelRule) -> list[LabelFinding]:
    if label.text is None or label.kind == "rhythm":
        return []  # GB 45438-2025 5.3: a rhythm label ("短长短短") has no words to check
    missing = missing_elements(label.text)
    if not missing:
        return []
    # GB 45438-2025 5.1-5.4: every text or voice prompt contains both elements.
    return [
        finding(
            "explicit_label_incomplete",
            "the declared label text lacks the " + " and the ".join(missing),
            article=f"GB 45438-2025 {rule.gb_clause or '5.1'}",
            field="explicit_label.text",
            evidence=label.text,
        )
    ]


def _position_findings(label: ExplicitLabel, rule: ContentLabelRule) -> list[LabelFinding]:
    if rule.required_positions is not None:
        # Labeling Measures Art. 4(4), 4(5): video and virtual scenes are labeled on the opening frame.
        # The event declares one position, so a label declared elsewhere is not on the opening frame.
        article = f"Labeling Measures Art. 4({rule.measures_item})"
        if label.position is None:
            return [
                finding(
                    "explicit_label_position_unknown",
                    f"the {rule.content_type} label's position was not declared",
                    article=article,
                    field="explicit_label.position",
                )
            ]
        if label.position not in rule.required_positions:
            return [
                finding(
                    "explicit_label_wrong_position",
                    f"the {rule.content_type} label is at {label.position}, not on the opening frame",
                    article=article,
                    field="explicit_label.position",
                    evidence=label.position,
                )
            ]
    edges = rule.edge_positions
    if edges is not None and label.position is not None and label.position not in edges:
        # GB 45438-2025 5.2: on an edge or corner of the image (bottom-right is only an example).
        return [
            finding(
                "explicit_label_not_on_edge",
                f"the image label is at {label.position}, not on an edge or corner",
                field="explicit_label.position",
                evidence=label.position,
            )
        ]
    return []


def _size_findings(label: ExplicitLabel, media: Media | None, rule: ContentLabelRule) -> list[LabelFinding]:
    article = f"GB 45438-2025 {rule.gb_clause}"
    too_small: bool
    if label.size_ratio is not None:
        too_small = label.size_ratio < MIN_SIZE_RATIO
        shown = f"{label.size_ratio:.2%}"
    elif label.text_height_px is not None and media is not None and media.width and media.height:
        shortest = min(media.width, media.height)
        # Integer comparison: height / shortest < 1/20 exactly, no float rounding at the boundary.
        too_small = label.text_height_px * MIN_SIZE_DIVISOR < shortest
        shown = f"{label.text_height_px} px of {shortest} px ({label.text_height_px / shortest:.2%})"
    else:
        return [
            finding(
                "explicit_label_size_unknown",
                "no size_ratio, and no text_height_px with media width and height: "
                "the 5 % rule cannot be checked",
                article=article,
                field="explicit_label.size_ratio",
            )
        ]
    if not too_small:
        return []
    # GB 45438-2025 5.2, 5.4: text height at least 5 % of the shortest side of the image or frame.
    return [
        finding(
            "explicit_label_too_small",
            f"label text height is {shown} of the shortest side, below {MIN_SIZE_RATIO:.0%}",
            article=article,
            field="explicit_label.size_ratio",
            evidence=shown,
        )
    ]


def _duration_findings(label: ExplicitLabel, min_duration_s: float) -> list[LabelFinding]:
    if label.duration_s is None:
        return [
            finding(
                "explicit_label_duration_unknown",
                f"the video label's display duration was not declared (at least {min_duration_s:g} s needed)",
                field="explicit_label.duration_s",
            )
        ]
    if label.duration_s >= min_duration_s:
        return []
    # GB 45438-2025 5.4: shown at least 2 s at normal playback speed.
    return [
        finding(
            "explicit_label_too_short",
            f"the video label is shown {label.duration_s:g} s, below {min_duration_s:g} s",
            field="explicit_label.duration_s",
            evidence=f"{label.duration_s:g} s",
        )
    ]


def _requirement_findings(event: ContentEvent, span: TextLabelSpan | None) -> list[LabelFinding]:
    article = requirement_article(event.service_type, event.content_type)
    service = SERVICE_RULES[event.service_type]
    has_label = event.explicit_label is not None or span is not None
    if service.art17_item is None:
        if has_label:
            return []
        # Deep Synthesis Provisions Art. 17 para 2: the provider only offers a labeling function.
        return [
            finding(
                "explicit_label_optional",
                f"{service.summary}: no explicit label required; the provider must offer a labeling function",
                article=article,
            )
        ]
    if event.explicit_label is not None:
        return []
    # Labeling Measures Art. 4(1): for text, a complete prompt in the text itself is the label.
    if event.content_type == "text" and span is not None and span.complete:
        return []
    if span is not None and not span.complete:
        why = "only an incomplete label-like span was found in the text"
    elif span is not None:
        why = f"only the caption carries a text prompt; the {event.content_type} itself is not labeled"
    else:
        why = "none was declared or found"
    # Deep Synthesis Provisions Art. 17 para 1 item (N); Labeling Measures Art. 4(N).
    return [
        finding(
            "explicit_label_missing",
            f"{service.summary} (Art. 17 para 1 item ({service.art17_item})) needs an explicit label: {why}",
            article=article,
            field="explicit_label",
        )
    ]
