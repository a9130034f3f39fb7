"""Reads a file's C2PA manifest store (Content Credentials) with c2pa-python and reports what it claims.

Responsible for: the active manifest's AI claim, i.e. every ``digitalSourceType`` in its
``c2pa.actions`` / ``c2pa.actions.v2`` assertions, whether on an action or, as some Adobe flows write
it, in the action's ``parameters`` as ``com.adobe.digitalSourceType`` (labels.md §5.2); the IPTC
terms that mean generative AI (``AI_SOURCE_TYPES``: trainedAlgorithmicMedia,
compositeWithTrainedAlgorithmicMedia, compositeSynthetic; never bare algorithmicMedia, labels.md §5.1);
and the validation result, keeping two questions apart (labels.md §5.4, c2pa-rs PR #2613):

* **intact**: the claim signature verifies and the hashes match, so manifest and content are as signed;
* **trusted**: the signing certificate chains to a configured trust anchor.

c2pa-python verifies trust by default; with no anchors configured a sound manifest reads as
``validation_state == "Valid"`` with the failure code ``signingCredential.untrusted`` (intact, not
trusted). Callers that configure anchors (``trust_anchors_pem``) get ``"Trusted"`` for signers under them.

Must not: judge compliance (a C2PA AI claim without a GB 45438 label is a finding for
``classifiers.labels.implicit`` to make), touch the network (remote manifests and OCSP are not fetched;
a remote-only manifest is reported with its URL and an error), or raise: every failure of the library or
of a hostile file becomes a report with ``error`` set.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import c2pa  # type: ignore[import-untyped]

from classifiers.labels.media.base import DEFAULT_LIMITS, Limits, SourceTypeClaim
from classifiers.labels.media.registry import read_media

# Failure codes about the signer's identity, not about the bytes: a manifest with only these is intact.
TRUST_ONLY_CODES: Final = frozenset({"signingCredential.untrusted", "timeStamp.untrusted"})

# An actions assertion, v1 or v2, with the optional ``__N`` suffix of a repeated assertion.
_ACTIONS_LABEL: Final = re.compile(r"^c2pa\.actions(?:\.v2)?(?:__\d+)?$")
_ADOBE_SOURCE_TYPE: Final = "com.adobe.digitalSourceType"
_REMOTE_URL: Final = re.compile(r"remote manifests? from url (\S+)")
_PEM_CERTIFICATE: Final = "-----BEGIN CERTIFICATE-----"
# MIME types our readers accept that c2pa-python (0.38.1) does not list: the same container under the
# name c2pa-rs knows (its PDF and ZIP asset handlers pick by these names).
_C2PA_MIME: Final = {
    "application/x-pdf": "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.template": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation"
    ),
}
_TEXT_CHARS: Final = 300  # one reported string (title, explanation, URL)
_MAX_ITEMS: Final = 200  # actions, source types and status codes kept per report


@dataclass(frozen=True, slots=True)
class ValidationStatus:
    """One C2PA validation status entry (``code`` as in the C2PA specification §15)."""

    code: str
    explanation: str = ""
    url: str | None = None


@dataclass(frozen=True, slots=True)
class C2paReport:
    """What the active manifest of one file claims and how its validation went.

    ``ai_generated`` says what the manifest claims; whether to believe it is ``intact`` / ``trusted``.
    """

    active_manifest: str | None = None  # the manifest label, "urn:c2pa:..."
    claim_generator: str | None = None  # the software that made the claim (name)
    claim_generator_version: str | None = None
    title: str | None = None
    format: str | None = None  # the asset's MIME type as claimed; v2 claims no longer carry it
    source_types: tuple[SourceTypeClaim, ...] = ()  # every digitalSourceType in the actions assertions
    actions: tuple[str, ...] = ()  # action names in order, e.g. "c2pa.created"
    validation_state: str | None = None  # "Valid", "Trusted" or "Invalid"; None when not validated
    failures: tuple[ValidationStatus, ...] = ()
    informational: tuple[ValidationStatus, ...] = ()
    # signature_info.issuer: c2pa puts the signing certificate's own organisation (subject O) here,
    # not the issuing CA's name.
    signer_issuer: str | None = None
    signer_common_name: str | None = None
    signing_alg: str | None = None
    signed_at: str | None = None  # time from a trusted timestamp, when the signer used a TSA
    embedded: bool | None = None  # False: the file points at a remote manifest (``remote_url``)
    remote_url: str | None = None
    error: str | None = None

    @property
    def ai_generated(self) -> bool:
        """The active manifest claims generative-AI content (labels.md §5.1)."""
        return any(claim.is_ai for claim in self.source_types)

    @property
    def failure_codes(self) -> tuple[str, ...]:
        return tuple(status.code for status in self.failures)

    @property
    def intact(self) -> bool:
        """Manifest and content are as signed; an untrusted signer alone does not break this."""
        if self.error is not None or self.validation_state is None:
            return False
        if self.validation_state == "Invalid" and not self.failures:
            return False
        return all(code in TRUST_ONLY_CODES for code in self.failure_codes)

    @property
    def trusted(self) -> bool:
        """The signer chains to a configured trust anchor (and the manifest is intact)."""
        return self.validation_state == "Trusted" and self.intact


def read_c2pa(
    data: bytes,
    mime_type: str,
    *,
    trust_anchors_pem: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> C2paReport | None:
    """The C2PA report for ``data``; None when it carries no manifest. Never raises.

    A manifest store that the format readers see but c2pa-python cannot read or find (C2PA in a format
    or layout it does not handle) comes back with ``error`` set, never as None.

    ``trust_anchors_pem``: PEM root certificates whose signers count as trusted. Without them every
    signer is untrusted, which does not make a manifest invalid (see :attr:`C2paReport.intact`).
    """
    if len(data) > limits.max_bytes:
        # The manifest hashes the whole asset, so a prefix cannot be validated: skip rather than cut.
        return C2paReport(error=f"input of {len(data)} bytes exceeds the {limits.max_bytes}-byte limit")
    if trust_anchors_pem is not None and _PEM_CERTIFICATE not in trust_anchors_pem:
        # c2pa silently ignores anchors it cannot parse; a misconfiguration must show, not read as untrusted.
        return C2paReport(error="trust_anchors_pem holds no PEM certificate")
    mime = mime_type.split(";")[0].strip().lower() or None
    mime = _C2PA_MIME.get(mime, mime) if mime else None
    try:
        with _context(trust_anchors_pem) as context:
            reader = c2pa.Reader.try_create(mime, io.BytesIO(data), context=context)
            if reader is None:
                return _unseen_store(data, mime_type, limits)
            with reader:
                store = json.loads(reader.json())
                embedded = bool(reader.is_embedded())
                remote_url = reader.get_remote_url()
    except c2pa.C2paError as exc:
        return _error_report(str(exc))
    except Exception as exc:  # the ctypes layer or a library bug: still a value, never a crash
        return _error_report(f"{type(exc).__name__}: {exc}")
    if not isinstance(store, Mapping):
        return C2paReport(embedded=embedded, error="manifest store JSON is not an object")
    return report_from_store(store, embedded=embedded, remote_url=_text(remote_url))


def _unseen_store(data: bytes, mime_type: str, limits: Limits) -> C2paReport | None:
    """None when the file has no manifest store; an error report when our readers see one that
    c2pa-python does not find (a PDF whose catalog no longer names its manifest file, for example):
    a manifest that cannot be validated is not the same as no manifest."""
    locations = read_media(data, mime_type, limits).c2pa_locations
    if not locations:
        return None
    return C2paReport(
        error=f"a manifest store at {locations[0]} that c2pa-python does not find"[:_TEXT_CHARS]
    )


@contextmanager
def _context(trust_anchors_pem: str | None) -> Iterator[Any]:
    """A c2pa Context that never goes to the network and trusts only the given anchors."""
    settings: dict[str, Any] = {
        # No fetching remote manifests (SSRF from a hostile file) or OCSP responses inside the stream.
        "verify": {"remote_manifest_fetch": False, "ocsp_fetch": False, "verify_trust": True},
    }
    if trust_anchors_pem is not None:
        settings["trust"] = {"trust_anchors": trust_anchors_pem}
    context = c2pa.Context.from_dict(settings)
    try:
        yield context
    finally:
        context.close()


def _error_report(message: str) -> C2paReport:
    message = message.strip()
    if match := _REMOTE_URL.search(message):
        url = match.group(1)[:_TEXT_CHARS]
        return C2paReport(
            embedded=False,
            remote_url=url,
            error=f"remote manifest not fetched (network fetching is off): {message}"[:_TEXT_CHARS],
        )
    return C2paReport(error=(message or "c2pa error without a message")[:_TEXT_CHARS])


def report_from_store(
    store: Mapping[str, Any], *, embedded: bool | None = None, remote_url: str | None = None
) -> C2paReport:
    """Builds the report from c2pa's manifest store JSON (``Reader.json()``), trusting none of its shapes."""
    label = _text(store.get("active_manifest"))
    manifests = store.get("manifests")
    manifest: Mapping[str, Any] = {}
    if label is not None and isinstance(manifests, Mapping):
        found = manifests.get(label)
        if isinstance(found, Mapping):
            manifest = found
    generator, generator_version = _claim_generator(manifest)
    source_types, actions = _actions(manifest)
    signature = manifest.get("signature_info")
    signature = signature if isinstance(signature, Mapping) else {}
    failures, informational = _statuses(store)
    error = None if manifest else "the active manifest is missing from the store"
    return C2paReport(
        active_manifest=label,
        claim_generator=generator,
        claim_generator_version=generator_version,
        title=_text(manifest.get("title")),
        format=_text(manifest.get("format")),
        source_types=source_types,
        actions=actions,
        validation_state=_text(store.get("validation_state")),
        failures=failures,
        informational=informational,
        signer_issuer=_text(signature.get("issuer")),
        signer_common_name=_text(signature.get("common_name")),
        signing_alg=_text(signature.get("alg")),
        signed_at=_text(signature.get("time")),
        embedded=embedded,
        remote_url=remote_url,
        error=error,
    )


