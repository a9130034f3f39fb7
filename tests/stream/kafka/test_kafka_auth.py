"""Security settings reach every Kafka client Huiyan builds, and bad combinations fail with the setting's
name before any connection is tried."""

from __future__ import annotations

import ast
import ssl
from pathlib import Path

import pytest

from stream.kafka.acls import grants
from stream.kafka.auth import (
    KafkaSecurityError,
    aiokafka_options,
    faust_options,
    kafka_python_options,
    librdkafka_options,
    principal,
)
from stream.settings import Settings
from tests.fixtures import REPO

STREAM = REPO / "stream"
CLIENTS = {"KafkaProducer", "KafkaConsumer", "KafkaAdminClient", "AIOKafkaConsumer", "AIOKafkaProducer"}


def _settings(**env: str) -> Settings:
    return Settings.from_env(env)


def test_plaintext_is_the_default_and_adds_nothing() -> None:
    settings = _settings()
    assert kafka_python_options(settings) == {
        "security_protocol": "PLAINTEXT",
        "reconnect_backoff_max_ms": 1000,
    }
    assert aiokafka_options(settings) == {"security_protocol": "PLAINTEXT"}  # aiokafka has no such option
    assert faust_options(settings) == {}
    assert principal(settings) is None


def test_sasl_ssl_gives_every_library_the_same_login(tmp_path: Path) -> None:
    password = tmp_path / "pw"
    password.write_text("s3cret-pass\n")
    settings = _settings(
        HUIYAN_KAFKA_SECURITY_PROTOCOL="sasl_ssl",
        HUIYAN_KAFKA_USERNAME="huiyan-worker",
        HUIYAN_KAFKA_PASSWORD_FILE=str(password),
    )
    options = kafka_python_options(settings)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "huiyan-worker",
        "s3cret-pass",
    )
    context = options["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode == ssl.CERT_REQUIRED
    credentials = faust_options(settings)["broker_credentials"]
    assert credentials.username == "huiyan-worker" and credentials.mechanism.value == "SCRAM-SHA-512"
    assert credentials.protocol.value == "SASL_SSL"
    rd = librdkafka_options(settings)
    assert (rd["security.protocol"], rd["sasl.mechanism"], rd["sasl.password"]) == (
        "sasl_ssl",
        "SCRAM-SHA-512",
        "s3cret-pass",
    )
    assert principal(settings) == "User:huiyan-worker"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"HUIYAN_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs HUIYAN_KAFKA_USERNAME"),
        (
            {"HUIYAN_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "HUIYAN_KAFKA_USERNAME": "u"},
            "needs a password",
        ),
        (
            {
                "HUIYAN_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "HUIYAN_KAFKA_USERNAME": "u",
                "HUIYAN_KAFKA_PASSWORD_FILE": "/nonexistent/pw",
            },
            "HUIYAN_KAFKA_PASSWORD_FILE: cannot read it",
        ),
        ({"HUIYAN_KAFKA_CA_FILE": "/etc/hostname"}, "does not use TLS"),
        (
            {"HUIYAN_KAFKA_SECURITY_PROTOCOL": "SSL", "HUIYAN_KAFKA_CA_FILE": "/nonexistent/ca.pem"},
            "HUIYAN_KAFKA_CA_FILE: no such file",
        ),
    ],
)
def test_incomplete_security_settings_fail_naming_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(KafkaSecurityError, match=message):
        kafka_python_options(_settings(**env))


def test_an_unknown_protocol_or_mechanism_is_refused_when_read() -> None:
    with pytest.raises(ValueError, match="HUIYAN_KAFKA_SECURITY_PROTOCOL"):
        _settings(HUIYAN_KAFKA_SECURITY_PROTOCOL="TLS")
    with pytest.raises(ValueError, match="HUIYAN_KAFKA_SASL_MECHANISM"):
        _settings(HUIYAN_KAFKA_SASL_MECHANISM="GSSAPI")


def test_every_kafka_client_in_stream_takes_the_security_options() -> None:
    """A client built without ``**..._options(settings)`` would connect unauthenticated."""
    unguarded = []
    for path in sorted(STREAM.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            # kafka-python and aiokafka clients take **options; librdkafka's Producer a dict with **options.
            spread = any(k.arg is None for k in node.keywords)
            dict_spread = any(isinstance(a, ast.Dict) and None in a.keys for a in node.args)
            librdkafka = name == "Producer" and path.name == "bench.py"
            if (name in CLIENTS and not spread) or (librdkafka and not dict_spread):
                unguarded.append(f"{path.name}:{node.lineno} {name}")
    assert unguarded == []


def test_limits_agree_or_the_settings_are_refused() -> None:
    settings = _settings()
    assert settings.content_topic_max_bytes == settings.max_event_bytes + 16_384
    assert settings.dead_letter_max_bytes == settings.kafka_max_message_bytes - 65_536
    with pytest.raises(ValueError, match=r"HUIYAN_MAX_EVENT_BYTES .* below HUIYAN_KAFKA_MAX_MESSAGE_BYTES"):
        _settings(HUIYAN_MAX_EVENT_BYTES="2097152")


def test_each_role_gets_only_its_own_topics() -> None:
    settings = _settings()
    planned = grants(settings)
    producer = {(g.name, g.operation) for g in planned if g.role == "producer"}
    assert producer == {(settings.content_topic, "WRITE"), (settings.content_topic, "DESCRIBE")}
    writers = {g.name: set() for g in planned}  # type: dict[str, set[str]]
    for g in planned:
        if g.operation == "WRITE":
            writers[g.name].add(g.role)
    assert writers[settings.policy_topic] == {"admin"}
    for topic in (settings.decision_topic, settings.dead_letter_topic, settings.strike_topic):
        assert writers[topic] == {"worker"}
    assert writers[settings.content_topic] == {"producer"}
