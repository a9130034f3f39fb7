"""Checks the producer's SM2 signature in an implicit label's ``SecurityData`` (TC260-PG-202511A).

``ReservedCode1`` may hold ``{"SecurityData": {"Type": "TC260PG", "PubSD": [...]}}`` with a ``DS``
entry (an SM3withSM2 signature, OID 1.2.156.10197.1.501) over the ASCII string
``"Label":"1","ContentProducer":"...","ProduceID":"..."`` (PG-202511A Annex A.1; SM2 default user ID
``1234567812345678``) and usually a ``PubKey`` entry (labels.md §4.5). The key travels in the file it
signs, so a signature checked with it proves nothing about who signed: this module verifies only
against a key the operator configured for that producer (``HUIYAN_LABEL_SIGNING_KEYS``) and otherwise
reports the signature as unverified. It must not judge the rest of the label (``implicit.py`` does).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

SM3_WITH_SM2: Final = "1.2.156.10197.1.501"
# TC260-PG-202511A names the label's signed data "Md"; MiniMax writes "LabelMataData" (labels.md §4.5).
_LABEL_TBS_TYPES: Final = frozenset({"Md", "LabelMataData"})
_SIGNED_FIELDS: Final = ("Label", "ContentProducer", "ProduceID")
_MAX_ENTRIES: Final = 16

SecurityStatus = Literal["verified", "failed", "unverified", "unsupported", "malformed"]


@dataclass(frozen=True, slots=True)
class SecurityDataCheck:
    status: SecurityStatus
    detail: str


def signed_message(label: Mapping[str, Any]) -> bytes:
    """PG-202511A Annex A.1: the producer's three elements as they appear in the JSON, comma-joined."""
    parts = []
    for name in _SIGNED_FIELDS:
        value = label.get(name, "")
        parts.append(f"{json.dumps(name)}:{json.dumps(str(value), ensure_ascii=False)}")
    return ",".join(parts).encode("utf-8")


def public_key_xy(text: str) -> str | None:
    """An SM2 public key as 128 hex digits (x || y) from uncompressed point or SubjectPublicKeyInfo hex."""
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        return None
    if len(raw) > 65 and raw[0] == 0x30 and raw[-65] == 0x04:
        raw = raw[-65:]  # SubjectPublicKeyInfo DER: the BIT STRING ends with the uncompressed point
    if len(raw) == 65 and raw[0] == 0x04:
        raw = raw[1:]
    return raw.hex() if len(raw) == 64 else None


def signature_rs(text: str) -> str | None:
    """A signature as 128 hex digits (r || s), from DER ``SEQUENCE {INTEGER r, INTEGER s}`` or raw r || s."""
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        return None
    if len(raw) == 64:
        return raw.hex()
    if len(raw) < 8 or raw[0] != 0x30 or raw[1] != len(raw) - 2:
        return None
    values, index = [], 2
    for _ in range(2):
        if index + 2 > len(raw) or raw[index] != 0x02:
            return None
        length = raw[index + 1]
        value = raw[index + 2 : index + 2 + length]
        if len(value) != length or length == 0 or length > 33:
            return None
        values.append(int.from_bytes(value, "big"))
        index += 2 + length
    if index != len(raw) or any(v >= 1 << 256 for v in values):
        return None
    return f"{values[0]:064x}{values[1]:064x}"


def verify_sm2(public_key: str, message: bytes, signature: str) -> bool:
    """SM3withSM2 verification with the default user ID (GB/T 32918.2, GB/T 35276)."""
    from gmssl import sm2

    crypt = sm2.CryptSM2(private_key=None, public_key=public_key)
    crypt.public_key = public_key  # the constructor lstrip("04")s keys, which damages some x values
    try:
        return bool(crypt.verify_with_sm3(signature, message))
    except (ValueError, TypeError, ZeroDivisionError):
        return False


def check_security_data(
    label: Mapping[str, Any], *, signing_keys: Mapping[str, str]
) -> SecurityDataCheck | None:
    """The label's SecurityData signature status; None when ``ReservedCode1`` carries no SecurityData."""
    reserved = label.get("ReservedCode1")
    if not isinstance(reserved, str) or "SecurityData" not in reserved:
        return None
    try:
        parsed = json.loads(reserved)
    except ValueError:
        return SecurityDataCheck("malformed", "ReservedCode1 mentions SecurityData but is not JSON")
    security = parsed.get("SecurityData") if isinstance(parsed, dict) else None
    if not isinstance(security, dict):
        return SecurityDataCheck("malformed", "SecurityData is not a JSON object")
    entries = security.get("PubSD", security.get("PubSd"))
    if not isinstance(entries, list):
        return SecurityDataCheck("malformed", "SecurityData has no PubSD list")
    signatures = [e for e in entries[:_MAX_ENTRIES] if isinstance(e, dict) and e.get("Type") == "DS"]
    label_signatures = [
        e
        for e in signatures
        if e.get("AlgID") == SM3_WITH_SM2
        and isinstance(e.get("TBSData"), dict)
        and e["TBSData"].get("Type") in _LABEL_TBS_TYPES
    ]
    if not label_signatures:
        algorithms = sorted({str(e.get("AlgID")) for e in signatures}) or ["none"]
        return SecurityDataCheck(
            "unsupported", f"no SM3withSM2 label signature (DS entries' algorithms: {', '.join(algorithms)})"
        )
    producer = label.get("ContentProducer")
    configured = signing_keys.get(producer) if isinstance(producer, str) else None
    if configured is None:
        return SecurityDataCheck(
            "unverified",
            f"an SM3withSM2 label signature is present, but no signing key is configured for producer "
            f"{producer!s:.40}; the key carried in the file proves nothing about the signer",
        )
    key = public_key_xy(configured)
    if key is None:
        return SecurityDataCheck("unverified", f"the signing key configured for {producer} is not an SM2 key")
    message = signed_message(label)
    for entry in label_signatures:
        rs = signature_rs(str(entry.get("Signature", "")))
        if rs is not None and verify_sm2(key, message, rs):
            return SecurityDataCheck("verified", f"the label signature verifies with {producer}'s key")
    return SecurityDataCheck(
        "failed", f"no label signature verifies with the key configured for {producer}: altered or forged"
    )
