"""``huiyan serve`` on the real broker: it decides as the workers do, follows pushed policies, and
records every decision it answers even when the broker dies under load and comes back."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from stream.api.keys import add_key
from stream.core.vocab import REJECT_REASONS
from stream.tools.deployment import REPO, free_port, isolated_env
from tests.fixtures.events import DISCLOSURE, event_bytes
from tests.fixtures.kafka import Deployment, reachable, run_huiyan

SAMPLES = [line for line in (REPO / "stream/samples/events.jsonl").read_bytes().splitlines() if line.strip()]


def _call(port: int, key: str, body: bytes, path: str = "/v1/moderate") -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, headers={"Authorization": f"Bearer {key}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _get(port: int, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:
        return 0, None


def _start_api(
    deployment: Deployment, tenants: list[str], **env: str
) -> tuple[subprocess.Popen[bytes], int, dict[str, str]]:
    keys_file = deployment.workdir / "api-keys.json"
    keys = {tenant: add_key(keys_file, tenant)[1] for tenant in tenants}
    port = free_port()
    process = deployment.start(
        [*deployment_command("serve")],
        HUIYAN_API_PORT=str(port),
        HUIYAN_API_KEYS_FILE=str(keys_file),
        HUIYAN_API_SPOOL_DIR=str(deployment.workdir / "spool"),
        **env,
    )
    deadline = time.monotonic() + 90
    while _get(port, "/readyz")[0] != 200:
        assert process.poll() is None, deployment.log(len(deployment.processes) - 1)[-3000:]
        assert time.monotonic() < deadline, deployment.log(len(deployment.processes) - 1)[-3000:]
        time.sleep(0.5)
    return process, port, keys


def deployment_command(*args: str) -> list[str]:
    import sys

    return [sys.executable, "-m", "stream.cli", *args]


def _masked(decision: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in decision.items() if k != "timing"}


def test_the_api_decides_as_the_workers_do_and_follows_a_pushed_policy(
    deployment: Deployment, tmp_path: Path
) -> None:
    deployment.start_worker()
    _, port, keys = _start_api(deployment, ["demo", "it"])
    deployment.produce(SAMPLES)
    from_stream = {d["event_id"]: d for d in deployment.decisions(14, timeout_s=90)}
    answered = {}
    for line in SAMPLES:
        status, body = _call(port, keys["demo"], line)
        if status == 200:
            answered[body["event_id"]] = body
        else:
            assert status == 422 and body["error"]["code"] in REJECT_REASONS
    assert set(answered) == set(from_stream) and len(answered) == 14
    for event_id, decision in answered.items():
        assert _masked(decision) == _masked(from_stream[event_id]), event_id
    # Both doors' decisions are on the topic, each marked with its channel.
    records = deployment.read(deployment.settings.decision_topic, 28, timeout_s=30)
    channels = sorted(dict(r.headers).get("huiyan.channel", b"") for r in records)
    assert channels == [b"api"] * 14 + [b"stream"] * 14

    listed = "办证刻章"
    text = f"需要{listed}的联系我{DISCLOSURE}"
    before = _call(port, keys["it"], event_bytes("p-1", text, tenant="it", labelled=True))
    assert before[0] == 200 and not any(r["code"] == "term_list" for r in before[1]["reasons"])
    policy = tmp_path / "listed.yaml"
    policy.write_text(
        "name: listed\nlabel_severity: {violation: flag, warning: allow, info: allow}\n"
        f"term_lists: [{{name: 违法办证, action: block, terms: [{listed}]}}]\n",
        "utf-8",
    )
    run_huiyan(deployment.env, "policy", "push", str(policy))
    deadline = time.monotonic() + 20
    n = 2
    while True:
        status, decision = _call(port, keys["it"], event_bytes(f"p-{n}", text, tenant="it", labelled=True))
        if status == 200 and decision["action"] == "block":
            assert decision["provenance"]["policy_version"].startswith("listed@")
            break
        assert time.monotonic() < deadline, "the pushed policy did not reach the API within 20 s"
        n += 1
        time.sleep(0.5)


@pytest.fixture
def own_broker(tmp_path: Path) -> Any:
    """A broker of this test alone, which it may stop and start."""
    port, controller = free_port(), free_port()
    env = {
        **os.environ,
        "HUIYAN_KAFKA_PORT": str(port),
        "HUIYAN_KAFKA_CONTROLLER_PORT": str(controller),
        "HUIYAN_KAFKA_HOME": str(tmp_path / "kafka"),
    }
    script = str(REPO / "deploy" / "kafka" / "broker.sh")

    def broker(action: str) -> None:
        subprocess.run([script, action], env=env, check=True, capture_output=True, timeout=180)

    broker("start")
    try:
        yield f"127.0.0.1:{port}", broker
    finally:
        subprocess.run([script, "stop"], env=env, capture_output=True, timeout=180)


def test_every_decision_the_api_gave_is_on_the_topic_after_the_broker_died_under_load(
    own_broker: Any, tmp_path: Path
) -> None:
    address, broker = own_broker
    assert reachable(address)
    env = {**isolated_env(address, "api-spool"), "HUIYAN_CLASSIFIERS": "0", "HUIYAN_LOG_LEVEL": "info"}
    deployment = Deployment(env, tmp_path)
    try:
        _, port, keys = _start_api(deployment, ["t1"])
        answered: list[str] = []
        refused: list[int] = []

        def send(n: int) -> None:
            status, body = _call(port, keys["t1"], event_bytes(f"c-{n}", f"第{n}条{DISCLOSURE}", tenant="t1"))
            if status == 200:
                answered.append(body["event_id"])
            else:
                refused.append(status)

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(send, range(100)))
            broker("stop")
            list(pool.map(send, range(100, 200)))  # answered while the producer still waits for the broker
            deadline = time.monotonic() + 60
            while (ready := _get(port, "/readyz")[1])["broker"] != "spooling":
                assert time.monotonic() < deadline, ready
                time.sleep(0.5)
            list(pool.map(send, range(200, 300)))  # answered while spooling
            status, ready = _get(port, "/readyz")
            assert status == 200 and ready["broker"] == "spooling" and ready["spool_bytes"] > 0
            broker("start")
            list(pool.map(send, range(300, 400)))
        assert refused == [] and len(answered) == 400
        deadline = time.monotonic() + 120
        while (ready := _get(port, "/readyz")[1])["spool_bytes"] > 0 or ready["broker"] != "delivering":
            assert time.monotonic() < deadline, "the spool was not delivered within 120 s"
            time.sleep(1)
        records = deployment_records(deployment, 400)
        found = {json.loads(r)["event_id"] for r in records}
        assert found >= set(answered), sorted(set(answered) - found)[:10]
    finally:
        deployment.stop_all()


def deployment_records(deployment: Deployment, count: int) -> list[bytes]:
    """Every record of the decisions topic (duplicates included: delivery is at least once)."""
    from stream.kafka.clients import open_reader, read_records

    consumer = open_reader(deployment.settings, [deployment.settings.decision_topic], from_beginning=True)
    try:
        return [r.value for r in read_records(consumer, idle_timeout_s=15, max_records=10 * count)]
    finally:
        consumer.close()
