"""``huiyan console``: the trust-and-safety console, server-rendered HTML on aiohttp.

Pages: overview, explorer and a decision's page, the review queue (keyboard: v violation, n no
violation, e escalate, j/k next/previous), thresholds (the score distribution per category with the
flag and block lines; moving a threshold shows at once how many decisions change and which; an admin
saves it as a candidate policy and pushes it as a shadow policy), review statistics. Chinese by
default, English with ``?lang=en``. Users log in (scrypt hashes, ``users.py``); sessions live in the
server's memory behind an HttpOnly, SameSite=Strict cookie; every form carries a CSRF token; every
change is written to the store's audit trail of console actions.
"""

from __future__ import annotations

import html
import json
import logging
import re
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from classifiers.scores import CATEGORIES
from stream.console.users import Role, User, check_password, read_users
from stream.core.policy import Policy, load_policy
from stream.runtime import configure_logging
from stream.settings import Settings
from stream.store.db import Store
from stream.store.reviews import candidate_policy, record_review

log = logging.getLogger(__name__)

COOKIE: Final = "huiyan_console"
SESSION_S: Final = 8 * 3600
STATIC: Final = Path(__file__).with_name("static")
CHART_JS: Final = "/static/vendor/chart.js-4.6.1/chart.umd.min.js"

TEXT: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "title": "慧眼 控制台", "overview": "概览", "decisions": "决定", "review": "审核队列", "thresholds": "阈值",
        "stats": "审核统计", "logout": "退出", "login": "登录", "user": "用户名", "password": "密码",
        "bad_login": "用户名或密码错误", "per_hour": "每小时决定数（按动作）", "top_reasons": "主要原因",
        "label_status": "标识状态", "overall": "总体", "implicit_label": "隐式标识",
        "explicit_label": "显式标识", "tenants": "租户与场景", "filter": "筛选", "none": "无",
        "reasons": "原因", "scores": "分数", "findings": "标识检查", "notice": "提示", "provenance": "来源",
        "shadow": "影子策略的决定", "violation": "违规 (v)", "no_violation": "不违规 (n)", "escalate": "升级 (e)",
        "note": "备注", "empty_queue": "队列为空", "category": "类别", "flag": "标记阈值", "block": "拦截阈值",
        "would_change": "将改变的决定", "save_shadow": "保存为候选策略并作为影子策略推送", "saved": "已保存",
        "forbidden": "你的角色不能执行此操作", "precision": "标记的精确率", "reviewed": "已审核",
        "lang": "English", "tenant": "租户", "scene": "场景", "action": "动作", "reason": "原因代码",
        "content_id": "内容 ID", "from": "起始日", "to": "结束日", "examples": "跨越阈值的例子",
        "decided_at": "决定时间", "actions": "操作记录",
    },
    "en": {
        "title": "Huiyan console", "overview": "Overview", "decisions": "Decisions", "review": "Review queue",
        "thresholds": "Thresholds", "stats": "Review statistics", "logout": "Log out", "login": "Log in",
        "user": "User", "password": "Password", "bad_login": "Wrong user or password",
        "per_hour": "Decisions per hour, by action", "top_reasons": "Top reasons", "label_status": "Label status",
        "overall": "Overall", "implicit_label": "Implicit label", "explicit_label": "Explicit label", "tenants": "Tenants and scenes", "filter": "Filter", "none": "none", "reasons": "Reasons",
        "scores": "Scores", "findings": "Label findings", "notice": "Notice", "provenance": "Provenance",
        "shadow": "The shadow policy's decision", "violation": "Violation (v)", "no_violation": "No violation (n)",
        "escalate": "Escalate (e)", "note": "Note", "empty_queue": "The queue is empty", "category": "Category",
        "flag": "Flag threshold", "block": "Block threshold", "would_change": "Decisions that would change",
        "save_shadow": "Save as a candidate policy and push it as the shadow policy", "saved": "Saved",
        "forbidden": "Your role cannot do this", "precision": "Precision of flags", "reviewed": "reviewed",
        "lang": "中文", "tenant": "Tenant", "scene": "Scene", "action": "Action", "reason": "Reason code",
        "content_id": "Content id", "from": "From", "to": "To", "examples": "Examples that cross",
        "decided_at": "Decided at", "actions": "Console actions",
    },
}  # fmt: skip


