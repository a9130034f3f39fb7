"""``huiyan serve``: the synchronous check API (aiohttp) around the same core as the workers.

Routes: ``POST /v1/moderate`` (one event in, its decision out), ``POST /v1/moderate/batch`` (events as
JSON lines, one result each), ``GET /healthz``, ``GET /readyz``, ``GET /openapi.json`` and
``GET /metrics``. docs/api.md is the platform engineer's guide: the error table, idempotency, fail
closed, timeouts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from classifiers.content import ContentEvent
from stream import __version__
from stream.api.batcher import Decided, MicroBatcher, Overloaded
from stream.api.delivery import AuditTrail, KafkaSender, Record, Spool
from stream.api.idempotency import Answer, Recent
from stream.api.keys import KeyRing
from stream.api.limits import RateLimits
from stream.api.openapi import openapi_document
from stream.core.pipeline import ClassifierRunner, ModerationContext, RawEvent, parse_raw
from stream.core.records import EventRejected
from stream.kafka.policy_store import PolicyState
from stream.kafka.topics import CHANNEL
from stream.metrics import Metrics
from stream.runtime import configure_logging
from stream.settings import Settings

log = logging.getLogger(__name__)

API_CHANNEL: Final = (CHANNEL, b"api")
JSON: Final = "application/json"
# A body of events as JSON lines: one event per line, exactly as on the content topic.
NDJSON: Final = "application/x-ndjson"


class ApiError(Exception):
    """An answer other than a decision: HTTP status, a reason code and what went wrong."""

    def __init__(self, status: int, code: str, detail: str, retry_after_s: float | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.retry_after_s = retry_after_s

    def body(self) -> bytes:
        return _error_body(self.code, self.detail)

    def headers(self) -> dict[str, str]:
        return (
            {}
            if self.retry_after_s is None
            else {"Retry-After": str(max(1, round(self.retry_after_s + 0.5)))}
        )


def _error_body(code: str, detail: str) -> bytes:
    return json.dumps({"error": {"code": code, "detail": detail}}, ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Topics:
    decisions: str
    shadow_decisions: str
    strikes: str


class Api:
    """The routes and what they share; :func:`build_api` assembles one from settings."""

    def __init__(
        self,
        settings: Settings,
        context: ModerationContext,
        *,
        metrics: Metrics,
        keys: KeyRing,
        audit: AuditTrail,
        batcher: MicroBatcher,
        policies: PolicyState,
        limits: RateLimits,
        recent: Recent,
        background: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self.settings = settings
        self.context = context
        self.metrics = metrics
        self.keys = keys
        self.audit = audit
        self.batcher = batcher
        self.policies = policies
        self.limits = limits
        self.recent = recent
        self.background = background
        self.topics = Topics(settings.decision_topic, settings.shadow_decision_topic, settings.strike_topic)
        self._tasks: list[asyncio.Future[None]] = []
        self.started = False

    # -- the application ----------------------------------------------------------------------------

    def app(self) -> web.Application:
        # The batch route reads its own body with its own limit; this only caps what aiohttp buffers.
        limit = self.settings.max_event_bytes * self.settings.api_max_batch_events + 1024
        app = web.Application(client_max_size=limit, middlewares=[self._observe])
        app.router.add_post("/v1/moderate", self.moderate, name="moderate")
        app.router.add_post("/v1/moderate/batch", self.moderate_batch, name="moderate_batch")
        app.router.add_get("/healthz", self.healthz, name="healthz")
        app.router.add_get("/readyz", self.readyz, name="readyz")
        app.router.add_get("/openapi.json", self.openapi, name="openapi")
        app.router.add_get("/metrics", self.prometheus, name="metrics")
        app.on_startup.append(self._start)
        app.on_shutdown.append(self._stop)
        return app

    async def _start(self, _app: web.Application) -> None:
        await self.audit.start()
        await self.batcher.start()
        self._tasks = [asyncio.ensure_future(job()) for job in self.background]
        self.started = True
        log.info(
            "huiyan serve: http://%s:%d/v1/moderate, policy %s, %d API keys, decisions -> %s",
            self.settings.api_host,
            self.settings.api_port,
            self.policies.live.version,
            len(self.keys),
            self.topics.decisions,
        )

    async def _stop(self, _app: web.Application) -> None:
        self.started = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.batcher.stop()
        await self.audit.stop()

    @web.middleware
    async def _observe(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        started = time.perf_counter()
        route = request.match_info.route.name or "unknown"
        try:
            response = await handler(request)
        except ApiError as exc:
            response = web.Response(
                status=exc.status, body=exc.body(), content_type=JSON, headers=exc.headers()
            )
        except web.HTTPException as exc:
            code = "oversize" if exc.status == 413 else exc.reason.lower().replace(" ", "_")
            response = web.Response(
                status=exc.status, body=_error_body(code, exc.text or exc.reason), content_type=JSON
            )
        except Exception as exc:  # a bug: one request fails, the server does not
            log.exception("request %s %s failed", request.method, request.path)
            response = web.Response(
                status=500, body=_error_body("internal_error", type(exc).__name__), content_type=JSON
            )
        self.metrics.api_request(route, response.status, time.perf_counter() - started)
        return response

    # -- routes -------------------------------------------------------------------------------------

    async def moderate(self, request: web.Request) -> web.Response:
        tenant = self._authenticate(request)
        raw = await self._body(request, self.settings.max_event_bytes)
        (answer,) = await self._decide(tenant, [raw])
        status, body, replayed = answer
        headers = {"Idempotent-Replay": "true"} if replayed else {}
        return web.Response(status=status, body=body, content_type=JSON, headers=headers)

    async def moderate_batch(self, request: web.Request) -> web.Response:
        tenant = self._authenticate(request)
        limit = self.settings.max_event_bytes * self.settings.api_max_batch_events
        body = await self._body(request, limit)
        lines = [line for line in body.splitlines() if line.strip()]
        if not lines:
            raise ApiError(422, "invalid_json", "no events: send one event per line (application/x-ndjson)")
        if len(lines) > self.settings.api_max_batch_events:
            raise ApiError(
                413, "too_many_events", f"{len(lines)} events; at most {self.settings.api_max_batch_events}"
            )
        oversize = [i for i, line in enumerate(lines) if len(line) > self.settings.max_event_bytes]
        answers = await self._decide(tenant, lines, oversize=set(oversize))
        parts = [
            b'{"status":'
            + str(status).encode()
            + (b',"decision":' if status == 200 else b",")
            + _inner(status, body)
            + (b',"idempotent_replay":true' if replayed else b"")
            + b"}"
            for status, body, replayed in answers
        ]
        return web.Response(status=200, body=b'{"results":[' + b",".join(parts) + b"]}", content_type=JSON)

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "alive", "version": __version__})

    async def readyz(self, _request: web.Request) -> web.Response:
        classifiers = [f"{c.name}@{c.version}" for c in self.context.classifiers]
        model_ready = bool(classifiers) or not self.settings.classifiers_enabled
        ready = self.started and model_ready and self.audit.accepting and self.audit.state != "connecting"
        doc = {
            "ready": ready,
            "models": classifiers,
            "policy": self.policies.live.version,
            "shadow_policy": self.policies.shadow.version if self.policies.shadow else None,
            "broker": self.audit.state,
            "spool_bytes": self.audit.spool.size,
            "spool_full": not self.audit.accepting,
            "waiting": self.batcher.pending,
        }
        return web.json_response(doc, status=200 if ready else 503)

    async def openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(openapi_document(self.settings))

    async def prometheus(self, _request: web.Request) -> web.Response:
        response = web.Response(body=generate_latest(self.metrics.registry))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        return response

    # -- what the routes share ----------------------------------------------------------------------

    def _authenticate(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        presented = (
            header[7:].strip()
            if header.lower().startswith("bearer ")
            else request.headers.get("X-Api-Key", "")
        )
        if not presented:
            raise ApiError(401, "unauthorized", "no API key: send Authorization: Bearer <key>")
        tenant = self.keys.tenant_of(presented)
        if tenant is None:
            raise ApiError(401, "unauthorized", "unknown or disabled API key")
        return tenant

    async def _body(self, request: web.Request, limit: int) -> bytes:
        declared = request.content_length
        if declared is not None and declared > limit:
            raise ApiError(413, "oversize", f"body of {declared} bytes; at most {limit}")
        body = await request.content.read(limit + 1)
        if len(body) > limit:
            raise ApiError(413, "oversize", f"body over {limit} bytes")
        return body

    async def _decide(
        self, tenant: str, raws: Sequence[bytes], oversize: set[int] | None = None
    ) -> list[tuple[int, bytes, bool]]:
        """(status, body, replayed) per raw event: admission (contract, tenant, rate, idempotency,
        load), then one trip through the micro-batcher for the events that need deciding."""
        answers: list[tuple[int, bytes, bool] | None] = [None] * len(raws)
        admitted: list[tuple[int, ContentEvent, asyncio.Future[Answer]]] = []
        replays: list[tuple[int, asyncio.Future[Answer]]] = []
        for index, raw in enumerate(raws):
            if oversize and index in oversize:
                self.metrics.api_rejected("oversize")
                answers[index] = (
                    413,
                    _error_body("oversize", f"event over {self.settings.max_event_bytes} bytes"),
                    False,
                )
                continue
            # Parsed once, as the workers parse theirs; the tenant and event_id are checked before deciding.
            parsed = parse_raw(RawEvent(raw, self.context.clock()), self.context.limits)
            if isinstance(parsed, EventRejected):
                self.metrics.api_rejected(parsed.reason)
                status = 413 if parsed.reason == "oversize" else 422
                answers[index] = (status, _error_body(parsed.reason, parsed.detail), False)
                continue
            if parsed.tenant != tenant:
                answers[index] = (
                    403,
                    _error_body(
                        "tenant_mismatch", f"this key acts for tenant {tenant!r}, not {parsed.tenant!r}"
                    ),
                    False,
                )
                continue
            first, future = self.recent.claim(tenant, parsed.event_id)
            if first:
                admitted.append((index, parsed, future))
            else:
                replays.append((index, future))
        if admitted:
            self._admit(tenant, admitted)
            try:
                results = await self.batcher.decide([parsed for _, parsed, _ in admitted])
            except Overloaded as exc:
                self._release(tenant, admitted, ApiError(503, "overloaded", str(exc), retry_after_s=1.0))
                raise ApiError(503, "overloaded", str(exc), retry_after_s=1.0) from None
            records: list[Record] = []
            for (index, parsed, future), result in zip(admitted, results, strict=True):
                if isinstance(result, Decided):
                    records += self._records(result)
                    answer: Answer = (200, result.payload)
                else:  # a bug the core isolated to this event; a retry is decided anew
                    self.recent.forget(tenant, parsed.event_id)
                    self.metrics.api_rejected(result.reason)
                    answer = (
                        500 if result.reason == "internal_error" else 422,
                        _error_body(result.reason, result.detail),
                    )
                future.set_result(answer)
                answers[index] = (*answer, False)
            self.audit.submit(records)
            self.metrics.decisions(
                [r.decision for r in results if isinstance(r, Decided)], self.policies.live.tenants
            )
            shadows = [r for r in results if isinstance(r, Decided) and r.shadow is not None]
            if shadows:
                self.metrics.shadow(
                    [(i, r.decision) for i, r in enumerate(shadows)],
                    [(i, r.shadow[0]) for i, r in enumerate(shadows) if r.shadow is not None],
                )
        for index, future in replays:
            status, body = await asyncio.shield(future)
            self.metrics.api_replay()
            answers[index] = (status, body, True)
        return [answer for answer in answers if answer is not None]

    def _admit(self, tenant: str, admitted: list[tuple[int, ContentEvent, asyncio.Future[Answer]]]) -> None:
        """Rate limit and the audit trail's room, checked once the events are known to need deciding."""
        if not self.audit.accepting:
            error = ApiError(
                503,
                "audit_trail_full",
                "the broker is away and the spool is full: no decision can be recorded",
                retry_after_s=5.0,
            )
            self._release(tenant, admitted, error)
            raise error
        wait = self.limits.take(tenant, len(admitted))
        if wait > 0:
            error = ApiError(
                429, "rate_limited", f"over {self.limits.rate:g} events/s for tenant {tenant!r}", wait
            )
            self._release(tenant, admitted, error)
            raise error

    def _release(
        self, tenant: str, admitted: list[tuple[int, ContentEvent, asyncio.Future[Answer]]], error: ApiError
    ) -> None:
        """Claims of events that will not be decided now: a retry is a new request."""
        for _, parsed, future in admitted:
            self.recent.forget(tenant, parsed.event_id)
            if not future.done():
                future.set_result((error.status, error.body()))

    def _records(self, result: Decided) -> list[Record]:
        headers = (API_CHANNEL,)
        key = result.decision.content_id.encode("utf-8")
        records = [Record(self.topics.decisions, key, result.payload, headers)]
        if result.shadow is not None:
            records.append(Record(self.topics.shadow_decisions, key, result.shadow[1], headers))
        records += [Record(self.topics.strikes, k, v, headers) for k, v in result.strikes]
        return records


