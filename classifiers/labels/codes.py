"""The registry of every label-compliance finding code: its severity, the clause it rests on, its meaning.

Every :class:`~classifiers.labels.findings.LabelFinding` the label rules produce is built here by
:func:`finding`, which refuses an unregistered code, so a finding's code and severity always match this
registry. The policy layer validates policy files against :data:`FINDING_CODES`. This module only names
findings; it must not decide when they apply (the rule modules do) nor which action they lead to (the
policy does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, get_args

from classifiers.labels.findings import LabelFinding, Severity

# The decision reason category a finding belongs to (a subset of stream.core.vocab.ReasonCategory).
FindingCategory = Literal["label", "consent"]
# Which of the two labels a finding judges: the implicit one (file metadata, declared or read from the
# bytes, and the provenance beside it) or the explicit one (what a person sees or hears).
JudgedLabel = Literal["implicit", "explicit"]
JUDGED_LABELS: Final = get_args(JudgedLabel)

# The code prefixes of each label's findings; the other codes (consent, the propagator's own duty) count
# only towards the overall status.
_PREFIXES_OF: Final[Mapping[JudgedLabel, tuple[str, ...]]] = {
    "implicit": ("implicit_label_", "provider_code_", "file_label_", "provenance_", "c2pa_", "media_"),
    "explicit": ("explicit_label_",),
}


@dataclass(frozen=True, slots=True)
class FindingCode:
    """One registered finding: ``severity`` is fixed per code so policies can key on the code alone."""

    code: str
    severity: Severity
    article: str
    description: str
    category: FindingCategory = "label"
    # True when the finding says a fact needed to judge compliance is missing: with no violation it
    # makes the label status "inconclusive" rather than "compliant".
    undecided: bool = False

    @property
    def judges(self) -> JudgedLabel | None:
        """The label this finding judges; None for consent and the propagator's own duty."""
        for label, prefixes in _PREFIXES_OF.items():
            if self.code.startswith(prefixes):
                return label
        return None


_PROVISIONS_16 = "Deep Synthesis Provisions Art. 16; Labeling Measures Art. 5"
_ANNEX_E = "GB 45438-2025 Annex E"