@dataclass
class Session:
    user: User
    csrf: str
    expires: float


SESSION: Final = web.RequestKey("session", Session)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


class Console:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        users_file: Path,
        *,
        candidates: Path,
        push_shadow: Callable[[str, str], str] | None = None,
        publish_review: Callable[[Any], None] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.users_file = users_file
        self.candidates = candidates
        self.push_shadow = push_shadow
        self.publish_review = publish_review
        self.sessions: dict[str, Session] = {}
        self._policy_cache: tuple[float | None, Policy] | None = None

    def _policy(self) -> Policy:
        """The policy file in force (parsed again only when it changes: the slider asks on every move)."""
        path = self.settings.policy_file
        stamp = Path(path).stat().st_mtime if path else None
        if self._policy_cache is None or self._policy_cache[0] != stamp:
            self._policy_cache = (stamp, load_policy(path))
        return self._policy_cache[1]

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._auth])
        app.router.add_get("/login", self.login_page)
        app.router.add_post("/login", self.login)
        app.router.add_post("/logout", self.logout)
        app.router.add_get("/", self.overview)
        app.router.add_get("/decisions", self.explorer)
        app.router.add_get("/decisions/{event_id}", self.decision)
        app.router.add_get("/review", self.review_queue)
        app.router.add_post("/review/{event_id}", self.review)
        app.router.add_get("/thresholds", self.thresholds)
        app.router.add_get("/thresholds/examples", self.threshold_examples)
        app.router.add_post("/thresholds/save", self.save_thresholds)
        app.router.add_get("/stats", self.stats)
        app.router.add_static("/static", STATIC)
        return app

    # -- sessions, roles, CSRF ------------------------------------------------------------------------

    @web.middleware
    async def _auth(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path in ("/login",) or request.path.startswith("/static/"):
            return await handler(request)
        session = self._session(request)
        if session is None:
            raise web.HTTPFound("/login")
        request[SESSION] = session
        if request.method == "POST":
            form = await request.post()
            if not secrets.compare_digest(str(form.get("csrf", "")), session.csrf):
                raise web.HTTPForbidden(text="CSRF token missing or wrong")
        return await handler(request)

    def _session(self, request: web.Request) -> Session | None:
        token = request.cookies.get(COOKIE, "")
        session = self.sessions.get(token)
        if session is None or session.expires < time.time():
            self.sessions.pop(token, None)
            return None
        return session

    @staticmethod
    def _require(request: web.Request, role: Role) -> Session:
        session: Session = request[SESSION]
        if not session.user.can(role):
            raise web.HTTPForbidden(text=f"the {session.user.role} role cannot do this")
        return session

    async def login_page(self, request: web.Request, error: str = "") -> web.Response:
        t = _text(request)
        body = f"""<form method="post" action="/login" class="login">
<h1>{t["title"]}</h1>{f'<p class="error">{_e(error)}</p>' if error else ""}
<label>{t["user"]} <input name="user" autofocus></label>
<label>{t["password"]} <input name="password" type="password"></label>
<button type="submit">{t["login"]}</button></form>"""
        return _page(request, t["login"], body, None, status=401 if error else 200)

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        users = read_users(self.users_file)
        user = users.get(str(form.get("user", "")))
        if user is None or not check_password(user, str(form.get("password", ""))):
            return await self.login_page(request, _text(request)["bad_login"])
        token = secrets.token_urlsafe(32)
        self.sessions[token] = Session(user, secrets.token_urlsafe(32), time.time() + SESSION_S)
        self.store.add_action(user.name, "login", "")
        response = web.HTTPFound("/")
        response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", max_age=SESSION_S, path="/")
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        session: Session = request[SESSION]
        self.sessions.pop(request.cookies.get(COOKIE, ""), None)
        self.store.add_action(session.user.name, "logout", "")
        response = web.HTTPFound("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    # -- pages ---------------------------------------------------------------------------------------

    def _decisions(
        self, days: int = 7, start: str | None = None, end: str | None = None, **filters: str | None
    ) -> Iterator[dict[str, Any]]:
        """Stored decisions of the last ``days`` days, or from ``start`` to ``end`` (ISO dates or times,
        UTC, both included), newest day first, with filters applied."""
        since = date.fromisoformat(start[:10]) if start else (datetime.now(UTC) - timedelta(days=days)).date()
        until = date.fromisoformat(end[:10]) if end else None
        for day in reversed(self.store.days("decisions")):
            if day < since:
                break
            if until is not None and day > until:
                continue
            for row in self.store.rows("decisions", day, filters.get("tenant") or None):
                if (start and row["at"] < start) or (end and row["at"][: len(end)] > end):
                    continue
                doc = json.loads(row["doc"])
                if filters.get("scene") and row["scene"] != filters["scene"]:
                    continue
                if filters.get("action") and row["action"] != filters["action"]:
                    continue
                if filters.get("content_id") and row["content_id"] != filters["content_id"]:
                    continue
                if filters.get("reason") and all(r["code"] != filters["reason"] for r in doc["reasons"]):
                    continue
                if filters.get("category") and all(
                    r["category"] != filters["category"] for r in doc["reasons"]
                ):
                    continue
                yield {**row, "decision": doc}

    async def overview(self, request: web.Request) -> web.Response:
        t = _text(request)
        per_hour: dict[str, Counter[str]] = {}
        reasons: Counter[str] = Counter()
        statuses: dict[str, Counter[str]] = {field: Counter() for field in _VERDICT_FIELDS}
        scopes: Counter[tuple[str, str]] = Counter()
        for row in self._decisions():
            hour = row["at"][:13]
            per_hour.setdefault(hour, Counter())[row["action"]] += 1
            reasons.update(r["code"] for r in row["decision"]["reasons"])
            for field, counter in statuses.items():
                counter[row["decision"].get(field, "?")] += 1
            scopes[(row["tenant"], row["scene"])] += 1
        hours = sorted(per_hour)
        data = {
            "labels": [h.replace("T", " ") + ":00" for h in hours],
            "datasets": [
                {"label": a, "data": [per_hour[h][a] for h in hours], "backgroundColor": c}
                for a, c in (("allow", "#4caf50"), ("flag", "#ff9800"), ("block", "#f44336"))
            ],
        }
        body = f"""<h1>{t["overview"]}</h1>
<h2>{t["per_hour"]}</h2><canvas id="per-hour" height="90"></canvas>
<script src="{CHART_JS}"></script>
<script>new Chart(document.getElementById("per-hour"), {{type: "bar", data: {json.dumps(data)},
 options: {{animation: false, scales: {{x: {{stacked: true}}, y: {{stacked: true}}}}}}}});</script>
<div class="columns"><section><h2>{t["top_reasons"]}</h2>{_table(reasons.most_common(10))}</section>
<section><h2>{t["label_status"]}</h2>{_verdicts_table(statuses, t)}</section>
<section><h2>{t["tenants"]}</h2>{_table([(f"{a} / {b}", n) for (a, b), n in scopes.most_common(20)])}</section>
</div>"""
        return _page(request, t["overview"], body, request[SESSION])

    async def explorer(self, request: web.Request) -> web.Response:
        t = _text(request)
        keys = ("tenant", "scene", "action", "reason", "category", "content_id")
        filters = {k: request.query.get(k) or None for k in keys}
        start, end = request.query.get("from") or None, request.query.get("to") or None
        for value in (start, end):
            if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}(:\d{2}(:\d{2})?)?)?", value):
                raise web.HTTPBadRequest(text=f"{value!r}: a time is YYYY-MM-DD or YYYY-MM-DDTHH:MM")
        rows = []
        for row in self._decisions(days=int(request.query.get("days", "7")), start=start, end=end, **filters):
            rows.append(row)
            if len(rows) >= 200:
                break
        inputs = "".join(
            f'<label>{t[k]} <input name="{k}" value="{_e(filters[k] or "")}"></label>' for k in keys
        ) + "".join(
            f'<label>{t[k]} <input name="{k}" placeholder="2026-12-04T08:00" value="{_e(v or "")}"></label>'
            for k, v in (("from", start), ("to", end))
        )
        lines = "".join(
            f'<tr><td><a href="/decisions/{_e(r["event_id"])}">{_e(r["event_id"])}</a></td><td>{_e(r["at"])}</td>'
            f'<td>{_e(r["tenant"])}</td><td>{_e(r["scene"])}</td><td class="{_e(r["action"])}">{_e(r["action"])}</td>'
            f"<td>{_e(', '.join(x['code'] for x in r['decision']['reasons']))}</td></tr>"
            for r in rows
        )
        body = f"""<h1>{t["decisions"]}</h1><form method="get" class="filters">{inputs}
<button type="submit">{t["filter"]}</button></form>
<table class="list"><tr><th>event_id</th><th>{t["decided_at"]}</th><th>{t["tenant"]}</th><th>{t["scene"]}</th>
<th>{t["action"]}</th><th>{t["reasons"]}</th></tr>{lines}</table>"""
        return _page(request, t["decisions"], body, request[SESSION])

    async def decision(self, request: web.Request) -> web.Response:
        t = _text(request)
        event_id = request.match_info["event_id"]
        row = self.store.decision(event_id)
        if row is None:
            raise web.HTTPNotFound(text=f"no stored decision {event_id}")
        doc = json.loads(row["doc"])
        shadow_row = self.store.decision(event_id, "shadow_decisions")
        body = f"""<h1>{_e(event_id)} <span class="{_e(doc["action"])}">{_e(doc["action"])}</span></h1>
<div class="columns"><section>{_decision_html(doc, t)}</section>"""
        if shadow_row is not None:
            body += f'<section class="shadow"><h2>{t["shadow"]}</h2>{_decision_html(json.loads(shadow_row["doc"]), t)}</section>'
        body += "</div>"
        return _page(request, event_id, body, request[SESSION])

    async def review_queue(self, request: web.Request) -> web.Response:
        t = _text(request)
        session: Session = request[SESSION]
        tenants = sorted({row["tenant"] for row in self._decisions(days=31)})
        tenant = request.query.get("tenant") or (tenants[0] if tenants else "")
        queue = (
            self.store.queue(tenant, category=request.query.get("category") or None, limit=50)
            if tenant
            else []
        )
        options = "".join(f"<option{' selected' if x == tenant else ''}>{_e(x)}</option>" for x in tenants)
        items = ""
        for i, row in enumerate(queue):
            doc = json.loads(row["doc"])
            buttons = "".join(
                f'<button name="verdict" value="{v}" data-key="{v[0]}">{t[v]}</button>'
                for v in ("violation", "no_violation", "escalate")
            ) if session.user.can("reviewer") else ""  # fmt: skip
            items += f"""<li class="item{" current" if i == 0 else ""}" data-index="{i}">
<form method="post" action="/review/{_e(row["event_id"])}?tenant={_e(tenant)}">
<input type="hidden" name="csrf" value="{session.csrf}"><input type="hidden" name="tenant" value="{_e(tenant)}">
<a href="/decisions/{_e(row["event_id"])}">{_e(row["event_id"])}</a> {_e(row["at"])} {_e(row["scene"])}
{_reasons_html(doc)}<label>{t["note"]} <input name="note"></label>{buttons}</form></li>"""
        body = f"""<h1>{t["review"]}</h1><form method="get"><select name="tenant" onchange="this.form.submit()">{options}
</select></form><ol class="queue">{items or f"<p>{t['empty_queue']}</p>"}</ol>
<script>
const items = [...document.querySelectorAll(".queue .item")]; let at = 0;
function show(i) {{ items.forEach((x, k) => x.classList.toggle("current", k === i)); at = i; }}
document.addEventListener("keydown", (ev) => {{
  if (ev.target.tagName === "INPUT") return;
  if (ev.key === "j" && at < items.length - 1) show(at + 1);
  if (ev.key === "k" && at > 0) show(at - 1);
  const button = items[at] && items[at].querySelector(`button[data-key="${{ev.key}}"]`);
  if (button) button.click();
}});
</script>"""
        return _page(request, t["review"], body, session)

    async def review(self, request: web.Request) -> web.Response:
        session = self._require(request, "reviewer")
        form = await request.post()
        tenant = str(form.get("tenant", ""))
        done = record_review(
            self.store,
            tenant,
            request.match_info["event_id"],
            str(form.get("verdict", "")),
            session.user.name,
            str(form.get("note", "")),
            publish=self.publish_review,
        )
        self.store.add_action(session.user.name, "review", f"{done.tenant}/{done.event_id}: {done.verdict}")
        raise web.HTTPFound(f"/review?tenant={tenant}")

    async def thresholds(self, request: web.Request) -> web.Response:
        t = _text(request)
        session: Session = request[SESSION]
        category = request.query.get("category", CATEGORIES[0])
        if category not in CATEGORIES:
            raise web.HTTPBadRequest(text=f"no category {category}")
        days = int(request.query.get("days", "7"))
        current = self._policy().categories.get(category)
        since = (datetime.now(UTC) - timedelta(days=days)).date()
        counts = self.store.histogram(category, since)
        bins = [counts.get(b, 0) for b in range(100)]  # decisions per hundredth of the score
        options = "".join(f"<option{' selected' if c == category else ''}>{c}</option>" for c in CATEGORIES)
        flag, block = (current.flag, current.block) if current else (0.5, 0.95)
        admin = session.user.can("admin")
        save = f"""<form method="post" action="/thresholds/save" id="save">
<input type="hidden" name="csrf" value="{session.csrf}"><input type="hidden" name="category" value="{category}">
<input type="hidden" name="flag" id="save-flag"><input type="hidden" name="block" id="save-block">
<button type="submit">{t["save_shadow"]}</button></form>""" if admin else ""  # fmt: skip
        body = f"""<h1>{t["thresholds"]}</h1><form method="get"><label>{t["category"]}
<select name="category" onchange="this.form.submit()">{options}</select></label></form>
<canvas id="histogram" height="90"></canvas>
<label>{t["flag"]} <input type="range" id="flag" min="0" max="1" step="0.01" value="{flag}">
<input type="number" id="flag-n" min="0" max="1" step="0.01" value="{flag}"></label>
<label>{t["block"]} <input type="range" id="block" min="0" max="1" step="0.01" value="{block}">
<input type="number" id="block-n" min="0" max="1" step="0.01" value="{block}"></label>
<p>{t["would_change"]}: <strong id="changed">0</strong> / {sum(bins)}</p>
<h2>{t["examples"]}</h2><ul id="examples"></ul>{save}
<script src="{CHART_JS}"></script>
<script>
const bins = {json.dumps(bins)}; const current = {{flag: {flag}, block: {block}}};
const edges = bins.map((_, i) => i / 100);
const chart = new Chart(document.getElementById("histogram"), {{type: "bar",
  data: {{labels: edges.map(e => e.toFixed(2)), datasets: [{{label: "{category}", data: bins, backgroundColor: []}}]}},
  options: {{animation: false}}}});
function action(score, flag, block) {{ return score >= block - 1e-9 ? "block" : score >= flag - 1e-9 ? "flag" : "allow"; }}
let pending = null;
function update(source) {{
  const flag = parseFloat(document.getElementById(source === "n" ? "flag-n" : "flag").value);
  const block = parseFloat(document.getElementById(source === "n" ? "block-n" : "block").value);
  for (const id of ["flag", "flag-n"]) document.getElementById(id).value = flag;
  for (const id of ["block", "block-n"]) document.getElementById(id).value = block;
  chart.data.datasets[0].backgroundColor = edges.map(e => action(e, flag, block) === "block" ? "#f44336" : action(e, flag, block) === "flag" ? "#ff9800" : "#4caf50");
  chart.update();
  // Thresholds move in hundredths, so a bin's decisions all change action together.
  const changed = bins.reduce((n, count, i) => n + (action(edges[i], flag, block) !== action(edges[i], current.flag, current.block) ? count : 0), 0);
  document.getElementById("changed").textContent = changed;
  const saveFlag = document.getElementById("save-flag");
  if (saveFlag) {{ saveFlag.value = flag; document.getElementById("save-block").value = block; }}
  clearTimeout(pending);
  pending = setTimeout(async () => {{
    const answer = await fetch(`/thresholds/examples?category={category}&days={days}&flag=${{flag}}&block=${{block}}`);
    const examples = await answer.json();
    document.getElementById("examples").innerHTML = examples.map(([id, s]) =>
      `<li><a href="/decisions/${{encodeURIComponent(id)}}">${{id}}</a> ${{s.toFixed(3)}}: ` +
      `${{action(s, current.flag, current.block)}} → ${{action(s, flag, block)}}</li>`).join("");
  }}, 150);
}}
for (const id of ["flag", "block"]) document.getElementById(id).addEventListener("input", () => update("r"));
for (const id of ["flag-n", "block-n"]) document.getElementById(id).addEventListener("input", () => update("n"));
update("r");
</script>"""
        return _page(request, t["thresholds"], body, session)

    async def threshold_examples(self, request: web.Request) -> web.Response:
        """Up to 10 decisions that the thresholds in the query would move to another action."""
        category = request.query.get("category", CATEGORIES[0])
        if category not in CATEGORIES:
            raise web.HTTPBadRequest(text=f"no category {category}")
        current = self._policy().categories.get(category)
        old = (current.flag, current.block) if current else (0.5, 0.95)
        new = (float(request.query.get("flag", old[0])), float(request.query.get("block", old[1])))
        since = (datetime.now(UTC) - timedelta(days=int(request.query.get("days", "7")))).date()
        return web.json_response(self.store.crossing(category, since, old, new))

    async def save_thresholds(self, request: web.Request) -> web.Response:
        from stream.core.policy import policy_text

        session = self._require(request, "admin")
        form = await request.post()
        category = str(form.get("category", ""))
        flag, block = float(str(form.get("flag"))), float(str(form.get("block")))
        text = policy_text(self.settings.policy_file)
        candidate = candidate_policy(text, {category: (flag, block)}, f"console, {session.user.name}")
        self.candidates.mkdir(parents=True, exist_ok=True)
        saved = self.candidates / f"candidate-{datetime.now(UTC):%Y%m%dT%H%M%S}-{category}.yaml"
        saved.write_text(candidate, "utf-8")
        detail = f"{saved.name}: {category} flag {flag} block {block}"
        pushed = ""
        if self.push_shadow is not None:
            pushed = self.push_shadow(candidate, session.user.name)
            detail += f"; pushed as shadow {pushed}"
        self.store.add_action(session.user.name, "save_thresholds", detail)
        t = _text(request)
        body = f'<h1>{t["saved"]}</h1><p class="saved">{_e(detail)}</p><pre>{_e(candidate)}</pre>'
        return _page(request, t["saved"], body, session)

    async def stats(self, request: web.Request) -> web.Response:
        t = _text(request)
        by_category: dict[str, Counter[str]] = {}
        last: dict[tuple[str, str], str] = {}
        for review in self.store.reviews():
            if review.verdict != "escalate":
                last[(review.tenant, review.event_id)] = review.verdict
        for (_, event_id), verdict in last.items():
            row = self.store.decision(event_id)
            if row is None:
                continue
            doc = json.loads(row["doc"])
            for category in {r["category"] for r in doc["reasons"] if r["category"] in CATEGORIES}:
                by_category.setdefault(category, Counter())[verdict] += 1
        rows = [
            (
                c,
                f"{n['violation'] / (n['violation'] + n['no_violation']):.2f} ({n['violation'] + n['no_violation']} {t['reviewed']})",
            )
            for c, n in sorted(by_category.items())
        ]
        actions = [
            (f"{at} {who}", f"{what}: {detail}") for at, who, what, detail in self.store.actions()[-20:]
        ]
        body = f"""<h1>{t["stats"]}</h1><h2>{t["precision"]}</h2>{_table(rows)}
<h2>{t["actions"]}</h2>{_table(actions)}"""
        return _page(request, t["stats"], body, request[SESSION])


