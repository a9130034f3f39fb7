"""How every Kafka client Huiyan builds connects: TLS, a SASL login, or neither (docs/security.md).

One place turns the ``HUIYAN_KAFKA_*`` security settings into the options of each client library:
Faust (the worker's consumer and producer), aiokafka (the policy and strike followers), kafka-python
(the command line, topic creation, the readers) and librdkafka (the benchmark's load generator). A
client built anywhere else would connect without them; ``tests/unit/test_kafka_auth.py`` checks that
no module builds one by hand. This module decides nothing about events.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

from stream.settings import Settings


class KafkaSecurityError(ValueError):
    """The security settings are incomplete or contradict each other."""


def uses_sasl(settings: Settings) -> bool:
    return settings.security_protocol.startswith("SASL_")


def uses_tls(settings: Settings) -> bool:
    return settings.security_protocol in ("SSL", "SASL_SSL")


def principal(settings: Settings) -> str | None:
    """The Kafka principal these settings log in as (``User:<name>``), or None without SASL."""
    return f"User:{settings.sasl_username}" if uses_sasl(settings) else None


def password(settings: Settings) -> str:
    if settings.sasl_password:
        return settings.sasl_password
    if settings.sasl_password_file:
        try:
            return Path(settings.sasl_password_file).read_text("utf-8").rstrip("\r\n")
        except OSError as exc:
            raise KafkaSecurityError(f"HUIYAN_KAFKA_PASSWORD_FILE: cannot read it ({exc})") from exc
    raise KafkaSecurityError(
        f"HUIYAN_KAFKA_SECURITY_PROTOCOL={settings.security_protocol} needs a password: set "
        "HUIYAN_KAFKA_PASSWORD_FILE (or HUIYAN_KAFKA_PASSWORD)"
    )


def check(settings: Settings) -> None:
    """Raises :class:`KafkaSecurityError` naming the setting that is missing or contradicts another."""
    if uses_sasl(settings):
        if not settings.sasl_username:
            raise KafkaSecurityError(
                f"HUIYAN_KAFKA_SECURITY_PROTOCOL={settings.security_protocol} needs HUIYAN_KAFKA_USERNAME"
            )
        password(settings)
    if not uses_tls(settings) and (settings.ssl_cafile or settings.ssl_certfile):
        raise KafkaSecurityError(
            "HUIYAN_KAFKA_CA_FILE / HUIYAN_KAFKA_CERT_FILE are set but HUIYAN_KAFKA_SECURITY_PROTOCOL is "
            f"{settings.security_protocol}, which does not use TLS: set SASL_SSL or SSL"
        )
    if bool(settings.ssl_certfile) != bool(settings.ssl_keyfile):
        raise KafkaSecurityError("HUIYAN_KAFKA_CERT_FILE and HUIYAN_KAFKA_KEY_FILE go together")
    for name, path in (
        ("HUIYAN_KAFKA_CA_FILE", settings.ssl_cafile),
        ("HUIYAN_KAFKA_CERT_FILE", settings.ssl_certfile),
        ("HUIYAN_KAFKA_KEY_FILE", settings.ssl_keyfile),
    ):
        if path and not Path(path).is_file():
            raise KafkaSecurityError(f"{name}: no such file: {path}")


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """A client TLS context that verifies the broker's certificate and host name; None without TLS."""
    if not uses_tls(settings):
        return None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.ssl_cafile or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.ssl_certfile:
        context.load_cert_chain(settings.ssl_certfile, settings.ssl_keyfile or None)
    return context


def kafka_python_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for kafka-python's ``KafkaProducer``, ``KafkaConsumer`` and ``KafkaAdminClient``."""
    options = _client_options(settings)
    # Reconnect at least once a second (the Java client's default), not kafka-python's backoff of up to
    # 30 s. A broker that refuses a SCRAM login mostly closes the connection before the client reads the
    # refusal; with the long backoff a 30 s bootstrap made as few as nine tries and, in one run of three,
    # logged no refusal at all, so `huiyan` reported "did not answer" instead of the refused login.
    options["reconnect_backoff_max_ms"] = 1000
    return options


def _client_options(settings: Settings) -> dict[str, Any]:
    check(settings)
    options: dict[str, Any] = {"security_protocol": settings.security_protocol}
    if uses_tls(settings):
        options["ssl_context"] = ssl_context(settings)
    if uses_sasl(settings):
        options |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": settings.sasl_username,
            "sasl_plain_password": password(settings),
        }
    return options


def aiokafka_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for aiokafka's clients (they take the same names as kafka-python's)."""
    return _client_options(settings)


def faust_options(settings: Settings) -> dict[str, Any]:
    """``broker_credentials`` (and nothing else) for ``faust.App``; empty for PLAINTEXT."""
    check(settings)
    import faust

    context = ssl_context(settings)
    if uses_sasl(settings):
        credentials: Any = faust.SASLCredentials(
            username=settings.sasl_username,
            password=password(settings),
            ssl_context=context,
            mechanism=settings.sasl_mechanism,
        )
        return {"broker_credentials": credentials}
    if context is not None:
        return {"broker_credentials": faust.SSLCredentials(context)}
    return {}


def librdkafka_options(settings: Settings) -> dict[str, Any]:
    """Configuration entries for confluent-kafka (librdkafka) clients."""
    check(settings)
    options: dict[str, Any] = {"security.protocol": settings.security_protocol.lower()}
    if uses_tls(settings):
        options["ssl.endpoint.identification.algorithm"] = "https"
        if settings.ssl_cafile:
            options["ssl.ca.location"] = settings.ssl_cafile
        if settings.ssl_certfile:
            options |= {
                "ssl.certificate.location": settings.ssl_certfile,
                "ssl.key.location": settings.ssl_keyfile,
            }
    if uses_sasl(settings):
        options |= {
            "sasl.mechanism": settings.sasl_mechanism,
            "sasl.username": settings.sasl_username,
            "sasl.password": password(settings),
        }
    return options