_CODES: Final = (
    # Implicit label: the file-metadata label every generated content carries.
    FindingCode(
        "implicit_label_missing",
        "violation",
        f"{_PROVISIONS_16}; {_ANNEX_E}",
        "No implicit label (AIGC metadata) was declared for the content.",
    ),
    FindingCode(
        "implicit_label_wrapped",
        "info",
        f"{_ANNEX_E} b",
        'The implicit label was sent in the {"AIGC": {...}} wrapper; its inner fields were checked.',
    ),
    FindingCode(
        "implicit_label_missing_field",
        "violation",
        f"{_ANNEX_E} c, d, e",
        "A required implicit-label element (Label, ContentProducer, ProduceID) is absent or empty.",
    ),
    FindingCode(
        "implicit_label_invalid_value",
        "violation",
        f"{_ANNEX_E} b, c",
        'An implicit-label element is not a string, or Label is not "1", "2" or "3".',
    ),
    FindingCode(
        "implicit_label_nonstandard_type",
        "warning",
        f"{_ANNEX_E} c",
        "Label is the number 1, 2 or 3 instead of a string; accepted as that value.",
    ),
    FindingCode(
        "implicit_label_nonprintable_value",
        "warning",
        f"{_ANNEX_E} j",
        "An implicit-label value has characters outside GB 18030 single-byte printable "
        "0x21, 0x23-0x5B, 0x5D-0x7E.",
    ),
    FindingCode(
        "implicit_label_unknown_field",
        "warning",
        _ANNEX_E,
        "The implicit label has a key that is not one of the seven Annex E elements (often a misspelling).",
    ),
    FindingCode(
        "provider_code_malformed",
        "warning",
        f"TC260-PG-20252A; {_ANNEX_E} d",
        "ContentProducer is not a 27-character service provider code (bare names occur in practice).",
    ),
    FindingCode(
        "provider_code_not_generation",
        "warning",
        f"TC260-PG-20252A; {_ANNEX_E} d",
        "ContentProducer's service-type digit is not 1 (generation service).",
    ),
    FindingCode(
        "implicit_label_propagated",
        "info",
        f"{_ANNEX_E} g, h, Note 1",
        "The propagation elements differ from the production elements: an upstream platform relayed it.",
    ),
    FindingCode(
        "implicit_label_producer_mismatch",
        "warning",
        "Deep Synthesis Provisions Art. 18; Labeling Measures Art. 10",
        "The label's ContentProducer differs from the event's producer code: possibly a forged label.",
    ),
    FindingCode(
        "implicit_label_present",
        "info",
        f"{_PROVISIONS_16}; {_ANNEX_E}",
        "A valid implicit label was declared.",
    ),
    # Explicit label: the prompt people see or hear.
    FindingCode(
        "explicit_label_missing",
        "violation",
        "Deep Synthesis Provisions Art. 17 para 1; Labeling Measures Art. 4",
        "The service type requires an explicit label and none was declared or found.",
    ),
    FindingCode(
        "explicit_label_optional",
        "info",
        "Deep Synthesis Provisions Art. 17 para 2",
        "The service type needs no explicit label; its provider must only offer a labeling function.",
    ),
    FindingCode(
        "explicit_label_in_text",
        "info",
        "GB 45438-2025 5.1; Labeling Measures Art. 4(1)",
        "A text prompt with both the AI element and the generation element was found in the text.",
    ),
    FindingCode(
        "explicit_label_in_text_incomplete",
        "warning",
        "GB 45438-2025 5.1",
        "A label-like span in the text lacks the AI element or the generation element.",
    ),
    FindingCode(
        "explicit_label_present",
        "info",
        "Labeling Measures Art. 4; GB 45438-2025 ch. 5",
        "The declared explicit label passed every check that applies to it.",
    ),
    FindingCode(
        "explicit_label_wrong_kind",
        "violation",
        "Labeling Measures Art. 4; GB 45438-2025 ch. 5",
        "The declared explicit label's kind does not fit the content type.",
    ),
    FindingCode(
        "explicit_label_graphic_only",
        "warning",
        "GB 45438-2025 5.2, 5.4",
        "An image or video label is a graphic; the standard asks for a text prompt.",
    ),
    FindingCode(
        "explicit_label_incomplete",
        "violation",
        "GB 45438-2025 5.1, 5.2, 5.3, 5.4",
        "The declared label text lacks the AI element (人工智能/AI) or the generation element (生成/合成).",
    ),
    FindingCode(
        "explicit_label_too_small",
        "violation",
        "GB 45438-2025 5.2, 5.4",
        "The label text height is below 5 % of the shortest side of the image or frame.",
    ),
    FindingCode(
        "explicit_label_size_unknown",
        "warning",
        "GB 45438-2025 5.2, 5.4",
        "The label size cannot be computed (no size_ratio, or no text_height_px with media width/height).",
        undecided=True,
    ),
    FindingCode(
        "explicit_label_too_short",
        "violation",
        "GB 45438-2025 5.4",
        "The video label is shown for less than 2 s.",
    ),
    FindingCode(
        "explicit_label_duration_unknown",
        "warning",
        "GB 45438-2025 5.4",
        "The video label's display duration was not declared.",
        undecided=True,
    ),
    FindingCode(
        "explicit_label_wrong_position",
        "violation",
        "Labeling Measures Art. 4(4), 4(5)",
        "A video or virtual-scene label is declared somewhere other than the opening frame.",
    ),
    FindingCode(
        "explicit_label_position_unknown",
        "warning",
        "Labeling Measures Art. 4(4), 4(5)",
        "A video or virtual-scene label's position was not declared.",
        undecided=True,
    ),
    FindingCode(
        "explicit_label_not_on_edge",
        "warning",
        "GB 45438-2025 5.2",
        "An image label is declared, or seen in the pixels, somewhere other than an edge or corner of the "
        "image.",
    ),
    # Explicit label seen in the pixels: OCR of the image or of the video's opening seconds
    # (classifiers.labels.pixels), compared with what the event declares.
    FindingCode(
        "explicit_label_seen",
        "info",
        "GB 45438-2025 5.2, 5.4; Labeling Measures Art. 4(3), 4(4)",
        "A text prompt with both elements is visible on the image or video (text, size, place and, for "
        "video, time on screen as measured in the message).",
    ),
    FindingCode(
        "explicit_label_declared_not_visible",
        "violation",
        "Labeling Measures Art. 4(3), 4(4); GB 45438-2025 5.2, 5.4",
        "The event declares a text label, but no complete text prompt is visible on the image or in the "
        "video's opening seconds.",
    ),
    FindingCode(
        "explicit_label_seen_too_small",
        "violation",
        "GB 45438-2025 5.2, 5.4",
        "The visible prompt's text height is below 5 % of the shortest side of the image or frame.",
    ),
    FindingCode(
        "explicit_label_seen_wrong_place",
        "violation",
        "GB 45438-2025 5.2, 5.4; Labeling Measures Art. 4(3), 4(4)",
        "The visible video prompt appears only after the opening frames (on an image, a prompt off the "
        "edges is explicit_label_not_on_edge).",
    ),
    FindingCode(
        "explicit_label_seen_too_short",
        "violation",
        "GB 45438-2025 5.4",
        "The visible video prompt stays on screen for less than 2 s.",
    ),
    FindingCode(
        "explicit_label_seen_incomplete",
        "violation",
        "GB 45438-2025 5.1, 5.2, 5.4",
        "A visible label-like prompt has only the AI element or only the generation element.",
    ),
    FindingCode(
        "explicit_label_seen_undeclared",
        "warning",
        "Labeling Measures Art. 4(3), 4(4)",
        "A complete text prompt is visible, but the event declares no explicit label.",
    ),
    FindingCode(
        "explicit_label_unseen",
        "warning",
        "GB 45438-2025 5.2, 5.4",
        "The pixels could not be read (undecodable, over a limit, timed out, OCR failed): whether a prompt "
        "is visible is unknown.",
        undecided=True,
    ),
    # Consent of the person whose face or voice was edited.
    FindingCode(
        "biometric_edit_without_consent",
        "violation",
        "Deep Synthesis Provisions Art. 14",
        "A depicted person whose face or voice was edited has not given separate consent.",
        category="consent",
    ),
    FindingCode(
        "biometric_consent_unknown",
        "warning",
        "Deep Synthesis Provisions Art. 14",
        "Face or voice editing of a person, and the person's separate consent is not recorded.",
        category="consent",
    ),
    FindingCode(
        "biometric_consent_recorded",
        "info",
        "Deep Synthesis Provisions Art. 14",
        "Every depicted person's separate consent to the face or voice editing is recorded.",
        category="consent",
    ),
    # The label read from the content's own bytes (file metadata, C2PA, IPTC), not from the event.
    FindingCode(
        "file_label_present",
        "info",
        f"{_ANNEX_E}; GB 45438-2025 6.1",
        "The file's metadata carries an implicit label (location and form in the message).",
    ),
    FindingCode(
        "file_label_missing",
        "violation",
        f"{_PROVISIONS_16}; GB 45438-2025 6.1",
        "The content's bytes were readable but carry no implicit label (AIGC metadata).",
    ),
    FindingCode(
        "file_label_unparseable",
        "violation",
        f"{_ANNEX_E} b",
        "An AIGC metadata field was found but its value is not a JSON object.",
    ),
    FindingCode(
        "file_label_duplicate",
        "violation",
        "GB 45438-2025 6.1 c",
        "The file carries more than one implicit label; the standard allows one.",
    ),
    FindingCode(
        "file_label_nonstandard_form",
        "warning",
        "GB 45438-2025 Annex E; TC260-PG-20257A/8A/9A/10A",
        "The label was read from a form or place the practice guides do not name (HTML-escaped JSON, "
        "an XMP attribute, EXIF ImageDescription, after the media data, ...); accepted as found.",
    ),
    FindingCode(
        "file_label_mismatch",
        "violation",
        "Deep Synthesis Provisions Art. 18; Labeling Measures Art. 10",
        "The label in the file differs from the label the event declares (Label, ContentProducer or "
        "ProduceID): one of them was altered.",
    ),
    FindingCode(
        "file_label_altered",
        "violation",
        "Deep Synthesis Provisions Art. 18; Labeling Measures Art. 10",
        "An earlier revision kept inside the file (a PDF incremental update) carried another label, or "
        "one that was later removed: the label was changed after it was written.",
    ),
    FindingCode(
        "file_label_signature_verified",
        "info",
        "TC260-PG-202511A",
        "The label's SM3withSM2 signature verifies with the key configured for its producer.",
    ),
    FindingCode(
        "file_label_signature_unverified",
        "info",
        "TC260-PG-202511A",
        "The label carries a SecurityData signature that was not verified (no key configured for the "
        "producer, or an algorithm other than SM3withSM2).",
    ),
    FindingCode(
        "file_label_signature_invalid",
        "violation",
        "TC260-PG-202511A; Deep Synthesis Provisions Art. 18",
        "The label's signature does not verify with the producer's configured key, or its SecurityData "
        "is malformed: the label was altered or forged.",
    ),
    FindingCode(
        "provenance_ai_claim",
        "info",
        "C2PA 2.x actions; IPTC Digital Source Type",
        "C2PA or IPTC metadata says the content was made by generative AI (trainedAlgorithmicMedia, "
        "compositeWithTrainedAlgorithmicMedia or compositeSynthetic).",
    ),
    FindingCode(
        "provenance_ai_without_implicit_label",
        "violation",
        f"{_PROVISIONS_16}; GB 45438-2025 6.1",
        "C2PA or IPTC metadata says the content is AI-generated, but it carries no GB 45438 implicit label.",
    ),
    FindingCode(
        "c2pa_manifest_invalid",
        "warning",
        "C2PA 2.x validation; Deep Synthesis Provisions Art. 18",
        "The C2PA manifest does not validate (hash mismatch, bad signature): content or provenance were "
        "changed after signing.",
    ),
    FindingCode(
        "media_unreadable",
        "warning",
        "GB 45438-2025 6.1",
        "The content's bytes could not be read completely (unsupported format, truncated, corrupt or over "
        "a safety limit); a label in the unread part cannot be ruled out.",
        undecided=True,
    ),
    # Propagation elements the platform writes as distributor.
    FindingCode(
        "propagator_code_unconfigured",
        "warning",
        f"Labeling Measures Art. 6 last paragraph; {_ANNEX_E} g",
        "The platform's own provider code is not configured; ContentPropagator is written empty.",
    ),
)

FINDING_CODES: Final[Mapping[str, FindingCode]] = MappingProxyType({c.code: c for c in _CODES})


def finding(
    code: str,
    message: str,
    *,
    article: str | None = None,
    field: str | None = None,
    evidence: str | None = None,
) -> LabelFinding:
    """Builds a finding of a registered code; ``article`` narrows the registry's clause when given.

    Raises KeyError for an unregistered code: that is a bug in a rule module and must fail a test.
    """
    spec = FINDING_CODES[code]
    return LabelFinding(
        code=spec.code,
        severity=spec.severity,
        article=article or spec.article,
        message=message,
        field=field,
        evidence=evidence,
    )
