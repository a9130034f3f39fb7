"""SM2 label signatures in SecurityData: verified against a configured key only, never the file's own."""

from __future__ import annotations

import json

import pytest

from classifiers.labels.security_data import check_security_data, public_key_xy, signature_rs, signed_message
from tests.fixtures.labels import PRODUCER_CODE as PRODUCER
from tests.fixtures.labels import der_signature as _der
from tests.fixtures.labels import sm2_keypair as _keypair
from tests.fixtures.labels import sm2_signed_label as _signed_label


def test_signed_message_is_annex_a1_form() -> None:
    label = {"Label": "1", "ContentProducer": "p", "ProduceID": "id-1", "ReservedCode1": "x"}
    assert signed_message(label) == b'"Label":"1","ContentProducer":"p","ProduceID":"id-1"'


@pytest.mark.parametrize("der", [True, False])
def test_signature_verifies_with_the_configured_key(der: bool) -> None:
    private, public = _keypair()
    check = check_security_data(
        _signed_label(private, public, der=der), signing_keys={PRODUCER: "04" + public}
    )
    assert check is not None and check.status == "verified"


def test_an_altered_label_fails_against_the_configured_key() -> None:
    private, public = _keypair()
    label = _signed_label(private, public, ProduceID="hy-sig-9999")  # changed after signing
    check = check_security_data(label, signing_keys={PRODUCER: public})
    assert check is not None and check.status == "failed"


def test_a_label_signed_by_another_key_fails_even_though_its_own_key_matches() -> None:
    forger_private, forger_public = _keypair()
    _, real_public = _keypair()
    label = _signed_label(forger_private, forger_public)  # self-consistent: file key verifies the signature
    check = check_security_data(label, signing_keys={PRODUCER: real_public})
    assert check is not None and check.status == "failed"


def test_without_a_configured_key_the_signature_is_unverified() -> None:
    private, public = _keypair()
    check = check_security_data(_signed_label(private, public), signing_keys={})
    assert check is not None and check.status == "unverified"


def test_no_security_data_and_malformed_security_data() -> None:
    assert check_security_data({"Label": "1", "ReservedCode1": ""}, signing_keys={}) is None
    assert check_security_data({"Label": "1", "ReservedCode1": "e862483430d978cb"}, signing_keys={}) is None
    broken = check_security_data({"ReservedCode1": '{"SecurityData": [1]}'}, signing_keys={})
    assert broken is not None and broken.status == "malformed"
    rsa = {"SecurityData": {"Type": "TC260PG", "PubSD": [{"Type": "DS", "AlgID": "1.2.840.113549.1.1.11"}]}}
    unsupported = check_security_data({"ReservedCode1": json.dumps(rsa)}, signing_keys={})
    assert unsupported is not None and unsupported.status == "unsupported"


def test_key_and_signature_encodings() -> None:
    xy = "ab" * 64
    assert public_key_xy("04" + xy) == xy
    assert public_key_xy(xy) == xy
    spki = "3059301306072A8648CE3D020106082A811CCF5501822D03420004" + xy
    assert public_key_xy(spki) == xy
    assert public_key_xy("04abcd") is None
    assert public_key_xy("zz") is None
    rs = f"{5:064x}{7:064x}"
    assert signature_rs(_der(rs)) == rs
    assert signature_rs(rs) == rs
    assert signature_rs("3006020105") is None  # truncated DER
    assert signature_rs("not hex") is None