def _text(request: web.Request) -> dict[str, str]:
    return TEXT["en" if request.query.get("lang", request.cookies.get("lang")) == "en" else "zh"]


def _table(rows: list[tuple[Any, Any]]) -> str:
    return "<table>" + "".join(f"<tr><td>{_e(a)}</td><td>{_e(b)}</td></tr>" for a, b in rows) + "</table>"


def _reasons_html(doc: dict[str, Any]) -> str:
    items = ""
    for reason in doc["reasons"]:
        marks = "".join(
            f"<mark>{_e(x['text'])}</mark>"
            for x in (reason.get("evidence") or []) + (reason.get("spans") or [])
            if x.get("text")
        )
        score = f" {reason['score']:.3f}" if reason.get("score") is not None else ""
        items += f"<li><b>{_e(reason['code'])}</b> {_e(reason['action'])}{score} — {_e(reason['message'])} {marks}</li>"
    return f'<ul class="reasons">{items}</ul>'


# The decision's overall label status and each label's own verdict, with the console's word for each.
_VERDICT_FIELDS: Final = {
    "label_status": "overall",
    "implicit_label_status": "implicit_label",
    "explicit_label_status": "explicit_label",
}


def _verdicts_table(statuses: dict[str, Counter[str]], t: dict[str, str]) -> str:
    """Counts of each status (rows) under the overall status and each label's verdict (columns)."""
    names = sorted({name for counter in statuses.values() for name in counter})
    head = "".join(f"<th>{_e(t[word])}</th>" for word in _VERDICT_FIELDS.values())
    rows = "".join(
        f"<tr><td>{_e(name)}</td>"
        + "".join(f"<td>{statuses[f][name]}</td>" for f in _VERDICT_FIELDS)
        + "</tr>"
        for name in names
    )
    return f'<table class="verdicts"><tr><th></th>{head}</tr>{rows}</table>'


