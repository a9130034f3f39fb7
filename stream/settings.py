"""Huiyan's configuration: every setting in one place, with its environment variable, default and meaning.

Settings are read from ``HUIYAN_*`` environment variables once, at the edge (CLI), and passed down as a
frozen :class:`Settings`. The README's configuration table is generated from :data:`SETTINGS`
(``huiyan settings --markdown``) and a test keeps the two equal. This module must not import Faust.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    env: str
    default: Any
    parse: Callable[[str], Any]
    help: str


def _bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_SSL", "SASL_PLAINTEXT")
# A content record may exceed its event by this much (key, headers, record batch framing).
EVENT_RECORD_HEADROOM = 16_384
# A dead letter adds headers (reason, detail up to 1,000 bytes, source, hash) to the original.
DEAD_LETTER_HEADROOM = 65_536
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(f"must be positive: {value!r}")
    return number


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "broker",
        "HUIYAN_BROKER",
        "kafka://127.0.0.1:19092",
        str,
        "Kafka bootstrap servers as a Faust URL (`kafka://host:port`; several separated by `;`).",
    ),
    Setting(
        "security_protocol",
        "HUIYAN_KAFKA_SECURITY_PROTOCOL",
        "PLAINTEXT",
        lambda v: _choice(v.upper(), SECURITY_PROTOCOLS),
        "How every Huiyan client connects to Kafka: `PLAINTEXT`, `SSL` (TLS), `SASL_SSL` (TLS and a SASL "
        "login, the secure choice) or `SASL_PLAINTEXT`. docs/security.md explains each.",
    ),
    Setting(
        "sasl_mechanism",
        "HUIYAN_KAFKA_SASL_MECHANISM",
        "SCRAM-SHA-512",
        lambda v: _choice(v.upper(), SASL_MECHANISMS),
        "SASL mechanism with `SASL_*` protocols: `SCRAM-SHA-512`, `SCRAM-SHA-256` or `PLAIN`.",
    ),
    Setting(
        "sasl_username",
        "HUIYAN_KAFKA_USERNAME",
        "",
        str,
        "SASL user name (the Kafka principal `User:<name>` that ACLs name); required with `SASL_*`.",
    ),
    Setting(
        "sasl_password",
        "HUIYAN_KAFKA_PASSWORD",
        "",
        str,
        "SASL password. Prefer `HUIYAN_KAFKA_PASSWORD_FILE`: a process's environment can be read by "
        "its user.",
    ),
    Setting(
        "sasl_password_file",
        "HUIYAN_KAFKA_PASSWORD_FILE",
        "",
        str,
        "File holding the SASL password (a trailing newline is ignored); used when `HUIYAN_KAFKA_PASSWORD` "
        "is empty.",
    ),
    Setting(
        "ssl_cafile",
        "HUIYAN_KAFKA_CA_FILE",
        "",
        str,
        "PEM file of the CA that signed the brokers' certificates, with `SSL`/`SASL_SSL`; empty: the "
        "system's CAs. Brokers' host names are always verified.",
    ),
    Setting(
        "ssl_certfile",
        "HUIYAN_KAFKA_CERT_FILE",
        "",
        str,
        "PEM client certificate, for brokers that require TLS client authentication (optional).",
    ),
    Setting(
        "ssl_keyfile",
        "HUIYAN_KAFKA_KEY_FILE",
        "",
        str,
        "PEM private key of `HUIYAN_KAFKA_CERT_FILE`.",
    ),
    Setting(
        "app_id",
        "HUIYAN_APP_ID",
        "huiyan",
        str,
        "Faust application id, also the Kafka consumer group shared by all workers.",
    ),
    Setting(
        "content_topic",
        "HUIYAN_CONTENT_TOPIC",
        "huiyan.content",
        str,
        "Topic of generated-content events (input).",
    ),
    Setting(
        "decision_topic",
        "HUIYAN_DECISION_TOPIC",
        "huiyan.decisions",
        str,
        "Topic of decisions (output), keyed by `content_id`.",
    ),
    Setting(
        "dead_letter_topic",
        "HUIYAN_DEAD_LETTER_TOPIC",
        "huiyan.dead-letter",
        str,
        "Topic of rejected events: original bytes, reason code in headers.",
    ),
    Setting(
        "policy_topic",
        "HUIYAN_POLICY_TOPIC",
        "huiyan.policies",
        str,
        "Compacted topic of pushed policies (`huiyan policy push`); workers apply the latest within seconds.",
    ),
    Setting(
        "shadow_decision_topic",
        "HUIYAN_SHADOW_DECISION_TOPIC",
        "huiyan.decisions.shadow",
        str,
        "Topic of the shadow policy's decisions; they never act (`huiyan shadow report` compares them).",
    ),
    Setting(
        "strike_topic",
        "HUIYAN_STRIKE_TOPIC",
        "huiyan.strikes",
        str,
        "Topic of strikes against accounts (the policy's `strikes` rules), keyed by tenant and account.",
    ),
    Setting(
        "topic_partitions",
        "HUIYAN_TOPIC_PARTITIONS",
        4,
        _positive_int,
        "Partitions of the content, decision, dead-letter, shadow and strike topics when Huiyan creates "
        "them (the policy topic has one); workers in one group share them.",
    ),
    Setting(
        "topic_replication",
        "HUIYAN_TOPIC_REPLICATION",
        1,
        _positive_int,
        "Replication factor of the topics when Huiyan creates them.",
    ),
    Setting(
        "batch_max",
        "HUIYAN_BATCH_MAX",
        64,
        _positive_int,
        "Most events decided together in one batch (`stream.take`).",
    ),
    Setting(
        "batch_within_ms",
        "HUIYAN_BATCH_WITHIN_MS",
        20,
        _positive_int,
        "Longest wait, in milliseconds, for a batch to fill before it is decided.",
    ),
    Setting(
        "delivery_in_flight",
        "HUIYAN_DELIVERY_IN_FLIGHT",
        2,
        _positive_int,
        "Batches whose decisions may await the broker's acknowledgement while the next batch is decided; "
        "1 decides and delivers strictly in turn (benchmarks/RESULTS.md compares them).",
    ),
    Setting(
        "fetch_min_bytes",
        "HUIYAN_FETCH_MIN_BYTES",
        65536,
        _positive_int,
        "Bytes of events the broker gathers before it answers a worker's fetch, unless "
        "`HUIYAN_FETCH_MAX_WAIT_MS` passes first. With 1 (Kafka's default) every arriving event costs a "
        "fetch request, and below the maximum rate the broker needed up to 0.6 of a core "
        "(benchmarks/RESULTS.md).",
    ),
    Setting(
        "fetch_max_wait_ms",
        "HUIYAN_FETCH_MAX_WAIT_MS",
        100,
        _positive_int,
        "Longest wait, in milliseconds, of a worker's fetch for `HUIYAN_FETCH_MIN_BYTES`: below the "
        "maximum rate it adds up to this much to an event's latency and makes batches larger.",
    ),
    Setting(
        "session_timeout_s",
        "HUIYAN_SESSION_TIMEOUT_S",
        15,
        _positive_int,
        "Seconds without a heartbeat before the group hands a dead worker's partitions to the others. "
        "Inference runs on its own thread and never delays heartbeats, so this can stay short.",
    ),
    Setting(
        "shutdown_timeout_s",
        "HUIYAN_SHUTDOWN_TIMEOUT_S",
        30,
        _positive_int,
        "Seconds a stopping worker may take (finishing and acknowledging the batch in hand) before it "
        "exits anyway, with status 70; its unacknowledged events go to another worker.",
    ),
    Setting(
        "max_event_bytes",
        "HUIYAN_MAX_EVENT_BYTES",
        1_048_576,
        _positive_int,
        "Largest event accepted, in bytes. `huiyan produce` refuses a larger one, the content topic is "
        "created to refuse it (`max.message.bytes` 16 KiB above, for key and headers), and a worker "
        "dead-letters one that got through as `oversize`.",
    ),
    Setting(
        "kafka_max_message_bytes",
        "HUIYAN_KAFKA_MAX_MESSAGE_BYTES",
        2_097_152,
        _positive_int,
        "The brokers' `message.max.bytes` (`deploy/kafka/broker.sh` writes this value): the request limit "
        "of every Huiyan producer. It must exceed `HUIYAN_MAX_EVENT_BYTES` by at least 64 KiB, room for a "
        "dead letter's headers; docs/security.md has the table of limits.",
    ),
    Setting(
        "max_media_bytes",
        "HUIYAN_MAX_MEDIA_BYTES",
        786_432,
        _positive_int,
        "Largest inline media accepted after base64 decoding, in bytes.",
    ),
    Setting(
        "policy_file",
        "HUIYAN_POLICY_FILE",
        "",
        str,
        "Policy YAML file a worker starts with, until a policy is pushed to `HUIYAN_POLICY_TOPIC`; empty "
        "means the bundled `stream/policies/default.yaml`.",
    ),
    Setting(
        "platform_code",
        "HUIYAN_PLATFORM_CODE",
        "",
        str,
        "This platform's provider code, written as `ContentPropagator` in propagator metadata "
        "(Labeling Measures Art. 6).",
    ),
    Setting(
        "label_signing_keys",
        "HUIYAN_LABEL_SIGNING_KEYS",
        "",
        str,
        "JSON file mapping producer codes to SM2 public keys (hex); label signatures (TC260-PG-202511A) "
        "are verified against these only. Empty: signatures are reported as unverified.",
    ),
    Setting(
        "c2pa_trust_anchors",
        "HUIYAN_C2PA_TRUST_ANCHORS",
        "",
        str,
        "PEM file of C2PA signers to trust. Empty: C2PA manifests are checked for integrity, their "
        "signers reported as untrusted.",
    ),
    Setting(
        "web_host", "HUIYAN_WEB_HOST", "127.0.0.1", str, "Address of the worker's web server (`/metrics`)."
    ),
    Setting(
        "web_port",
        "HUIYAN_WEB_PORT",
        6066,
        _positive_int,
        "Port of the worker's web server (`/metrics`); give each worker on a host its own.",
    ),
    Setting(
        "data_dir",
        "HUIYAN_DATA_DIR",
        ".huiyan",
        str,
        "Worker state directory (Faust `datadir`); give each worker on a host its own.",
    ),
    Setting("log_level", "HUIYAN_LOG_LEVEL", "info", str, "Worker log level."),
    Setting(
        "metrics_enabled",
        "HUIYAN_METRICS",
        True,
        _bool,
        "Expose Prometheus metrics on `/metrics` of the web server.",
    ),
    Setting(
        "classifiers_enabled",
        "HUIYAN_CLASSIFIERS",
        True,
        _bool,
        "Score texts with the rumor / vulgar / impersonation classifier; off leaves only the label rules.",
    ),
    Setting(
        "model_dir",
        "HUIYAN_MODEL_DIR",
        "",
        str,
        "Classifier model directory; empty means the bundled `classifiers/models/text-v4`.",
    ),
    Setting(
        "classifier_factory",
        "HUIYAN_CLASSIFIER_FACTORY",
        "",
        str,
        "`module:callable` that returns the text classifier (or a list of them) to serve instead of the "
        "bundled model, called once per process with the settings; each needs `name`, `version`, "
        "`categories` and `predict_detailed(texts)`. Empty: the bundled model.",
    ),
    Setting(
        "classifier_timeout_ms",
        "HUIYAN_CLASSIFIER_TIMEOUT_MS",
        10_000,
        _positive_int,
        "A classifier call on one batch that takes longer is abandoned; the batch's texts get the "
        "policy's `classifier_failure` action (fail closed to `flag`).",
    ),
    Setting(
        "inference_threads",
        "HUIYAN_INFERENCE_THREADS",
        1,
        _positive_int,
        "ONNX Runtime threads per worker. One thread per worker process, one worker per core, is fastest "
        "on small CPUs (perf.md).",
    ),
)


@dataclass(frozen=True, slots=True)
class Settings:
    broker: str
    security_protocol: str
    sasl_mechanism: str
    sasl_username: str
    sasl_password: str = field(repr=False)
    sasl_password_file: str
    ssl_cafile: str
    ssl_certfile: str
    ssl_keyfile: str
    app_id: str
    content_topic: str
    decision_topic: str
    dead_letter_topic: str
    policy_topic: str
    shadow_decision_topic: str
    strike_topic: str
    topic_partitions: int
    topic_replication: int
    batch_max: int
    batch_within_ms: int
    delivery_in_flight: int
    fetch_min_bytes: int
    fetch_max_wait_ms: int
    session_timeout_s: int
    shutdown_timeout_s: int
    max_event_bytes: int
    kafka_max_message_bytes: int
    max_media_bytes: int
    policy_file: str
    platform_code: str
    label_signing_keys: str
    c2pa_trust_anchors: str
    web_host: str
    web_port: int
    data_dir: str
    log_level: str
    metrics_enabled: bool
    classifiers_enabled: bool
    model_dir: str
    classifier_factory: str
    classifier_timeout_ms: int
    inference_threads: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Reads every setting from the environment; keyword overrides win (CLI options)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            if setting.name in overrides and overrides[setting.name] is not None:
                values[setting.name] = overrides[setting.name]
            elif setting.env in env:
                try:
                    values[setting.name] = setting.parse(env[setting.env])
                except ValueError as exc:
                    raise ValueError(f"{setting.env}: {exc}") from exc
            else:
                values[setting.name] = setting.default
        settings = cls(**values)
        if settings.max_event_bytes + DEAD_LETTER_HEADROOM > settings.kafka_max_message_bytes:
            raise ValueError(
                f"HUIYAN_MAX_EVENT_BYTES ({settings.max_event_bytes}) must be at least "
                f"{DEAD_LETTER_HEADROOM} below HUIYAN_KAFKA_MAX_MESSAGE_BYTES "
                f"({settings.kafka_max_message_bytes}), the brokers' limit: an event must fit in a dead "
                "letter with its headers"
            )
        return settings

    @property
    def content_topic_max_bytes(self) -> int:
        """The content topic's ``max.message.bytes``: an event at the limit, its key and headers."""
        return self.max_event_bytes + EVENT_RECORD_HEADROOM

    @property
    def dead_letter_max_bytes(self) -> int:
        """The largest original a dead letter copies whole (a larger one is cut, and says so)."""
        return self.kafka_max_message_bytes - DEAD_LETTER_HEADROOM

    @property
    def bootstrap_servers(self) -> list[str]:
        """The broker URL as plain ``host:port`` strings for Kafka clients."""
        return [part.split("://", 1)[-1] for part in self.broker.split(";") if part]


def markdown_table() -> str:
    """The README's configuration table."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default != "" else "(empty)"
        lines.append(f"| `{setting.env}` | {default} | {setting.help} |")
    return "\n".join(lines)


assert [s.name for s in SETTINGS] == [f.name for f in fields(Settings)], "SETTINGS and Settings disagree"