def _text(value: Any) -> str | None:
    return value[:_TEXT_CHARS] if isinstance(value, str) else None


def _claim_generator(manifest: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(name, version): v2 claims list ``claim_generator_info``; v1 has a "name/version ..." string."""
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info:
        info = info[0]
    if isinstance(info, Mapping) and _text(info.get("name")):
        return _text(info.get("name")), _text(info.get("version"))
    legacy = _text(manifest.get("claim_generator"))
    if not legacy or not legacy.strip():
        return None, None
    name, _, version = legacy.split()[0].partition("/")
    return name, version or None


def _actions(manifest: Mapping[str, Any]) -> tuple[tuple[SourceTypeClaim, ...], tuple[str, ...]]:
    source_types: list[SourceTypeClaim] = []
    names: list[str] = []
    assertions = manifest.get("assertions")
    for assertion in assertions if isinstance(assertions, list) else ():
        if not isinstance(assertion, Mapping):
            continue
        label = assertion.get("label")
        data = assertion.get("data")
        if not (isinstance(label, str) and _ACTIONS_LABEL.match(label) and isinstance(data, Mapping)):
            continue
        entries = data.get("actions")
        for index, action in enumerate(entries if isinstance(entries, list) else ()):
            if not isinstance(action, Mapping):
                continue
            if (name := _text(action.get("action"))) is not None and len(names) < _MAX_ITEMS:
                names.append(name)
            where = f"c2pa:{label}:actions[{index}]"
            candidates = [(f"{where}.digitalSourceType", action.get("digitalSourceType"))]
            parameters = action.get("parameters")
            if isinstance(parameters, Mapping):
                # Adobe flows (c2pa.opened / edited) put the source type in the parameters (labels.md §5.2).
                candidates.append(
                    (f"{where}.parameters.{_ADOBE_SOURCE_TYPE}", parameters.get(_ADOBE_SOURCE_TYPE))
                )
            for location, value in candidates:
                if isinstance(value, str) and value.strip() and len(source_types) < _MAX_ITEMS:
                    source_types.append(SourceTypeClaim(location, value.strip()[:_TEXT_CHARS]))
    return tuple(source_types), tuple(names)


def _statuses(store: Mapping[str, Any]) -> tuple[tuple[ValidationStatus, ...], tuple[ValidationStatus, ...]]:
    """(failures, informational) of the active manifest, plus any failure only the flat list names.

    ``validation_results.activeManifest`` sorts codes into success / informational / failure;
    ``validation_status`` is the older flat list of failures, kept for stores that lack the former.
    """
    results = store.get("validation_results")
    active = results.get("activeManifest") if isinstance(results, Mapping) else None
    active = active if isinstance(active, Mapping) else {}
    failures = _status_list(active.get("failure"))
    seen = {(status.code, status.url) for status in failures}
    for status in _status_list(store.get("validation_status")):
        if (status.code, status.url) not in seen and len(failures) < _MAX_ITEMS:
            failures.append(status)
            seen.add((status.code, status.url))
    return tuple(failures), tuple(_status_list(active.get("informational")))


def _status_list(value: Any) -> list[ValidationStatus]:
    statuses: list[ValidationStatus] = []
    for entry in value if isinstance(value, list) else ():
        if isinstance(entry, Mapping) and (code := _text(entry.get("code"))) and len(statuses) < _MAX_ITEMS:
            statuses.append(
                ValidationStatus(code, _text(entry.get("explanation")) or "", _text(entry.get("url")))
            )
    return statuses
