"""The console in-process: logins and roles, CSRF, every page, reviews and thresholds saved, in both
languages. tests/integration/test_console_browser.py drives it in Chromium."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from stream.console.server import Console
from stream.console.users import add_user
from stream.settings import Settings
from stream.store.db import SqliteStore
from stream.store.sink import to_record

PASSWORD = "correct horse battery"


def _decision(event_id: str, score: float, action: str, minute: int) -> bytes:
    reasons = [] if action == "allow" else [{
        "code": "rumor_score", "category": "rumor", "action": action, "basis": "policy default", "score": score,
        "message": "rumor score over the threshold",
        "evidence": [{"start": 0, "end": 4, "text": "紧急通知", "weight": 0.8}],
    }]  # fmt: skip
    from datetime import UTC, datetime

    day = datetime.now(UTC).date().isoformat()
    doc = {
        "event_id": event_id, "tenant": "t1", "scene": "post", "content_id": f"c-{event_id}",
        "action": action, "reasons": reasons, "scores": {"rumor": score}, "label_findings": [],
        "label_status": "noncompliant", "implicit_label_status": "compliant",
        "explicit_label_status": "not_found", "notice": {"level": "confirmed", "text": None},
        "provenance": {"policy_version": "default@sha256:x", "models": [], "input_sha256": "ab"},
        "timing": {"decided_at": f"{day}T08:{minute:02d}:00.000Z"},
    }  # fmt: skip
    return json.dumps(doc, ensure_ascii=False).encode()


@pytest.fixture
async def console(tmp_path: Path) -> AsyncIterator[tuple[TestClient[Any, Any], Console, list[str]]]:
    store = SqliteStore(tmp_path / "store.db")
    values = [
        _decision(f"e{i}", 0.2 + i * 0.1, "flag" if 0.3 <= 0.2 + i * 0.1 < 0.95 else "allow", i)
        for i in range(8)
    ]
    store.ingest(
        [r for i, v in enumerate(values) if (r := to_record("decisions", "d", 0, i, 0, v, [])) is not None]
    )
    shadow = to_record("shadow_decisions", "s", 0, 0, 0, _decision("e3", 0.5, "block", 3), [])
    assert shadow is not None
    store.ingest([shadow])
    users = tmp_path / "users.json"
    for name, role in (("vera", "viewer"), ("rui", "reviewer"), ("ada", "admin")):
        add_user(users, name, role, PASSWORD)
    pushed: list[str] = []
    settings = Settings.from_env(environ={})
    app = Console(
        settings, store, users, candidates=tmp_path / "candidates",
        push_shadow=lambda text, who: pushed.append(text) or "v-shadow", publish_review=lambda review: None,
    )  # fmt: skip
    client: TestClient[Any, Any] = TestClient(TestServer(app.app()))
    await client.start_server()
    yield client, app, pushed
    await client.close()
    store.close()


async def _login(client: TestClient[Any, Any], name: str) -> str:
    response = await client.post("/login", data={"user": name, "password": PASSWORD}, allow_redirects=False)
    assert response.status == 302, await response.text()
    page = await (await client.get("/review")).text()
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    return found.group(1)


async def test_pages_need_a_login_and_a_wrong_password_is_refused(console: Any) -> None:
    client, _, _ = console
    response = await client.get("/", allow_redirects=False)
    assert response.status == 302 and response.headers["Location"] == "/login"
    wrong = await client.post("/login", data={"user": "ada", "password": "nope"}, allow_redirects=False)
    assert wrong.status == 401 and "用户名或密码错误" in await wrong.text()


async def test_every_page_renders_in_chinese_and_english(console: Any) -> None:
    client, _, _ = console
    await _login(client, "vera")
    for path, zh, en in (
        ("/", "每小时决定数", "Decisions per hour"),
        ("/decisions", "决定", "Decisions"),
        ("/decisions/e3", "影子策略的决定", "The shadow policy's decision"),
        ("/review", "审核队列", "Review queue"),
        ("/thresholds?category=rumor", "将改变的决定", "Decisions that would change"),
        ("/stats", "审核统计", "Review statistics"),
    ):
        page = await (await client.get(path + ("&" if "?" in path else "?") + "lang=zh")).text()
        assert zh in page, path
        assert en in await (await client.get(path + ("&" if "?" in path else "?") + "lang=en")).text(), path
    decision = await (await client.get("/decisions/e3")).text()
    assert "<mark>紧急通知</mark>" in decision and "rumor_score" in decision
    verdicts = (
        "<tr><td>Overall</td><td>noncompliant</td></tr><tr><td>Implicit label</td><td>compliant</td></tr>"
    )
    assert verdicts + "<tr><td>Explicit label</td><td>not_found</td></tr>" in decision
    assert "<td>隐式标识</td><td>compliant</td>" in await (await client.get("/decisions/e3?lang=zh")).text()
    overview = await (await client.get("/")).text()
    # Eight decisions, each overall noncompliant, implicit label compliant, explicit label not found.
    assert "<tr><td>compliant</td><td>0</td><td>8</td><td>0</td></tr>" in overview
    assert "<tr><td>not_found</td><td>0</td><td>0</td><td>8</td></tr>" in overview
    assert "/static/vendor/chart.js-4.6.1/chart.umd.min.js" in overview and "https://" not in overview
    assert (await client.get("/static/vendor/chart.js-4.6.1/chart.umd.min.js")).status == 200
    explorer = await (await client.get("/decisions?action=flag")).text()
    assert "e3" in explorer and 'href="/decisions/e0"' not in explorer  # e0 was allowed


async def test_a_change_needs_the_role_and_the_csrf_token(console: Any) -> None:
    client, app, pushed = console
    csrf = await _login(client, "vera")
    viewer = await client.post("/review/e3", data={"csrf": csrf, "tenant": "t1", "verdict": "violation"})
    assert viewer.status == 403
    saved = await client.post(
        "/thresholds/save", data={"csrf": csrf, "category": "rumor", "flag": "0.6", "block": "0.9"}
    )
    assert saved.status == 403 and pushed == []
    await client.post("/logout", data={"csrf": csrf})
    csrf = await _login(client, "rui")
    forged = await client.post("/review/e3", data={"tenant": "t1", "verdict": "violation"})
    assert forged.status == 403 and "CSRF" in await forged.text()
    done = await client.post(
        "/review/e3", data={"csrf": csrf, "tenant": "t1", "verdict": "violation", "note": "假通知"}
    )
    assert done.status == 200
    assert [(r.event_id, r.verdict, r.reviewer, r.note) for r in app.store.reviews()] == [
        ("e3", "violation", "rui", "假通知")
    ]
    assert "e3" not in [row["event_id"] for row in app.store.queue("t1")]
    assert any(a[1:3] == ("rui", "review") for a in app.store.actions())


async def test_an_admin_saves_thresholds_as_a_candidate_policy_and_pushes_it_as_the_shadow(
    console: Any, tmp_path: Path
) -> None:
    from stream.core.policy import parse_policy

    client, app, pushed = console
    csrf = await _login(client, "ada")
    page = await client.post(
        "/thresholds/save", data={"csrf": csrf, "category": "rumor", "flag": "0.6", "block": "0.9"}
    )
    assert page.status == 200 and "v-shadow" in await page.text()
    (saved,) = (tmp_path / "candidates").glob("candidate-*-rumor.yaml")
    policy = parse_policy(saved.read_text("utf-8"))
    assert (policy.categories["rumor"].flag, policy.categories["rumor"].block) == (0.6, 0.9)
    assert pushed == [saved.read_text("utf-8")]
    assert any(a[1:3] == ("ada", "save_thresholds") for a in app.store.actions())


async def test_the_explorer_filters_by_time(console: Any) -> None:
    from datetime import UTC, datetime

    client, _, _ = console
    await _login(client, "vera")
    day = datetime.now(UTC).date().isoformat()
    page = await (await client.get(f"/decisions?from={day}T08:03&to={day}T08:05")).text()
    shown = set(re.findall(r'href="/decisions/(e\d)"', page))
    assert shown == {"e3", "e4", "e5"}
    assert (await client.get("/decisions?from=yesterday")).status == 400
