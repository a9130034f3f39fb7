"""Huiyan's configuration: every setting in one place, with its environment variable, default and meaning.

Settings are read from ``HUIYAN_*`` environment variables once, at the edge (CLI), and passed down as a
frozen :class:`Settings`. The configuration table in docs/configuration.md is generated from :data:`SETTINGS`
(``huiyan settings --markdown``) and a test keeps the two equal. This module must not import Faust.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final


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


# Room in an event for its required fields beside its base64 media (identifiers, labels, producer, a
# short text). The defaults leave 64 KiB.
MEDIA_EVENT_HEADROOM: Final = 4_096


def media_event_bytes(media_bytes: int) -> int:
    """The size of an event carrying ``media_bytes`` of media as base64, with room for its other fields."""
    return 4 * -(-media_bytes // 3) + MEDIA_EVENT_HEADROOM


def setting(env: str, default: Any, help: str, parse: Callable[[str], Any] = str, repr: bool = True) -> Any:
    """One setting of :class:`Settings`: the field's default, with its variable, parser and help."""
    return field(default=default, repr=repr, metadata={"env": env, "parse": parse, "help": help})


def _choice(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {', '.join(allowed)}")
    return value


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(f"must be positive: {value!r}")
    return number


@dataclass(frozen=True, slots=True)
class Settings:
    """Every setting, declared once: its field, type, environment variable, default, parser and help."""

    broker: str = setting(
        "HUIYAN_BROKER",
        "kafka://127.0.0.1:19092",
        "Kafka bootstrap servers as a Faust URL (`kafka://host:port`; several separated by `;`).",
    )
    security_protocol: str = setting(
        "HUIYAN_KAFKA_SECURITY_PROTOCOL",
        "PLAINTEXT",
        "How every Huiyan client connects to Kafka: `PLAINTEXT`, `SSL` (TLS), `SASL_SSL` (TLS and a SASL "
        "login, the secure choice) or `SASL_PLAINTEXT`. docs/security.md explains each.",
        parse=lambda v: _choice(v.upper(), SECURITY_PROTOCOLS),
    )
    sasl_mechanism: str = setting(
        "HUIYAN_KAFKA_SASL_MECHANISM",
        "SCRAM-SHA-512",
        "SASL mechanism with `SASL_*` protocols: `SCRAM-SHA-512`, `SCRAM-SHA-256` or `PLAIN`.",
        parse=lambda v: _choice(v.upper(), SASL_MECHANISMS),
    )
    sasl_username: str = setting(
        "HUIYAN_KAFKA_USERNAME",
        "",
        "SASL user name (the Kafka principal `User:<name>` that ACLs name); required with `SASL_*`.",
    )
    sasl_password: str = setting(
        "HUIYAN_KAFKA_PASSWORD",
        "",
        "SASL password. Prefer `HUIYAN_KAFKA_PASSWORD_FILE`: a process's environment can be read by "
        "its user.",
        repr=False,
    )
    sasl_password_file: str = setting(
        "HUIYAN_KAFKA_PASSWORD_FILE",
        "",
        "File holding the SASL password (a trailing newline is ignored); used when `HUIYAN_KAFKA_PASSWORD` "
        "is empty.",
    )
    ssl_cafile: str = setting(
        "HUIYAN_KAFKA_CA_FILE",
        "",
        "PEM file of the CA that signed the brokers' certificates, with `SSL`/`SASL_SSL`; empty: the "
        "system's CAs. Brokers' host names are always verified.",
    )
    ssl_certfile: str = setting(
        "HUIYAN_KAFKA_CERT_FILE",
        "",
        "PEM client certificate, for brokers that require TLS client authentication (optional).",
    )
    ssl_keyfile: str = setting(
        "HUIYAN_KAFKA_KEY_FILE",
        "",
        "PEM private key of `HUIYAN_KAFKA_CERT_FILE`.",
    )
    app_id: str = setting(
        "HUIYAN_APP_ID",
        "huiyan",
        "Faust application id, also the Kafka consumer group shared by all workers.",
    )
    content_topic: str = setting(
        "HUIYAN_CONTENT_TOPIC",
        "huiyan.content",
        "Topic of generated-content events (input).",
    )
    decision_topic: str = setting(
        "HUIYAN_DECISION_TOPIC",
        "huiyan.decisions",
        "Topic of decisions (output), keyed by `content_id`.",
    )
    dead_letter_topic: str = setting(
        "HUIYAN_DEAD_LETTER_TOPIC",
        "huiyan.dead-letter",
        "Topic of rejected events: original bytes, reason code in headers.",
    )
    policy_topic: str = setting(
        "HUIYAN_POLICY_TOPIC",
        "huiyan.policies",
        "Compacted topic of pushed policies (`huiyan policy push`); workers apply the latest within seconds.",
    )
    shadow_decision_topic: str = setting(
        "HUIYAN_SHADOW_DECISION_TOPIC",
        "huiyan.decisions.shadow",
        "Topic of the shadow policy's decisions; they never act (`huiyan shadow report` compares them).",
    )
    strike_topic: str = setting(
        "HUIYAN_STRIKE_TOPIC",
        "huiyan.strikes",
        "Topic of strikes against accounts (the policy's `strikes` rules), keyed by tenant and account.",
    )
    review_topic: str = setting(
        "HUIYAN_REVIEW_TOPIC",
        "huiyan.reviews",
        "Topic of reviewers' verdicts on flagged decisions (for a platform's case system, Coop, Ozone).",
    )
    topic_partitions: int = setting(
        "HUIYAN_TOPIC_PARTITIONS",
        4,
        "Partitions of the content, decision, dead-letter, shadow and strike topics when Huiyan creates "
        "them (the policy topic has one); workers in one group share them.",
        parse=_positive_int,
    )
    topic_replication: int = setting(
        "HUIYAN_TOPIC_REPLICATION",
        1,
        "Replication factor of the topics when Huiyan creates them.",
        parse=_positive_int,
    )
    batch_max: int = setting(
        "HUIYAN_BATCH_MAX",
        64,
        "Most events decided together in one batch (`stream.take`).",
        parse=_positive_int,
    )
    batch_within_ms: int = setting(
        "HUIYAN_BATCH_WITHIN_MS",
        20,
        "Longest wait, in milliseconds, for a batch to fill before it is decided.",
        parse=_positive_int,
    )
    delivery_in_flight: int = setting(
        "HUIYAN_DELIVERY_IN_FLIGHT",
        2,
        "Batches whose decisions may await the broker's acknowledgement while the next batch is decided; "
        "1 decides and delivers strictly in turn (benchmarks/RESULTS.md compares them).",
        parse=_positive_int,
    )
    fetch_min_bytes: int = setting(
        "HUIYAN_FETCH_MIN_BYTES",
        65536,
        "Bytes of events the broker gathers before it answers a worker's fetch, unless "
        "`HUIYAN_FETCH_MAX_WAIT_MS` passes first. With 1 (Kafka's default) every arriving event costs a "
        "fetch request, and below the maximum rate the broker needed up to 0.6 of a core "
        "(benchmarks/RESULTS.md).",
        parse=_positive_int,
    )
    fetch_max_wait_ms: int = setting(
        "HUIYAN_FETCH_MAX_WAIT_MS",
        100,
        "Longest wait, in milliseconds, of a worker's fetch for `HUIYAN_FETCH_MIN_BYTES`: below the "
        "maximum rate it adds up to this much to an event's latency and makes batches larger.",
        parse=_positive_int,
    )
    session_timeout_s: int = setting(
        "HUIYAN_SESSION_TIMEOUT_S",
        15,
        "Seconds without a heartbeat before the group hands a dead worker's partitions to the others. "
        "Inference runs on its own thread and never delays heartbeats, so this can stay short.",
        parse=_positive_int,
    )
    shutdown_timeout_s: int = setting(
        "HUIYAN_SHUTDOWN_TIMEOUT_S",
        30,
        "Seconds a stopping worker may take (finishing and acknowledging the batch in hand) before it "
        "exits anyway, with status 70; its unacknowledged events go to another worker.",
        parse=_positive_int,
    )
    max_event_bytes: int = setting(
        "HUIYAN_MAX_EVENT_BYTES",
        1_048_576,
        "Largest event accepted, in bytes. `huiyan produce` refuses a larger one, the content topic is "
        "created to refuse it (`max.message.bytes` 16 KiB above, for key and headers), and a worker "
        "dead-letters one that got through as `oversize`.",
        parse=_positive_int,
    )
    kafka_max_message_bytes: int = setting(
        "HUIYAN_KAFKA_MAX_MESSAGE_BYTES",
        2_097_152,
        "The brokers' `message.max.bytes` (`deploy/kafka/broker.sh` writes this value): the request limit "
        "of every Huiyan producer. It must exceed `HUIYAN_MAX_EVENT_BYTES` by at least 64 KiB, room for a "
        "dead letter's headers; docs/security.md has the table of limits.",
        parse=_positive_int,
    )
    max_media_bytes: int = setting(
        "HUIYAN_MAX_MEDIA_BYTES",
        737_280,
        "Largest inline media accepted after base64 decoding, in bytes (720 KiB). Base64 grows it by a "
        "third: an item at the default limit makes an event of 960 KiB, 64 KiB under the default "
        "`HUIYAN_MAX_EVENT_BYTES`. Start-up refuses a media limit whose base64, with 4 KiB for the "
        "event's other fields, would not fit the event limit.",
        parse=_positive_int,
    )
    policy_file: str = setting(
        "HUIYAN_POLICY_FILE",
        "",
        "Policy YAML file a worker starts with, until a policy is pushed to `HUIYAN_POLICY_TOPIC`; empty "
        "means the bundled `stream/policies/default.yaml`.",
    )
    platform_code: str = setting(
        "HUIYAN_PLATFORM_CODE",
        "",
        "This platform's provider code, written as `ContentPropagator` in propagator metadata "
        "(Labeling Measures Art. 6).",
    )
    label_signing_keys: str = setting(
        "HUIYAN_LABEL_SIGNING_KEYS",
        "",
        "JSON file mapping producer codes to SM2 public keys (hex); label signatures (TC260-PG-202511A) "
        "are verified against these only. Empty: signatures are reported as unverified.",
    )
    c2pa_trust_anchors: str = setting(
        "HUIYAN_C2PA_TRUST_ANCHORS",
        "",
        "PEM file of C2PA signers to trust. Empty: C2PA manifests are checked for integrity, their "
        "signers reported as untrusted.",
    )
    web_host: str = setting(
        "HUIYAN_WEB_HOST",
        "127.0.0.1",
        "Address of the worker's web server (`/metrics`).",
    )
    web_port: int = setting(
        "HUIYAN_WEB_PORT",
        6066,
        "Port of the worker's web server (`/metrics`); give each worker on a host its own.",
        parse=_positive_int,
    )
    data_dir: str = setting(
        "HUIYAN_DATA_DIR",
        ".huiyan",
        "Worker state directory (Faust `datadir`); give each worker on a host its own.",
    )
    log_level: str = setting(
        "HUIYAN_LOG_LEVEL",
        "info",
        "Worker log level.",
    )
    metrics_enabled: bool = setting(
        "HUIYAN_METRICS",
        True,
        "Expose Prometheus metrics on `/metrics` of the web server.",
        parse=_bool,
    )
    lag_interval_s: int = setting(
        "HUIYAN_LAG_INTERVAL_S",
        10,
        "Seconds between a worker's reads of its group's consumer lag on the content topic (end offset "
        "minus committed offset of every partition, as the broker has them): `huiyan_consumer_lag`.",
        parse=_positive_int,
    )
    lag_port: int = setting(
        "HUIYAN_LAG_PORT",
        6067,
        "Port of `huiyan lag --serve`, which serves the group's lag on `/metrics` (host: "
        "`HUIYAN_WEB_HOST`) from a process of its own, so the lag of a stopped group is still seen.",
        parse=_positive_int,
    )
    metrics_tenants: tuple[str, ...] = setting(
        "HUIYAN_METRICS_TENANTS",
        (),
        "Comma-separated tenants that get their own `tenant` label in the per-tenant metrics, besides "
        "the tenants the live policy's overrides name; every other tenant counts as `other` (a metric "
        "label never takes producer-supplied text unbounded).",
        parse=lambda v: tuple(t.strip() for t in v.split(",") if t.strip()),
    )
    classifiers_enabled: bool = setting(
        "HUIYAN_CLASSIFIERS",
        True,
        "Score texts with the rumor / vulgar / impersonation classifier; off leaves only the label rules.",
        parse=_bool,
    )
    model_dir: str = setting(
        "HUIYAN_MODEL_DIR",
        "",
        "Classifier model directory; empty means the bundled `classifiers/models/text-v4`.",
    )
    classifier_factory: str = setting(
        "HUIYAN_CLASSIFIER_FACTORY",
        "",
        "`module:callable` that returns the text classifier (or a list of them) to serve instead of the "
        "bundled model, called once per process with the settings; each needs `name`, `version`, "
        "`categories` and `predict_detailed(texts)`. Empty: the bundled model.",
    )
    classifier_timeout_ms: int = setting(
        "HUIYAN_CLASSIFIER_TIMEOUT_MS",
        10_000,
        "A classifier call on one batch that takes longer is abandoned; the batch's texts get the "
        "policy's `classifier_failure` action (fail closed to `flag`).",
        parse=_positive_int,
    )
    inference_threads: int = setting(
        "HUIYAN_INFERENCE_THREADS",
        1,
        "ONNX Runtime threads per worker. One thread per worker process, one worker per core, is fastest "
        "on small CPUs (benchmarks/RESULTS.md).",
        parse=_positive_int,
    )
    pixel_checks: bool = setting(
        "HUIYAN_PIXEL_CHECKS",
        True,
        "Look for the visible label in the pixels of image and video events (OCR, GB 45438-2025 5.2, 5.4); "
        "off leaves the explicit label judged as declared.",
        parse=_bool,
    )
    pixel_threads: int = setting(
        "HUIYAN_PIXEL_THREADS",
        1,
        "Threads that decode media and run OCR, apart from the thread that scores texts.",
        parse=_positive_int,
    )
    pixel_queue: int = setting(
        "HUIYAN_PIXEL_QUEUE",
        4,
        "Pixel reads that may be pending at once in a worker or `huiyan serve`; a media event beyond them "
        "is decided without one (`explicit_label_unseen`, explicit verdict `inconclusive`). `huiyan "
        "moderate` waits for every read.",
        parse=_positive_int,
    )
    pixel_timeout_ms: int = setting(
        "HUIYAN_PIXEL_TIMEOUT_MS",
        5_000,
        "How long a batch waits for its pixel reads, from their start; a read not done by then leaves its "
        "event's explicit verdict `inconclusive`. `huiyan moderate` waits for every read.",
        parse=_positive_int,
    )
    api_host: str = setting(
        "HUIYAN_API_HOST",
        "127.0.0.1",
        "Address `huiyan serve` listens on. Keep the loopback default and put TLS in front with a reverse "
        "proxy (docs/api.md).",
    )
    api_port: int = setting("HUIYAN_API_PORT", 8080, "Port of `huiyan serve`.", parse=_positive_int)
    api_keys_file: str = setting(
        "HUIYAN_API_KEYS_FILE",
        ".huiyan/api-keys.json",
        "API keys of `huiyan serve`, stored as SHA-256 hashes with their tenant (`huiyan api-key add`); "
        "re-read within a second of a change, so keys rotate without a restart.",
    )
    api_lanes: int = setting(
        "HUIYAN_API_LANES",
        2,
        "Model sessions `huiyan serve` runs side by side, each on its own thread (one per core is "
        "fastest); every lane shares the policy, strikes, limits and idempotency.",
        parse=_positive_int,
    )
    api_max_batch_events: int = setting(
        "HUIYAN_API_MAX_BATCH_EVENTS",
        100,
        "Most events in one `POST /v1/moderate/batch`.",
        parse=_positive_int,
    )
    api_batch_window_ms: int = setting(
        "HUIYAN_API_BATCH_WINDOW_MS",
        3,
        "How long the API waits for concurrent requests to score them in one model call.",
        parse=_positive_int,
    )
    api_rate_per_tenant: int = setting(
        "HUIYAN_API_RATE_PER_TENANT",
        500,
        "Events per second a tenant may send to the API (bursts of twice that); more get 429 with "
        "`Retry-After`.",
        parse=_positive_int,
    )
    api_max_pending: int = setting(
        "HUIYAN_API_MAX_PENDING",
        256,
        "Events the API holds waiting for the model; past this it sheds load with 503 and `Retry-After` "
        "instead of letting latency grow.",
        parse=_positive_int,
    )
    api_idempotency_s: int = setting(
        "HUIYAN_API_IDEMPOTENCY_S",
        600,
        "Seconds within which the same `event_id` from the same tenant gets the first decision again "
        "(no second decision on the topic, no second strike).",
        parse=_positive_int,
    )
    api_spool_dir: str = setting(
        "HUIYAN_API_SPOOL_DIR",
        ".huiyan/spool",
        "Where the API keeps the decisions it could not deliver to Kafka until the broker is back.",
    )
    api_spool_max_bytes: int = setting(
        "HUIYAN_API_SPOOL_MAX_BYTES",
        256 * 1024 * 1024,
        "Largest spool; when it is full the API answers 503 (fail closed: a decision it cannot record "
        "is not given).",
        parse=_positive_int,
    )

    console_host: str = setting("HUIYAN_CONSOLE_HOST", "127.0.0.1", "Address `huiyan console` listens on.")
    console_port: int = setting("HUIYAN_CONSOLE_PORT", 8090, "Port of `huiyan console`.", parse=_positive_int)
    console_users_file: str = setting(
        "HUIYAN_CONSOLE_USERS_FILE",
        ".huiyan/console-users.json",
        "Console users with their roles and scrypt password hashes (`huiyan console-user add`).",
    )
    console_candidates_dir: str = setting(
        "HUIYAN_CONSOLE_CANDIDATES_DIR",
        ".huiyan/candidates",
        "Where the console saves candidate policies made on its thresholds page.",
    )
    store_url: str = setting(
        "HUIYAN_STORE_URL",
        "sqlite:///.huiyan/store.db",
        "Where `huiyan store` keeps decisions: `sqlite:///FILE` (one file, no server) or "
        "`postgresql://user@host:port/db` (the `postgres` extra).",
    )
    store_retention_days: int = setting(
        "HUIYAN_STORE_RETENTION_DAYS",
        180,
        "Days the store keeps decisions, shadow decisions and dead letters; whole days older are dropped. "
        "At least 180 (the logs the Labeling Measures and the Cybersecurity Law require).",
        parse=_positive_int,
    )

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
        if (needed := media_event_bytes(settings.max_media_bytes)) > settings.max_event_bytes:
            raise ValueError(
                f"HUIYAN_MAX_MEDIA_BYTES ({settings.max_media_bytes}) does not fit HUIYAN_MAX_EVENT_BYTES "
                f"({settings.max_event_bytes}): base64 makes a media item at the limit "
                f"{needed - MEDIA_EVENT_HEADROOM} bytes, and its event needs "
                f"{MEDIA_EVENT_HEADROOM} more for its other fields; lower the media limit to at most "
                f"{(settings.max_event_bytes - MEDIA_EVENT_HEADROOM) // 4 * 3} or raise the event limit"
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
    """The configuration table of docs/configuration.md."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default not in ("", ()) else "(empty)"
        lines.append(f"| `{setting.env}` | {default} | {setting.help} |")
    return "\n".join(lines)


# The settings in declaration order, as the CLI and the table read them.
SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.metadata["env"], f.default, f.metadata["parse"], f.metadata["help"])
    for f in fields(Settings)
)
