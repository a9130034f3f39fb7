"""The distributing platform's duties under Labeling Measures Art. 6: the notice and the propagation elements.

From what the label checks established, this module picks the prompt the platform shows around the
content (confirmed / possible / suspected / none, Art. 6(1)-(3)) and the seven GB 45438-2025 Annex E
elements the platform writes into the file metadata as propagator (Art. 6 last paragraph). It must not
re-check labels, and it does not write files: it returns the values for whoever does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from classifiers.content import AIGC_FIELDS, ContentEvent
from classifiers.labels.explicit import ExplicitLabelCheck
from classifiers.labels.findings import LabelFinding, Notice, NoticeLevel
from classifiers.labels.implicit import AigcAttribute, ImplicitLabelCheck

NOTICE_TEXTS: Final[Mapping[NoticeLevel, str | None]] = {
    "confirmed": "该内容由人工智能生成",
    "possible": "该内容可能由人工智能生成",
    "suspected": "该内容疑似由人工智能生成",
    "none": None,
}

# GB 45438-2025 Annex E c values and the Art. 6 case each stands for (labels.md §2.2: the natural mapping,
# not stated by a source).
_LEVEL_OF_ATTRIBUTE: Final[Mapping[AigcAttribute, NoticeLevel]] = {
    "1": "confirmed",
    "2": "possible",
    "3": "suspected",
}
_ATTRIBUTE_OF_LEVEL: Final[Mapping[NoticeLevel, AigcAttribute]] = {
    level: attribute for attribute, level in _LEVEL_OF_ATTRIBUTE.items()
}


def decide_notice(
    event: ContentEvent,
    implicit: ImplicitLabelCheck,
    explicit: ExplicitLabelCheck,
    *,
    unreliable: LabelFinding | None = None,
    ai_provenance: bool = False,
    seen_label: str | None = None,
) -> Notice:
    """Labeling Measures Art. 6(1)-(3), in that order of precedence.

    ``unreliable`` is the first finding that says the implicit label is there but malformed, duplicated,
    unreadable or altered; ``ai_provenance`` says C2PA / IPTC metadata claims generative AI and there is
    no GB 45438 label. Our reading, where the Measures are silent: Art. 6(1) rests on an implicit label
    that meets the standard (GB 45438-2025 Annex E, one per file, unaltered), so only such a label's Label
    sets the notice; a defective label and a foreign provenance claim are generation traces the platform
    found itself, Art. 6(3), whatever the event declares. ``seen_label`` is a complete prompt seen in the
    pixels: a trace like a declared explicit label.
    """
    if implicit.attribute is not None and unreliable is None:
        # Art. 6(1): the metadata marks the content; "2"/"3" carry an upstream platform's judgement on.
        level = _LEVEL_OF_ATTRIBUTE[implicit.attribute]
        basis = f"Labeling Measures Art. 6(1): implicit label Label={implicit.attribute} {implicit.evidence}"
        return Notice(level, NOTICE_TEXTS[level], basis)
    if unreliable is not None:
        basis = (
            "Labeling Measures Art. 6(3): the implicit label cannot be relied on "
            f"({unreliable.code}: {unreliable.message})"
        )
        return Notice("suspected", NOTICE_TEXTS["suspected"], basis[:400])
    if ai_provenance:
        basis = "Labeling Measures Art. 6(3): C2PA / IPTC metadata says generative AI; no GB 45438 label"
        return Notice("suspected", NOTICE_TEXTS["suspected"], basis)
    if event.declared_ai_generated is not False:
        # Art. 6(2): an event on the generated-content topic is its producer's declaration (absent = true).
        how = "declared_ai_generated=true" if event.declared_ai_generated else "declared_ai_generated absent"
        basis = f"Labeling Measures Art. 6(2): no readable implicit label; the producer declares it ({how})"
        return Notice("possible", NOTICE_TEXTS["possible"], basis)
    trace = _generation_trace(implicit, explicit, seen_label)
    if trace is not None:
        # Art. 6(3): no label, no declaration, but an explicit label or another generation trace.
        basis = f"Labeling Measures Art. 6(3): not declared; {trace}"
        return Notice("suspected", NOTICE_TEXTS["suspected"], basis)
    basis = "Labeling Measures Art. 6: no implicit label, no declaration, no explicit label or trace"
    return Notice("none", None, basis)


def _generation_trace(
    implicit: ImplicitLabelCheck, explicit: ExplicitLabelCheck, seen_label: str | None
) -> str | None:
    if explicit.declared:
        return "the producer declared an explicit label"
    if seen_label is not None:
        return f"a label was seen in the pixels: {seen_label}"
    if explicit.text_label is not None:
        return f"a label-like text prompt was found: {explicit.text_label.text}"
    if implicit.declared:
        return f"an implicit label without a readable Label was declared: {implicit.evidence}"
    return None


def propagator_metadata(
    event: ContentEvent, notice: Notice, implicit: ImplicitLabelCheck, platform_code: str
) -> dict[str, str] | None:
    """The seven Annex E elements the platform writes as propagator; None when there is no notice.

    Labeling Measures Art. 6 last paragraph: in cases (1)-(3) the platform writes content attribute,
    its own name or code and its content number into the file metadata.
    """
    if notice.level == "none":
        return None
    production = implicit.production_elements or {
        "ContentProducer": event.producer.provider_code or "",
        "ProduceID": "",
        "ReservedCode1": "",
    }
    metadata = {
        "Label": _ATTRIBUTE_OF_LEVEL[notice.level],
        "ContentProducer": production["ContentProducer"],
        "ProduceID": production["ProduceID"],
        "ReservedCode1": production["ReservedCode1"],
        "ContentPropagator": platform_code,
        "PropagateID": event.content_id,
        "ReservedCode2": "",
    }
    return {name: metadata[name] for name in AIGC_FIELDS}
