"""C2PA provenance reading on real JPEG/PNG files written by Pillow and signed by c2pa-python's Builder
with a throw-away test CA (tests/unit/media/c2pa_signing.py)."""

from __future__ import annotations

from typing import Any

import pytest

from classifiers.labels.media.base import Limits
from classifiers.labels.media.c2pa_manifest import C2paReport, read_c2pa, report_from_store
from tests.fixtures.c2pa import (
    IPTC,
    SIGNER_COMMON_NAME,
    SIGNER_ORGANISATION,
    SigningCredentials,
    created_action,
    make_credentials,
    pillow_image,
    sign,
)

MIME = {"JPEG": "image/jpeg", "PNG": "image/png"}


@pytest.fixture(scope="module")
def credentials() -> SigningCredentials:
    return make_credentials()


@pytest.fixture(scope="module")
def ai_jpeg(credentials: SigningCredentials) -> bytes:
    return sign(pillow_image("JPEG"), "image/jpeg", credentials, [created_action("trainedAlgorithmicMedia")])


@pytest.fixture(scope="module")
def ai_png(credentials: SigningCredentials) -> bytes:
    return sign(pillow_image("PNG"), "image/png", credentials, [created_action("trainedAlgorithmicMedia")])


def _read(data: bytes, mime: str, **kwargs: Any) -> C2paReport:
    report = read_c2pa(data, mime, **kwargs)
    assert report is not None
    return report