def _decision_html(doc: dict[str, Any], t: dict[str, str]) -> str:
    findings = "".join(
        f"<tr><td>{_e(f['code'])}</td><td>{_e(f['severity'])}</td><td>{_e(f['article'])}</td><td>{_e(f['message'])}</td></tr>"
        for f in doc.get("label_findings", [])
    )
    provenance = doc.get("provenance", {})
    models = ", ".join(f"{m['name']}@{m['version']}" for m in provenance.get("models", []))
    return f"""<h2>{t["reasons"]}</h2>{_reasons_html(doc)}
<h2>{t["scores"]}</h2>{_table(sorted(doc.get("scores", {}).items()))}
<h2>{t["label_status"]}</h2>{_table([(t[word], doc.get(f, "?")) for f, word in _VERDICT_FIELDS.items()])}
<h2>{t["findings"]}</h2><table>{findings}</table>
<h2>{t["notice"]}</h2><p>{_e(doc.get("notice", {}).get("level", ""))}: {_e(doc.get("notice", {}).get("text") or "")}</p>
<h2>{t["provenance"]}</h2>{_table([("policy", provenance.get("policy_version")), ("models", models), ("input", provenance.get("input_sha256"))])}"""


def _page(
    request: web.Request, title: str, body: str, session: Session | None, status: int = 200
) -> web.Response:
    t = _text(request)
    lang = "en" if t is TEXT["en"] else "zh"
    other = "zh" if lang == "en" else "en"
    nav = ""
    if session is not None:
        links = "".join(f'<a href="{p}?lang={lang}">{t[k]}</a>' for p, k in (
            ("/", "overview"), ("/decisions", "decisions"), ("/review", "review"),
            ("/thresholds", "thresholds"), ("/stats", "stats"),
        ))  # fmt: skip
        nav = f"""<nav>{links}<a href="?lang={other}" class="lang">{t["lang"]}</a>
<span class="who">{_e(session.user.name)} ({_e(session.user.role)})</span>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="{session.csrf}">
<button type="submit">{t["logout"]}</button></form></nav>"""
    page = f"""<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<title>{_e(title)} · {t["title"]}</title><style>{STYLE}</style></head><body>{nav}<main>{body}</main></body></html>"""
    response = web.Response(status=status, text=page, content_type="text/html")
    if "lang" in request.query:
        response.set_cookie("lang", lang, samesite="Strict", path="/")
    return response


