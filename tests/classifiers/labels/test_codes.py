"""The finding-code registry: every finding the label rules produce is registered with its severity."""

from __future__ import annotations

import json
from typing import Any, get_args

import pytest

from classifiers.labels.codes import FINDING_CODES, finding
from classifiers.labels.compliance import check_event_labels
from classifiers.labels.findings import Severity
from classifiers.labels.pixels import PixelReading, VisibleLabel
from tests.fixtures import c2pa as c2pa_signing
from tests.fixtures.labels import (
    PRODUCER_CODE,
    build_event,
    media_fields,
    png_with_text,
    sm2_keypair,
    sm2_signed_label,
    valid_implicit_label,
)
from tests.fixtures.pdfs import update as pdf_update
from tests.fixtures.pdfs import write as pdf_write

_PRIVATE, _PUBLIC = sm2_keypair()
_OTHER_PRIVATE, _OTHER_PUBLIC = sm2_keypair()
SIGNING_KEYS = {PRODUCER_CODE: _PUBLIC}


def _aigc(label: dict[str, Any]) -> tuple[str, str]:
    return ("AIGC", json.dumps({"AIGC": label}))


def _c2pa_png(*, tampered: bool) -> bytes:
    credentials = c2pa_signing.make_credentials()
    action = c2pa_signing.created_action("trainedAlgorithmicMedia")
    signed = bytearray(
        c2pa_signing.sign(c2pa_signing.pillow_image("PNG"), "image/png", credentials, [action])
    )
    if tampered:
        signed[-40] ^= 0xFF
    return bytes(signed)


_UNLABELLED = png_with_text(("Comment", "海边的灯塔"))

# Events that between them reach every rule, so every code the rules can produce is produced here.
CORPUS: list[dict[str, Any]] = [
    {},
    {"text": "由AI创作的小诗"},
    {"text": "【AI生成】山间的小路", "implicit_label": valid_implicit_label()},
    {"implicit_label": {"AIGC": valid_implicit_label(Label=1, ContentProducer="doubao")}},
    {
        "implicit_label": valid_implicit_label(
            Label="4",
            ProduceID="",
            ReservedCode1=None,
            ContentPropagator="other",
            PropagateID="x y",
            Propagator="z",
        ),
        "producer": {"provider_code": "0011911100007DK3QW8A2Y1ZZZZ"},
    },
    {"implicit_label": valid_implicit_label(ContentProducer=PRODUCER_CODE[:22] + "2A7K2")},
    {"service_type": "editing", "declared_ai_generated": False},
    {
        "service_type": "face_swap",
        "content_type": "video",
        "media": {"mime_type": "video/mp4"},
        "explicit_label": {"kind": "graphic", "position": "around_player", "text": "AI", "duration_s": 1.0},
        "depicted_persons": [{"consent": False}, {"consent": None}],
    },
    {
        "service_type": "face_pose_manipulation",
        "content_type": "video",
        "explicit_label": {"kind": "text"},
        "depicted_persons": [{"consent": True}],
    },
    {
        "service_type": "face_generation",
        "content_type": "image",
        "explicit_label": {"kind": "text", "position": "center", "text": "AI生成", "size_ratio": 0.01},
    },
    {"service_type": "voice_synthesis", "content_type": "audio", "explicit_label": {"kind": "text"}},
    # Labels in the media bytes (written by Pillow and c2pa-python).
    media_fields(png_with_text(_aigc(sm2_signed_label(_PRIVATE, _PUBLIC)))),
    {
        **media_fields(png_with_text(_aigc(sm2_signed_label(_OTHER_PRIVATE, _OTHER_PUBLIC)))),
        "implicit_label": valid_implicit_label(),
    },
    media_fields(
        png_with_text(
            _aigc(sm2_signed_label(_PRIVATE, _PUBLIC, ContentProducer="001191440300708461136T1XGW3")),
            ("AIGC", "Label=1"),
            ("AIGC", json.dumps(valid_implicit_label()).replace('"', "&quot;")),
        )
    ),
    media_fields(_UNLABELLED),
    media_fields(_UNLABELLED[:60]),
    media_fields(_c2pa_png(tampered=False)),
    media_fields(_c2pa_png(tampered=True)),
    # A PDF whose label an incremental update changed (Provisions Art. 18).
    {
        **media_fields(
            pdf_update(
                pdf_write({"/AIGC": json.dumps({"AIGC": valid_implicit_label()})}),
                {"/AIGC": json.dumps({"AIGC": valid_implicit_label(Label="3")})},
            ),
            mime="application/pdf",
        ),
        "content_type": "text",
        "service_type": "person_simulating_text",
    },
]


def _seen(
    text: str, height: int, position: Any, first: float | None = None, duration: float | None = None
) -> Any:
    short = 360 if first is not None else 480
    return VisibleLabel(
        text, text == "AI生成", height, short, height / short, position, position != "center", first, duration
    )


# Events and what their pixels show (classifiers.labels.pixels), for the codes only a reading produces.
SEEN: list[tuple[dict[str, Any], PixelReading]] = [
    (
        {"service_type": "face_generation", "content_type": "image"},
        PixelReading(640, 480, (_seen("AI生成", 10, "center"),), (), 1, None),
    ),
    (
        {
            "service_type": "face_generation",
            "content_type": "video",
            "explicit_label": {"kind": "text", "text": "AI生成"},
        },
        PixelReading(640, 360, (_seen("AI生成", 40, "bottom", first=4.0, duration=1.0),), (), 12, 6.0),
    ),
    (
        {
            "service_type": "face_generation",
            "content_type": "image",
            "explicit_label": {"kind": "text", "text": "AI生成"},
        },
        PixelReading(640, 480, (_seen("由AI创作", 40, "bottom"),), (), 1, None),
    ),
    (
        {"service_type": "face_generation", "content_type": "image"},
        PixelReading(0, 0, (), (), 0, None, problem="timeout"),
    ),
]


def all_findings() -> list[Any]:
    declared = [
        f
        for doc in CORPUS
        for code in ("", "0011911100007DK3QW8A2Y2B3C4")
        for f in check_event_labels(
            build_event(**doc), platform_code=code, signing_keys=SIGNING_KEYS
        ).findings
    ]
    seen = [
        f
        for doc, reading in SEEN
        for f in check_event_labels(build_event(**doc), platform_code="", seen=reading).findings
    ]
    return declared + seen


def test_registry_is_well_formed() -> None:
    """Each code is keyed by its own name, has a known severity, an article and a description."""
    for code, spec in FINDING_CODES.items():
        assert code == spec.code
        assert spec.severity in get_args(Severity)
        assert spec.article and spec.description
        assert not spec.undecided or spec.severity == "warning"


def test_every_produced_finding_is_registered_with_its_severity() -> None:
    """The policy layer keys on codes: every produced code is registered and keeps its registered severity."""
    findings = all_findings()
    for f in findings:
        assert f.code in FINDING_CODES, f.code
        assert f.severity == FINDING_CODES[f.code].severity, f
        assert f.article and f.message
    # The corpus reaches every registered code, so the registry names nothing the rules cannot produce.
    assert {f.code for f in findings} == set(FINDING_CODES)


def test_unregistered_code_fails_loudly() -> None:
    """A rule that invents a code is a bug: building its finding raises."""
    with pytest.raises(KeyError):
        finding("no_such_code", "never")
