"""The check API in-process: contract, keys and tenants, limits, idempotency, batches, the audit trail
(on a fake broker that can be away), OpenAPI and metrics. tests/integration/test_api.py runs the real
server against the real broker."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema

from stream.api.keys import add_key, read_keys, write_keys
from stream.core.offline import moderate_lines
from stream.core.records import load_schema
from stream.runtime import build_context
from stream.settings import Settings
from tests.fixtures.api import ApiUnderTest, start_api
from tests.fixtures.events import event_bytes, event_doc

SAMPLES = Path(__file__).resolve().parents[3] / "stream" / "samples" / "events.jsonl"


def _event(n: int, tenant: str = "t1", **fields: Any) -> bytes:
    fields.setdefault("text", f"第{n}条生成内容（本内容由人工智能生成）")
    return event_bytes(f"c-{n}", tenant=tenant, **fields)


async def _post(
    api: ApiUnderTest, body: bytes, headers: dict[str, str] | None = None
) -> tuple[int, Any, Any]:
    response = await api.client.post(
        "/v1/moderate", data=body, headers=headers if headers is not None else api.headers
    )
    return response.status, await response.json(), response.headers


async def test_an_event_gets_its_decision_and_the_decision_goes_to_the_topic_marked_api(
    api: ApiUnderTest,
) -> None:
    status, decision, _ = await _post(api, _event(1))
    assert status == 200
    jsonschema.validate(decision, load_schema("decision.v1"))
    assert decision["event_id"] == "e-c-1" and decision["action"] in ("allow", "flag", "block")
    await asyncio.sleep(0.6)
    (record,) = api.decisions()
    assert json.loads(record.value) == decision
    assert record.key == b"c-1" and dict(record.headers)["huiyan.channel"] == b"api"


async def test_the_api_decides_as_the_offline_core_does(tmp_path: Path) -> None:
    """Same core, same policy, same model: the samples' decisions match the offline mode's (time aside)."""
    api = await start_api(tmp_path, classifiers=True, api_keys_file=str(tmp_path / "keys.json"))
    try:
        lines = [line for line in SAMPLES.read_bytes().splitlines() if line.strip()]
        write_keys(api.keys_file, [*read_keys(api.keys_file)])
        _, demo_key = add_key(api.keys_file, "demo")
        api.api.keys.reload(force=True)
        out, dead = io.BytesIO(), io.StringIO()
        context = build_context(Settings.from_env(environ={}))
        moderate_lines(lines, out, dead, context)
        offline = {d["event_id"]: d for d in map(json.loads, out.getvalue().splitlines())}
        answered = {}
        for line in lines:
            response = await api.client.post(
                "/v1/moderate", data=line, headers={"Authorization": f"Bearer {demo_key}"}
            )
            if response.status == 200:
                decision = await response.json()
                answered[decision["event_id"]] = decision
            else:
                assert response.status == 422
        assert set(answered) == set(offline) and len(answered) == 14
        for event_id, decision in answered.items():
            expected = offline[event_id]
            decision.pop("timing"), expected.pop("timing")
            assert decision == expected, event_id
    finally:
        await api.client.close()


async def test_keys_and_tenants(api: ApiUnderTest) -> None:
    assert (await _post(api, _event(1), headers={}))[0:2] == (
        401,
        {"error": {"code": "unauthorized", "detail": "no API key: send Authorization: Bearer <key>"}},
    )
    status, body, _ = await _post(api, _event(1), headers={"Authorization": "Bearer hy_wrong"})
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body, _ = await _post(api, _event(1, tenant="t2"))
    assert (status, body["error"]["code"]) == (403, "tenant_mismatch")
    status, body, _ = await _post(api, _event(1, tenant="t2"), headers={"X-Api-Key": api.other_key})
    assert status == 200 and body["tenant"] == "t2"


async def test_a_rotated_key_is_taken_and_a_disabled_one_refused_without_a_restart(api: ApiUnderTest) -> None:
    _, new_key = add_key(api.keys_file, "t1")
    await asyncio.sleep(1.1)  # the key file is looked at once a second
    assert (await _post(api, _event(1), headers={"Authorization": f"Bearer {new_key}"}))[0] == 200
    keys = read_keys(api.keys_file)
    write_keys(api.keys_file, [replace(k, disabled=k.id == keys[0].id) for k in keys])
    await asyncio.sleep(1.1)
    assert (await _post(api, _event(2)))[0] == 401  # keys[0] is api.key
    assert json.loads(api.keys_file.read_text())["keys"][0]["sha256"] != api.key  # only hashes are stored


async def test_invalid_events_get_422_with_the_dead_letter_reason_codes(api: ApiUnderTest) -> None:
    cases = {
        b'{"event_id": "x", "tenant": "t1"': "invalid_json",
        json.dumps({"event_id": "x", "tenant": "t1"}).encode(): "missing_field",
        event_bytes("c-9", 12345, tenant="t1"): "wrong_type",
        b"[1, 2]": "not_an_object",
        event_bytes("c-9", tenant="t1", schema_version=2): "unsupported_version",
    }
    for body, code in cases.items():
        status, answer, _ = await _post(api, body)
        assert (status, answer["error"]["code"]) == (422, code), body
    metrics = await (await api.client.get("/metrics")).text()
    assert 'huiyan_api_rejections_total{reason="missing_field"} 1.0' in metrics
    assert api.decisions() == []


async def test_an_oversize_body_gets_413(api: ApiUnderTest) -> None:
    big = _event(1, text="长" * (api.api.settings.max_event_bytes // 3 + 10))
    status, answer, _ = await _post(api, big)
    assert (status, answer["error"]["code"]) == (413, "oversize")


async def test_the_same_event_id_gets_the_first_decision_and_one_record(api: ApiUnderTest) -> None:
    first = await _post(api, _event(1))
    again = await _post(api, _event(1, text="完全不同的文本"))  # same tenant and event_id, other content
    assert first[1] == again[1] and again[2]["Idempotent-Replay"] == "true"
    concurrent = await asyncio.gather(*(_post(api, _event(2)) for _ in range(5)))
    assert len({json.dumps(c[1]) for c in concurrent}) == 1
    await asyncio.sleep(0.6)
    assert sorted(json.loads(r.value)["event_id"] for r in api.decisions()) == ["e-c-1", "e-c-2"]
    other_tenant = await _post(api, _event(1, tenant="t2"), headers={"X-Api-Key": api.other_key})
    assert other_tenant[0] == 200 and "Idempotent-Replay" not in other_tenant[2]


async def test_a_repeated_event_counts_no_second_strike(tmp_path: Path) -> None:
    policy = tmp_path / "strikes.yaml"
    policy.write_text(
        "name: s\nlabel_severity: {violation: allow, warning: allow, info: allow}\n"
        "term_lists: [{name: 违禁, action: block, terms: [办证刻章]}]\n"
        "strikes: {count: [block], window_hours: 1, escalate: [{at: 3, action: flag}]}\n",
        "utf-8",
    )
    api = await start_api(tmp_path, policy_file=str(policy))
    try:
        body = event_bytes("c-1", "办证刻章", tenant="t1", user="u1")
        for _ in range(3):
            assert (await _post(api, body))[0] == 200
        await asyncio.sleep(0.6)
        strikes = [r for r in api.broker.records if r.topic == api.api.topics.strikes]
        assert len(strikes) == 1 and json.loads(strikes[0].value)["event_id"] == "e-c-1"
    finally:
        await api.client.close()


async def test_a_tenant_over_its_rate_gets_429_with_retry_after(tmp_path: Path) -> None:
    api = await start_api(tmp_path, api_rate_per_tenant=2)
    try:
        statuses = [(await _post(api, _event(n)))[0:3:2] for n in range(6)]
        assert [s for s, _ in statuses[:4]] == [200] * 4  # a burst of twice the rate
        status, headers = statuses[4]
        assert status == 429 and int(headers["Retry-After"]) >= 1
        other = await _post(api, _event(1, tenant="t2"), headers={"X-Api-Key": api.other_key})
        assert other[0] == 200  # limits are per tenant
    finally:
        await api.client.close()


async def test_a_saturated_server_sheds_load_with_503(tmp_path: Path) -> None:
    api = await start_api(tmp_path, api_max_pending=2)
    try:
        bodies = [event_bytes(f"c-{n}", tenant="t1") for n in range(3)]
        batch = b"\n".join(bodies)
        response = await api.client.post("/v1/moderate/batch", data=batch, headers=api.headers)
        answer = await response.json()
        assert response.status == 503 and answer["error"]["code"] == "overloaded"
        assert int(response.headers["Retry-After"]) >= 1
        # The shed events were not remembered: the same events are decided once there is room.
        assert (await _post(api, bodies[0]))[0] == 200
    finally:
        await api.client.close()


async def test_a_batch_gets_one_result_per_line_in_order(api: ApiUnderTest) -> None:
    lines = [_event(1), b'{"broken', _event(2, tenant="t2"), _event(1), _event(3)]
    response = await api.client.post("/v1/moderate/batch", data=b"\n".join(lines), headers=api.headers)
    assert response.status == 200
    results = (await response.json())["results"]
    assert [r["status"] for r in results] == [200, 422, 403, 200, 200]
    assert results[1]["error"]["code"] == "invalid_json" and results[2]["error"]["code"] == "tenant_mismatch"
    assert results[3]["idempotent_replay"] is True and results[3]["decision"] == results[0]["decision"]
    too_many = b"\n".join(_event(n) for n in range(api.api.settings.api_max_batch_events + 1))
    response = await api.client.post("/v1/moderate/batch", data=too_many, headers=api.headers)
    assert response.status == 413 and (await response.json())["error"]["code"] == "too_many_events"


async def test_decisions_are_spooled_while_the_broker_is_away_and_delivered_when_it_is_back(
    api: ApiUnderTest,
) -> None:
    api.broker.up = False
    await asyncio.sleep(1.2)
    answers = [await _post(api, _event(n)) for n in range(20)]
    assert all(status == 200 for status, _, _ in answers)  # the caller is answered all the same
    await asyncio.sleep(1.5)
    assert api.api.audit.state == "spooling" and api.api.audit.spool.size > 0
    ready = await api.client.get("/readyz")
    assert ready.status == 200 and (await ready.json())["broker"] == "spooling"
    api.broker.up = True
    for _ in range(50):
        if api.api.audit.spool.size == 0 and len(api.decisions()) == 20:
            break
        await asyncio.sleep(0.2)
    assert sorted(json.loads(r.value)["event_id"] for r in api.decisions()) == sorted(
        f"e-c-{n}" for n in range(20)
    )
    assert list((api.api.audit.spool.directory).glob("segment-*")) == []


async def test_a_full_spool_fails_closed_with_503_and_loses_no_decision_it_gave(tmp_path: Path) -> None:
    api = await start_api(tmp_path, api_spool_max_bytes=4000)
    try:
        api.broker.up = False
        await asyncio.sleep(1.2)
        answered = []
        for n in range(40):
            status, body, _ = await _post(api, _event(n))
            if status == 200:
                answered.append(body["event_id"])
            else:
                assert (status, body["error"]["code"]) == (503, "audit_trail_full")
            await asyncio.sleep(0.05)
        assert 0 < len(answered) < 40
        assert (await api.client.get("/readyz")).status == 503
        api.broker.up = True
        for _ in range(50):
            if len(api.decisions()) >= len(answered) and api.api.audit.accepting:
                break
            await asyncio.sleep(0.2)
        assert sorted(json.loads(r.value)["event_id"] for r in api.decisions()) == sorted(answered)
        assert (await _post(api, _event(99)))[0] == 200  # room again once the spool is delivered
        metrics = await (await api.client.get("/metrics")).text()
        assert "huiyan_api_spool_lost_records_total 0.0" in metrics
    finally:
        await api.client.close()


async def test_health_readiness_openapi_and_metrics(api: ApiUnderTest) -> None:
    assert (await api.client.get("/healthz")).status == 200
    await asyncio.sleep(0.6)
    ready = await (await api.client.get("/readyz")).json()
    assert (
        ready["ready"] is True and ready["broker"] == "delivering" and ready["policy"].startswith("default@")
    )
    document = await (await api.client.get("/openapi.json")).json()
    assert document["openapi"] == "3.1.0"
    schemas = document["components"]["schemas"]
    expected = load_schema("content-event.v1")
    expected.pop("$schema", None)
    assert schemas["ContentEvent"] == expected
    assert set(document["paths"]) >= {"/v1/moderate", "/v1/moderate/batch", "/healthz", "/readyz", "/metrics"}
    await _post(api, _event(1))
    metrics = await (await api.client.get("/metrics")).text()
    assert 'huiyan_api_requests_total{route="moderate",status="200"} 1.0' in metrics
    assert "huiyan_decisions_total" in metrics
    _ = event_doc  # the builders are shared with the other API tests


async def test_a_shadow_policy_decides_beside_the_live_one_and_its_decision_goes_to_the_shadow_topic(
    api: ApiUnderTest,
) -> None:
    from stream.core.policy import parse_policy

    shadow = parse_policy(
        "name: strict\nlabel_severity: {violation: block, warning: allow, info: allow}\n"
        "term_lists: [{name: 违禁, action: block, terms: [办证刻章]}]\n"
    )
    api.api.policies.shadow = shadow
    status, decision, _ = await _post(api, _event(1, text="可以办证刻章"))
    assert status == 200 and decision["provenance"]["policy_version"].startswith("default@")
    await asyncio.sleep(0.6)
    (record,) = [r for r in api.broker.records if r.topic == api.api.topics.shadow_decisions]
    shadowed = json.loads(record.value)
    assert shadowed["action"] == "block" and shadowed["provenance"]["policy_version"] == shadow.version
    assert decision["action"] != "block"  # the live policy alone acts