STYLE: Final = """body{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:0;color:#222}
nav{display:flex;gap:1em;align-items:center;background:#263238;padding:.5em 1em}nav a,nav .who{color:#fff}
nav form{margin-left:auto}main{padding:1em 2em}table{border-collapse:collapse}td,th{border:1px solid #ddd;
padding:.2em .5em}.columns{display:flex;gap:2em;flex-wrap:wrap}.flag{color:#e65100}.block{color:#c62828}
.allow{color:#2e7d32}mark{background:#fff59d}.queue .item{padding:.4em;margin:.3em 0}.queue .current{
outline:2px solid #1976d2}.login{max-width:20em;margin:4em auto;display:flex;flex-direction:column;gap:.6em}
.error{color:#c62828}.filters label{margin-right:.6em}.shadow{background:#f3f3f3;padding:0 1em}"""


def build_console(settings: Settings) -> Console:
    """The console of a process: the store, the users file, and the topics its changes go to."""
    from stream.kafka.auth import principal
    from stream.kafka.policy_store import new_record, push
    from stream.store.db import open_store
    from stream.store.reviews import ReviewPublisher

    def push_shadow(text: str, who: str) -> str:
        pushed = push(settings, new_record("shadow", text, f"{who} (console)", principal=principal(settings)))
        return str(pushed.version)

    return Console(
        settings,
        open_store(settings.store_url),
        Path(settings.console_users_file),
        candidates=Path(settings.console_candidates_dir),
        push_shadow=push_shadow,
        publish_review=ReviewPublisher(settings).publish,
    )


def run_console(settings: Settings) -> None:
    configure_logging(settings)
    console = build_console(settings)
    if not read_users(console.users_file):
        raise ValueError(
            f"no console users in {console.users_file}: add one with `huiyan console-user add NAME --role admin`"
        )
    print(f"huiyan console: http://{settings.console_host}:{settings.console_port}/", flush=True)
    web.run_app(
        console.app(), host=settings.console_host, port=settings.console_port, print=None, access_log=None
    )
