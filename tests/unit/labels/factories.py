"""Test helpers: real ContentEvents for the label rules, from small dicts parsed by the event contract."""

from __future__ import annotations

import base64
import io
import json
import secrets
from collections.abc import Sequence
from typing import Any

from gmssl import sm2
from PIL import Image, PngImagePlugin

from classifiers.labels.security_data import SM3_WITH_SM2, signed_message
from stream.records import ContentEvent, LabelFinding, parse_event

# A well-formed TC260-PG-20252A code made up for the tests: "00", subject 1, binding 1, an 18-character
# credit code, service type 1 (generation), app code A7K2.
PRODUCER_CODE = "0011911100007DK3QW8A2Y1A7K2"
PLATFORM_CODE = "0011911100007DK3QW8A2Y2B3C4"

# Pass as a value to drop that key from the document.
ABSENT: Any = object()


def valid_implicit_label(**overrides: Any) -> dict[str, Any]:
    """A complete Annex E label of a first write; keyword overrides change or (ABSENT) drop elements."""
    label: dict[str, Any] = {
        "Label": "1",
        "ContentProducer": PRODUCER_CODE,
        "ProduceID": "gen-20250901-0001",
        "ReservedCode1": "",
        "ContentPropagator": "",
        "PropagateID": "",
        "ReservedCode2": "",
    }
    label.update(overrides)
    return {k: v for k, v in label.items() if v is not ABSENT}


def build_event(**fields: Any) -> ContentEvent:
    """An event from the contract's required fields plus ``fields`` (a value of ABSENT drops a key)."""
    doc: dict[str, Any] = {
        "event_id": "evt-1",
        "tenant": "demo",
        "scene": "post",
        "content_id": "content-42",
        "content_type": "text",
        "service_type": "person_simulating_text",
    }
    doc.update(fields)
    doc = {k: v for k, v in doc.items() if v is not ABSENT}
    event = parse_event(
        json.dumps(doc, ensure_ascii=False).encode(), max_event_bytes=1 << 20, max_media_bytes=1 << 20
    )
    assert isinstance(event, ContentEvent), event
    return event


def codes(findings: Sequence[LabelFinding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: Sequence[LabelFinding], code: str) -> LabelFinding:
    """The one finding of ``code``; fails when there is none or several."""
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, (code, codes(findings))
    return matching[0]


def png_with_text(*texts: tuple[str, str]) -> bytes:
    """A small PNG written by Pillow with tEXt chunks (for example ("AIGC", "{...}"))."""
    info = PngImagePlugin.PngInfo()
    for key, value in texts:
        info.add_text(key, value)
    out = io.BytesIO()
    Image.new("RGB", (24, 16), (90, 140, 200)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def media_fields(data: bytes, mime: str = "image/png") -> dict[str, Any]:
    """Event fields of an image with inline bytes."""
    return {
        "content_type": "image",
        "service_type": "image_video_generation",
        "media": {"mime_type": mime, "data_base64": base64.b64encode(data).decode()},
    }


def sm2_keypair() -> tuple[str, str]:
    """(private key, public key x || y) as hex, fresh for each call."""
    private = f"{secrets.randbelow(int(sm2.default_ecc_table['n'], 16) - 2) + 1:064x}"
    crypt = sm2.CryptSM2(private_key=private, public_key="")
    public = crypt._kg(int(private, 16), sm2.default_ecc_table["g"])
    return private, public


def der_signature(rs: str) -> str:
    """r || s hex as a DER SEQUENCE of two INTEGERs, the form real labels carry."""

    def integer(value: int) -> bytes:
        body = value.to_bytes(32, "big").lstrip(b"\x00") or b"\x00"
        if body[0] & 0x80:
            body = b"\x00" + body
        return bytes([0x02, len(body)]) + body

    content = integer(int(rs[:64], 16)) + integer(int(rs[64:], 16))
    return (bytes([0x30, len(content)]) + content).hex()


def sm2_signed_label(private: str, public: str, *, der: bool = True, **overrides: Any) -> dict[str, Any]:
    """A label whose ReservedCode1 holds a TC260-PG-202511A SecurityData SM3withSM2 signature.

    ``overrides`` are applied after signing (so changing a signed element breaks the signature).
    """
    label: dict[str, Any] = {"Label": "1", "ContentProducer": PRODUCER_CODE, "ProduceID": "hy-sig-0001"}
    crypt = sm2.CryptSM2(private_key=private, public_key=public)
    crypt.public_key = public
    rs = crypt.sign_with_sm3(signed_message(label))
    security = {
        "SecurityData": {
            "Type": "TC260PG",
            "PubSD": [
                {
                    "Type": "DS",
                    "AlgID": SM3_WITH_SM2,
                    "TBSData": {"Type": "Md"},
                    "Signature": der_signature(rs) if der else rs,
                },
                {"Type": "PubKey", "AlgID": SM3_WITH_SM2, "KeyValue": "04" + public},
            ],
        }
    }
    return {**label, "ReservedCode1": json.dumps(security), **overrides}