def _tamper_jpeg_scan(data: bytes) -> bytes:
    """Changes one byte of entropy-coded image data (after the last SOS header), keeping markers intact."""
    sos = data.rfind(b"\xff\xda")
    start = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")
    end = data.rfind(b"\xff\xd9")
    for index in range((start + end) // 2, end):
        byte, before = data[index], data[index - 1]
        if byte not in (0x00, 0xFE, 0xFF) and before != 0xFF and data[index + 1] != 0xFF:
            return data[:index] + bytes([byte ^ 0x01]) + data[index + 1 :]
    raise AssertionError("no byte to change in the scan data")


def _tamper_png_idat(data: bytes) -> bytes:
    """Changes one byte inside the first IDAT chunk's compressed pixel data."""
    index = data.index(b"IDAT") + 4 + 10
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


def test_ai_claim_in_signed_jpeg_is_reported_intact_but_untrusted(ai_jpeg: bytes) -> None:
    report = _read(ai_jpeg, "image/jpeg")

    assert report.error is None
    assert report.ai_generated
    assert [(c.term, c.location) for c in report.source_types] == [
        ("trainedAlgorithmicMedia", "c2pa:c2pa.actions.v2:actions[0].digitalSourceType")
    ]
    assert report.actions == ("c2pa.created",)
    assert report.active_manifest is not None and report.active_manifest.startswith("urn:c2pa:")
    assert (report.claim_generator, report.claim_generator_version) == ("huiyan-tests", "1.2.3")
    assert report.title == "generated image"
    assert report.format is None  # v2 claims carry no dc:format
    assert (report.signer_common_name, report.signer_issuer) == (SIGNER_COMMON_NAME, SIGNER_ORGANISATION)
    assert report.signing_alg == "Es256"
    assert (report.embedded, report.remote_url) == (True, None)
    # No trust anchors configured: the default trust check marks the signer untrusted, nothing else fails.
    assert report.validation_state == "Valid"
    assert report.failure_codes == ("signingCredential.untrusted",)
    assert "signingCredential.ocsp.skipped" in {s.code for s in report.informational}
    assert report.intact
    assert not report.trusted


@pytest.mark.parametrize(
    ("image_format", "source_type", "ai"),
    [
        ("PNG", "trainedAlgorithmicMedia", True),
        ("JPEG", "compositeWithTrainedAlgorithmicMedia", True),
        ("PNG", "compositeSynthetic", True),
        ("PNG", "algorithmicMedia", False),  # pure algorithm, not generative AI (labels.md §5.1)
        ("JPEG", "digitalCapture", False),
    ],
)
def test_ai_verdict_follows_the_digital_source_type(
    credentials: SigningCredentials, image_format: str, source_type: str, ai: bool
) -> None:
    mime = MIME[image_format]
    signed = sign(pillow_image(image_format), mime, credentials, [created_action(source_type)])

    report = _read(signed, mime)

    assert [c.value for c in report.source_types] == [IPTC + source_type]
    assert report.ai_generated is ai
    assert report.intact


def test_adobe_parameter_source_type_in_actions_v2_counts(credentials: SigningCredentials) -> None:
    actions = [
        created_action("digitalCreation"),
        {
            "action": "c2pa.edited",
            "parameters": {"com.adobe.digitalSourceType": IPTC + "compositeWithTrainedAlgorithmicMedia"},
        },
    ]
    signed = sign(pillow_image("PNG"), "image/png", credentials, actions, label="c2pa.actions.v2")

    report = _read(signed, "image/png")

    assert report.actions == ("c2pa.created", "c2pa.edited")
    assert [(c.term, c.location) for c in report.source_types] == [
        ("digitalCreation", "c2pa:c2pa.actions.v2:actions[0].digitalSourceType"),
        (
            "compositeWithTrainedAlgorithmicMedia",
            "c2pa:c2pa.actions.v2:actions[1].parameters.com.adobe.digitalSourceType",
        ),
    ]
    assert report.ai_generated


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_file_without_manifest_gives_none(image_format: str) -> None:
    assert read_c2pa(pillow_image(image_format), MIME[image_format]) is None


@pytest.mark.parametrize(
    ("fixture", "mime", "tamper"),
    [("ai_jpeg", "image/jpeg", _tamper_jpeg_scan), ("ai_png", "image/png", _tamper_png_idat)],
)
def test_pixels_changed_after_signing_are_invalid(
    request: pytest.FixtureRequest, fixture: str, mime: str, tamper: Any
) -> None:
    signed: bytes = request.getfixturevalue(fixture)
    tampered = tamper(signed)
    assert tampered != signed and len(tampered) == len(signed)

    report = _read(tampered, mime)

    assert report.error is None
    assert report.validation_state == "Invalid"
    assert "assertion.dataHash.mismatch" in report.failure_codes
    assert not report.intact and not report.trusted
    assert report.ai_generated  # the claim is still read, it just cannot be believed


def test_test_ca_as_trust_anchor_makes_the_signer_trusted(
    ai_jpeg: bytes, credentials: SigningCredentials
) -> None:
    report = _read(ai_jpeg, "image/jpeg", trust_anchors_pem=credentials.ca_pem)

    assert report.validation_state == "Trusted"
    assert report.failures == ()
    assert report.intact and report.trusted


def test_another_ca_as_anchor_leaves_the_signer_untrusted(ai_png: bytes) -> None:
    report = _read(ai_png, "image/png", trust_anchors_pem=make_credentials().ca_pem)

    assert report.validation_state == "Valid"
    assert report.failure_codes == ("signingCredential.untrusted",)
    assert report.intact and not report.trusted


def test_tampered_file_is_not_trusted_even_with_the_right_anchor(
    ai_png: bytes, credentials: SigningCredentials
) -> None:
    report = _read(_tamper_png_idat(ai_png), "image/png", trust_anchors_pem=credentials.ca_pem)

    assert report.validation_state == "Invalid"
    assert report.failure_codes == ("assertion.dataHash.mismatch",)
    assert not report.trusted


def test_anchors_without_a_certificate_are_an_error_not_silently_untrusted(ai_jpeg: bytes) -> None:
    report = _read(ai_jpeg, "image/jpeg", trust_anchors_pem="not a certificate")

    assert report.error is not None and "PEM" in report.error
    assert not report.intact


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda d: d[: len(d) // 2], id="truncated-half"),
        pytest.param(lambda d: d[:-200], id="truncated-tail"),
        pytest.param(lambda d: d[:1000], id="truncated-in-manifest"),
        pytest.param(lambda d: b"\x00" * 64 + d, id="garbage-prefix"),
        pytest.param(lambda d: b"not an image at all" * 20, id="garbage"),
        pytest.param(lambda d: b"", id="empty"),
    ],
)
@pytest.mark.parametrize("fixture", ["ai_jpeg", "ai_png"])
def test_damaged_input_never_raises(request: pytest.FixtureRequest, fixture: str, damage: Any) -> None:
    signed: bytes = request.getfixturevalue(fixture)
    mime = "image/jpeg" if fixture == "ai_jpeg" else "image/png"

    report = read_c2pa(damage(signed), mime)

    # Either no manifest could be found, or the damage is reported; a damaged file is never "intact".
    assert report is None or report.error is not None or not report.intact


