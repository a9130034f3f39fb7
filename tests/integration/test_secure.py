"""The whole path on the authenticated broker (SASL_SSL with SCRAM-SHA-512, ACLs; started by the test
command as `HUIYAN_KAFKA_SECURITY=sasl_ssl deploy/kafka/broker.sh start`), set up with docs/security.md's
commands: the operator creates topics and ACLs, a worker decides what a producer sends, a policy
administrator pushes a policy, and the broker refuses a producer's policy push, forged decision and read
of content, and a worker's wrong password with a clear error."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import TopicAuthorizationFailedError

from stream.kafka.auth import kafka_python_options
from stream.kafka.clients import open_reader, read_records
from stream.settings import Settings
from stream.tools.deployment import REPO, isolated_env
from tests.fixtures.events import DISCLOSURE, event_bytes
from tests.fixtures.kafka import Deployment, reachable
from tests.fixtures.kafka import run_huiyan as huiyan

pytestmark = pytest.mark.integration

SECURE_BROKER = os.environ.get("HUIYAN_TEST_SECURE_BROKER", "127.0.0.1:19192")
SECURE_HOME = Path(os.environ.get("HUIYAN_TEST_SECURE_HOME", str(REPO / ".kafka-secure")))


@pytest.fixture(scope="module")
def secure_broker() -> str:
    if not reachable(SECURE_BROKER):
        message = (
            f"no authenticated Kafka broker at {SECURE_BROKER}; run the tests with `make test`, which "
            "starts one (HUIYAN_KAFKA_SECURITY=sasl_ssl deploy/kafka/broker.sh start)"
        )
        if os.environ.get("HUIYAN_REQUIRE_BROKER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return SECURE_BROKER


def as_user(env: dict[str, str], user: str, password_file: Path | None = None) -> dict[str, str]:
    """``env`` logging in as ``user`` with the development broker's CA and that user's password file."""
    return {
        **env,
        "HUIYAN_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "HUIYAN_KAFKA_CA_FILE": str(SECURE_HOME / "tls" / "ca.pem"),
        "HUIYAN_KAFKA_USERNAME": user,
        "HUIYAN_KAFKA_PASSWORD_FILE": str(password_file or SECURE_HOME / "credentials" / f"{user}.password"),
    }


@pytest.fixture
def secured(secure_broker: str, tmp_path: Path) -> Iterator[Deployment]:
    """A deployment on the authenticated broker: topics and ACLs made by the operator (user ``broker``)."""
    base = {**isolated_env(secure_broker, "secure"), "HUIYAN_TOPIC_PARTITIONS": "2"}
    operator = as_user(base, "broker")
    huiyan(operator, "topics")
    huiyan(operator, "acls", "--apply")
    worker_env = as_user(base, "huiyan-worker")
    deployment = Deployment(worker_env, tmp_path, make_topics=False)
    deployment.base_env = base  # type: ignore[attr-defined]
    yield deployment
    deployment.kill_all()


def _event(n: int) -> str:
    text = f"第{n}条：今天天气很好。{DISCLOSURE}"
    return event_bytes(f"c-{n}", text, event_id=f"s-{n}", tenant="t1").decode("utf-8")


def _read(settings: Settings, topic: str, count: int) -> list[bytes]:
    consumer = open_reader(settings, [topic], from_beginning=True)
    try:
        return [r.value for r in read_records(consumer, idle_timeout_s=20, max_records=count)]
    finally:
        consumer.close()


def test_the_whole_path_runs_authenticated_and_the_broker_refuses_the_wrong_principal(
    secured: Deployment, tmp_path: Path
) -> None:
    base: dict[str, str] = secured.base_env  # type: ignore[attr-defined]
    producer_env, admin_env = as_user(base, "huiyan-producer"), as_user(base, "huiyan-admin")
    worker = secured.start_worker(HUIYAN_CLASSIFIERS="0", HUIYAN_LAG_INTERVAL_S="1")

    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(_event(n) for n in range(20)) + "\n", encoding="utf-8")
    huiyan(producer_env, "produce", str(events))
    decided = [
        json.loads(v) for v in _read(Settings.from_env(admin_env), secured.settings.decision_topic, 20)
    ]
    assert sorted(d["event_id"] for d in decided) == sorted(f"s-{n}" for n in range(20)), secured.log()
    # The worker's own grants let it read its group's lag.
    metrics = secured.metrics_with(worker, 'huiyan_consumer_lag{partition="0"')
    assert "huiyan_consumer_lag_errors_total 0.0" in metrics, secured.log()

    # A policy administrator's push is applied, and names the principal it came from.
    strict = tmp_path / "strict.yaml"
    strict.write_text("name: strict\nlabel_severity: {violation: block, warning: block, info: allow}\n")
    pushed = huiyan(admin_env, "policy", "push", str(strict), "--by", "alice")
    assert "as User:huiyan-admin (alice)" in pushed.stdout
    history = huiyan(admin_env, "policy", "history", "--json")
    (record,) = [json.loads(line) for line in history.stdout.splitlines()]
    assert record["principal"] == "User:huiyan-admin" and record["state"] == "in force"
    assert record["version"].startswith("strict@sha256:")
    deadline = time.monotonic() + 30
    while "live policy strict@" not in secured.log() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert "pushed by User:huiyan-admin (alice)" in secured.log()

    # The producer may write content and nothing else: the broker refuses the rest.
    refused = huiyan(producer_env, "policy", "push", str(strict), check=False)
    assert refused.returncode == 1 and "Kafka refused huiyan-producer" in refused.stderr, refused.stderr
    options = kafka_python_options(Settings.from_env(producer_env))
    producer = KafkaProducer(bootstrap_servers=[SECURE_BROKER], acks="all", **options)
    try:
        forged = {"event_id": "s-1", "action": "allow"}
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(secured.settings.decision_topic, json.dumps(forged).encode()).get(timeout=30)
        with pytest.raises(TopicAuthorizationFailedError):
            producer.send(secured.settings.policy_topic, b'{"slot": "live"}').get(timeout=30)
    finally:
        producer.close()
    consumer = KafkaConsumer(bootstrap_servers=[SECURE_BROKER], group_id=None, **options)
    try:
        with pytest.raises(TopicAuthorizationFailedError):
            consumer.assign([TopicPartition(secured.settings.content_topic, 0)])
            consumer.seek_to_beginning()
            consumer.poll(timeout_ms=10_000)
    finally:
        consumer.close()
    assert secured.stop_worker(worker) == 0


def test_a_worker_with_a_wrong_password_stops_with_a_clear_error(secured: Deployment, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.password"
    wrong.write_text("not-the-password")
    env = as_user(secured.base_env, "huiyan-worker", wrong)  # type: ignore[attr-defined]
    result = huiyan(env, "worker", check=False)
    assert result.returncode == 1
    assert "refused the login of huiyan-worker over SASL_SSL" in result.stderr, result.stderr
    assert "invalid credentials" in result.stderr
    assert "Traceback" not in result.stderr
