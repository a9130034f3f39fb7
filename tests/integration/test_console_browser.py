"""The console as a person uses it: Debian's Chromium, driven by Playwright, against the real console,
store and broker. Log in, find a decision, open it, review it with the keyboard, move a threshold,
save it and push it as the shadow policy, log out. A screenshot of each page goes to
build/console-screenshots/."""

from __future__ import annotations

import os
import shutil
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from stream.console.users import add_user
from stream.kafka.policy_store import in_force, read_history
from stream.store.db import SqliteStore
from stream.store.sink import Sink
from stream.tools.deployment import REPO, free_port
from tests.fixtures.kafka import Deployment

SAMPLES = [line for line in (REPO / "stream/samples/events.jsonl").read_bytes().splitlines() if line.strip()]
SHOTS = REPO / "build" / "console-screenshots"
PASSWORD = "correct horse battery"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        message = "no Chromium: apt-get install chromium (the test command installs it as root)"
        if os.environ.get("HUIYAN_REQUIRE_CHROMIUM") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


def test_a_reviewer_finds_reviews_and_tunes_in_the_browser(deployment: Deployment, tmp_path: Path) -> None:
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    deployment.start_worker()  # with the classifier: the thresholds page needs scores
    deployment.produce(SAMPLES)
    store_file = tmp_path / "store.db"
    store = SqliteStore(store_file)
    sink = Sink(deployment.settings, store)
    deadline = time.monotonic() + 90
    while store.count("decisions") < 14:
        assert time.monotonic() < deadline, store.count("decisions")
        sink.step()
    sink.consumer.close()
    flagged = [
        row["event_id"]
        for day in store.days("decisions")
        for row in store.rows("decisions", day)
        if row["action"] == "flag"
    ]
    store.close()
    users = tmp_path / "users.json"
    add_user(users, "ada", "admin", PASSWORD)
    port = free_port()
    deployment.start(
        [sys.executable, "-m", "stream.cli", "console"],
        HUIYAN_STORE_URL=f"sqlite:///{store_file}",
        HUIYAN_CONSOLE_USERS_FILE=str(users),
        HUIYAN_CONSOLE_PORT=str(port),
        HUIYAN_CONSOLE_CANDIDATES_DIR=str(tmp_path / "candidates"),
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(60):
        try:
            urllib.request.urlopen(f"{base}/login", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{base}/")
        assert page.url.endswith("/login")
        page.fill("input[name=user]", "ada")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.wait_for_selector("#per-hour")
        assert "每小时决定数" in page.content()
        page.screenshot(path=str(SHOTS / "1-overview.png"), full_page=True)

        page.goto(f"{base}/decisions?lang=zh")
        page.fill("input[name=action]", "flag")
        with page.expect_navigation():
            page.click(".filters button[type=submit]")
        page.wait_for_selector("table.list a")
        page.screenshot(path=str(SHOTS / "2-explorer.png"), full_page=True)
        with page.expect_navigation():
            page.click("table.list a")
        page.wait_for_selector("h2")
        assert "标识检查" in page.content()
        page.screenshot(path=str(SHOTS / "3-decision.png"), full_page=True)

        page.goto(f"{base}/review?tenant=demo")
        first = page.inner_text(".queue .current a")
        assert first in flagged
        page.screenshot(path=str(SHOTS / "4-review.png"), full_page=True)
        with page.expect_navigation():
            page.keyboard.press("v")  # violation, on the current item
        page.wait_for_selector("h1")
        assert first not in [a.inner_text() for a in page.query_selector_all(".queue a")]

        page.goto(f"{base}/thresholds?category=rumor")
        page.wait_for_selector("#histogram")
        page.fill("#flag-n", "0")
        page.dispatch_event("#flag-n", "input")
        assert int(page.inner_text("#changed")) > 0  # every scored decision would now be flagged
        page.fill("#flag-n", "0.6")
        page.dispatch_event("#flag-n", "input")
        page.screenshot(path=str(SHOTS / "5-thresholds.png"), full_page=True)
        with page.expect_navigation():
            page.click("#save button[type=submit]")
        page.wait_for_selector(".saved")
        assert "pushed as shadow" in page.inner_text(".saved")
        page.screenshot(path=str(SHOTS / "6-saved.png"), full_page=True)

        page.goto(f"{base}/stats?lang=en")
        assert "save_thresholds" in page.content() and "review" in page.content()
        page.screenshot(path=str(SHOTS / "7-stats.png"), full_page=True)
        with page.expect_navigation():
            page.click("nav form button[type=submit]")
        page.wait_for_selector("input[name=password]")
        page.screenshot(path=str(SHOTS / "8-logged-out.png"), full_page=True)
        page.goto(f"{base}/")
        assert page.url.endswith("/login")
        browser.close()
    records, _ = read_history(deployment.settings)
    shadow = in_force(records)["shadow"]
    assert shadow is not None and shadow.name is not None and shadow.name.endswith("-reviewed")
    assert "(console)" in shadow.pushed_by
    assert all((SHOTS / name).stat().st_size > 1000 for name in os.listdir(SHOTS))