def test_truncated_jpeg_reports_the_parse_error(ai_jpeg: bytes) -> None:
    report = _read(ai_jpeg[: len(ai_jpeg) // 2], "image/jpeg")

    assert report.error is not None
    assert report.validation_state is None and not report.ai_generated


def test_input_over_the_size_limit_is_skipped_with_an_error(ai_jpeg: bytes) -> None:
    report = _read(ai_jpeg, "image/jpeg", limits=Limits(max_bytes=len(ai_jpeg) - 1))
    assert report.error is not None and "limit" in report.error

    default = _read(b"\x00" * (64 * 1024 * 1024 + 1), "image/jpeg")
    assert default.error is not None and "limit" in default.error


def test_remote_manifest_is_not_fetched(credentials: SigningCredentials) -> None:
    url = "http://127.0.0.1:9/manifests/hy-0001.c2pa"
    signed = sign(
        pillow_image("JPEG"),
        "image/jpeg",
        credentials,
        [created_action("trainedAlgorithmicMedia")],
        remote_url=url,
    )

    report = _read(signed, "image/jpeg")

    assert (report.embedded, report.remote_url) == (False, url)
    assert report.error is not None and "not fetched" in report.error
    assert not report.intact


@pytest.mark.parametrize("mime", ["image/jpeg; charset=binary", "", "image/png"])
def test_declared_mime_is_a_hint(ai_jpeg: bytes, mime: str) -> None:
    report = _read(ai_jpeg, mime)

    assert report.error is None and report.ai_generated


def test_store_json_from_older_writers_and_odd_shapes() -> None:
    store = {
        "active_manifest": "urn:uuid:1",
        "manifests": {
            "urn:uuid:1": {
                "claim_generator": "make_test_images/0.16.1 c2pa-rs/0.16.1",
                "format": "image/jpeg",
                "title": 42,
                "assertions": [
                    "not an object",
                    {"label": "c2pa.actions", "data": {"actions": "not a list"}},
                    {
                        "label": "c2pa.actions__1",
                        "data": {"actions": [7, {"action": 3, "digitalSourceType": 5}]},
                    },
                    {
                        "label": "c2pa.actions.v2__2",
                        "data": {
                            "actions": [
                                {"action": "c2pa.opened", "parameters": {"com.adobe.digitalSourceType": ""}}
                            ]
                        },
                    },
                    {"label": "stds.schema-org.CreativeWork", "data": {"actions": [created_action("x")]}},
                    {
                        "label": "c2pa.actions.v2",
                        "data": {
                            "actions": [
                                {"action": "c2pa.created", "digitalSourceType": " trainedAlgorithmicMedia "}
                            ]
                        },
                    },
                ],
                "signature_info": "broken",
            }
        },
        "validation_status": [
            {"code": "claimSignature.mismatch", "explanation": "claim signature mismatch"},
            1,
        ],
        "validation_state": "Invalid",
    }

    report = report_from_store(store)

    assert (report.claim_generator, report.claim_generator_version) == ("make_test_images", "0.16.1")
    assert report.format == "image/jpeg"
    assert report.title is None
    assert report.actions == ("c2pa.opened", "c2pa.created")
    assert [c.location for c in report.source_types] == ["c2pa:c2pa.actions.v2:actions[0].digitalSourceType"]
    assert report.source_types[0].value == "trainedAlgorithmicMedia"  # a bare term, space stripped
    assert report.ai_generated
    assert report.failure_codes == ("claimSignature.mismatch",)
    assert report.signer_issuer is None
    assert not report.intact


def test_store_without_its_active_manifest_is_an_error() -> None:
    report = report_from_store(
        {"active_manifest": "urn:uuid:missing", "manifests": [], "validation_state": "Valid"}
    )

    assert report.error is not None
    assert not report.intact and not report.ai_generated


def _store_with_results(state: str, failure: list[str], informational: list[str]) -> dict[str, Any]:
    return {
        "active_manifest": "urn:uuid:2",
        "manifests": {"urn:uuid:2": {"claim_generator_info": [{"name": "gen"}], "assertions": []}},
        "validation_results": {
            "activeManifest": {
                "success": [{"code": "claimSignature.validated"}],
                "failure": [{"code": code, "url": "self#jumbf=/c2pa"} for code in failure],
                "informational": [{"code": code} for code in informational],
            }
        },
        "validation_state": state,
    }


def test_failures_and_informational_codes_come_from_validation_results() -> None:
    report = report_from_store(
        _store_with_results("Invalid", ["assertion.dataHash.mismatch"], ["signingCredential.ocsp.skipped"])
    )

    assert report.failure_codes == ("assertion.dataHash.mismatch",)
    assert [s.code for s in report.informational] == ["signingCredential.ocsp.skipped"]
    assert (report.claim_generator, report.claim_generator_version) == ("gen", None)
    assert not report.intact


def test_untrusted_alone_is_intact_even_where_a_library_calls_it_invalid() -> None:
    # c2pa-python releases that fail on an untrusted signer report "Invalid" (labels.md §5.4).
    report = report_from_store(_store_with_results("Invalid", ["signingCredential.untrusted"], []))

    assert report.intact and not report.trusted
    assert not report_from_store(_store_with_results("Invalid", [], [])).intact