def _inner(status: int, body: bytes) -> bytes:
    """A result's body inside the batch answer: the decision, or the error object's members."""
    if status == 200:
        return body
    return body[1:-1]  # {"error": {...}} -> "error": {...}


def build_api(settings: Settings) -> Api:
    """The API of a process: model, policy (and the policies pushed since), strikes, keys, the audit
    trail with its spool, and the followers of the policy and strike topics."""
    from stream.core.strikes import StrikeBook
    from stream.kafka import policy_store
    from stream.kafka.auth import aiokafka_options
    from stream.kafka.clients import partition_ids
    from stream.kafka.followers import follow_policies, follow_strikes, load_strikes
    from stream.runtime import build_context

    keys = KeyRing(Path(settings.api_keys_file))
    if not len(keys):
        raise ValueError(
            f"no API keys in {settings.api_keys_file}: add one with `huiyan api-key add --tenant NAME`"
        )
    context = build_context(settings)
    metrics = Metrics()
    policies = PolicyState(context.policy)
    background: list[Callable[[], Awaitable[None]]] = [lambda: follow_policies(settings, policies, metrics)]
    try:
        for outcome in policies.apply_all(policy_store.read_raw(settings)):
            metrics.policy_update(outcome.slot, outcome.applied)
        strikes = StrikeBook()
        partitions = partition_ids(settings, settings.strike_topic)
        load_strikes(settings, partitions, strikes)
        context = replace(context, strike_counts=strikes.count)
        background.append(lambda: follow_strikes(settings, partitions, strikes))
    except Exception as exc:  # the API answers without the broker; the policy follower catches up
        log.warning(
            "the broker could not be read at start-up (%s: %s): the policy file is in force until the "
            "policy topic is reachable, and strikes are not counted by this process",
            type(exc).__name__,
            exc,
        )
    metrics.policy(policies.live.version)
    metrics.shadow_policy(policies.shadow.version if policies.shadow else None)
    metrics.known_tenants = frozenset(settings.metrics_tenants)
    if context.pixel_runner is not None:
        metrics.watch_pixel_reads(context.pixel_runner)
    options = {
        "bootstrap_servers": ",".join(settings.bootstrap_servers),
        "acks": "all",
        "linger_ms": 2,
        "request_timeout_ms": 10_000,
        "max_request_size": settings.kafka_max_message_bytes,
        **aiokafka_options(settings),
    }
    audit = AuditTrail(
        lambda: KafkaSender(options),
        Spool(Path(settings.api_spool_dir), settings.api_spool_max_bytes),
        metrics,
    )
    # One model session per lane; every lane shares the policy, the strikes and the limits.
    lanes = [
        context,
        *(
            replace(
                context, classifiers=build_context(settings).classifiers, classifier_runner=ClassifierRunner()
            )
            for _ in range(settings.api_lanes - 1)
        ),
    ]
    batcher = MicroBatcher(
        lanes,
        policies,
        metrics,
        window_s=settings.api_batch_window_ms / 1000,
        max_batch=64,
        max_pending=settings.api_max_pending,
    )
    return Api(
        settings,
        context,
        metrics=metrics,
        keys=keys,
        audit=audit,
        batcher=batcher,
        policies=policies,
        limits=RateLimits(settings.api_rate_per_tenant, 2 * settings.api_rate_per_tenant),
        recent=Recent(settings.api_idempotency_s),
        background=background,
    )


def run_api(settings: Settings) -> None:
    """Serves until SIGTERM/SIGINT; then stops taking requests, answers those in hand and delivers (or
    spools) every decision it gave."""
    configure_logging(settings)
    api = build_api(settings)
    web.run_app(
        api.app(),
        host=settings.api_host,
        port=settings.api_port,
        shutdown_timeout=settings.shutdown_timeout_s,
        access_log=None,
        print=None,
    )
