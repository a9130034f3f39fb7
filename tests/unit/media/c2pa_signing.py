"""Test-only C2PA signing: a throw-away CA and signer made with ``cryptography`` at test time, and
helpers that write Pillow images and sign them with c2pa-python's own Builder.

Nothing here is a real credential: the keys live only in the test process. The certificate profile is
what c2pa-rs accepts for a claim signer: an ES256 (P-256) end-entity certificate, v3, not a CA, Key
Usage ``digitalSignature`` (critical), an EKU (``emailProtection``), subject and authority key
identifiers, issued by a CA certificate with ``keyCertSign`` and ``CA:TRUE``.
"""

from __future__ import annotations

import datetime
import io
from dataclasses import dataclass
from typing import Any

import c2pa  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from PIL import Image

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"

CA_ORGANISATION = "Huiyan Test CA"
SIGNER_ORGANISATION = "Huiyan Test Signer Org"
SIGNER_COMMON_NAME = "Huiyan Test Signer"


@dataclass(frozen=True)
class SigningCredentials:
    ca_pem: str  # the root, to pass as a trust anchor
    chain_pem: str  # end-entity certificate first, then the CA
    key_pem: str  # the end-entity private key (PKCS#8)


def _key_usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def make_credentials() -> SigningCredentials:
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Huiyan Test Root CA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, CA_ORGANISATION),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_key_usage(signer=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    signer_key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, SIGNER_COMMON_NAME),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, SIGNER_ORGANISATION),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(signer_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signer=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(signer_key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    key_pem = signer_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return SigningCredentials(ca_pem=_pem(ca), chain_pem=_pem(signer) + _pem(ca), key_pem=key_pem)


def pillow_image(image_format: str, colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """A small real image written by Pillow ("JPEG" or "PNG") with some texture in its pixels."""
    image = Image.new("RGB", (48, 48), colour)
    for x in range(48):
        image.putpixel((x, x), (x * 5, 255 - x * 5, 90))
    buffer = io.BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def created_action(source_type: str) -> dict[str, Any]:
    """A ``c2pa.created`` action; ``source_type`` is an IPTC term such as trainedAlgorithmicMedia."""
    return {"action": "c2pa.created", "digitalSourceType": IPTC + source_type}


def sign(
    data: bytes,
    mime_type: str,
    credentials: SigningCredentials,
    actions: list[dict[str, Any]],
    *,
    label: str = "c2pa.actions",
    title: str = "generated image",
    remote_url: str | None = None,
) -> bytes:
    """``data`` with a C2PA manifest holding one actions assertion, signed by the test signer."""
    manifest = {
        "claim_generator_info": [{"name": "huiyan-tests", "version": "1.2.3"}],
        "title": title,
        "assertions": [{"label": label, "data": {"actions": actions}}],
    }
    signer_info = c2pa.C2paSignerInfo(
        c2pa.C2paSigningAlg.ES256, credentials.chain_pem.encode(), credentials.key_pem.encode(), None
    )
    with c2pa.Signer.from_info(signer_info) as signer, c2pa.Builder(manifest) as builder:
        if remote_url is not None:
            builder.set_no_embed()
            builder.set_remote_url(remote_url)
        output = io.BytesIO()
        builder.sign(signer, mime_type, io.BytesIO(data), output)
        return output.getvalue()
