"""The API's OpenAPI 3.1 document, built from the same JSON Schemas the stream validates against."""

from __future__ import annotations

from typing import Any, Final

from stream import __version__
from stream.core.records import load_schema
from stream.settings import Settings

JSON: Final = "application/json"
NDJSON: Final = "application/x-ndjson"
DECISION: Final = {"$ref": "#/components/schemas/Decision"}
ERROR: Final = {
    "type": "object",
    "required": ["code", "detail"],
    "properties": {
        "code": {
            "type": "string",
            "description": "A dead-letter reason code (oversize, invalid_json, missing_field, ...), or "
            "unauthorized, tenant_mismatch, rate_limited, overloaded, audit_trail_full, too_many_events, "
            "internal_error.",
        },
        "detail": {"type": "string"},
    },
}
ERRORS: Final = {
    401: "No key, or an unknown or disabled one (`unauthorized`).",
    403: "The event's tenant is not the key's (`tenant_mismatch`).",
    413: "An event over HUIYAN_MAX_EVENT_BYTES (`oversize`), or too many events (`too_many_events`).",
    422: "Not a valid event: the dead-letter reason code (`invalid_json`, `missing_field`, ...).",
    429: "Over the tenant's rate (`rate_limited`); see Retry-After.",
    503: "Shedding load (`overloaded`), or no decision can be recorded (`audit_trail_full`).",
}


def _errors(*codes: int) -> dict[str, Any]:
    error = {"$ref": "#/components/schemas/Error"}
    return {str(c): {"description": ERRORS[c], "content": {JSON: {"schema": error}}} for c in codes}


def _get(summary: str, **responses: str) -> dict[str, Any]:
    answers = {code.lstrip("_"): {"description": text} for code, text in responses.items()}
    return {"get": {"summary": summary, "responses": answers}}


def openapi_document(settings: Settings) -> dict[str, Any]:
    event = load_schema("content-event.v1")
    decision = load_schema("decision.v1")
    for schema in (event, decision):
        schema.pop("$schema", None)
    secured: list[dict[str, list[str]]] = [{"apiKey": []}]
    result = {
        "type": "object",
        "required": ["status"],
        "properties": {
            "status": {"type": "integer"},
            "decision": DECISION,
            "error": ERROR,
            "idempotent_replay": {"type": "boolean"},
        },
    }
    one = {
        "summary": "Decide one event now; its decision is also produced to the decisions topic",
        "security": secured,
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/ContentEvent"}}},
        },
        "responses": {
            "200": {
                "description": "The decision (`Idempotent-Replay: true`: the first one of this tenant and "
                "event_id, answered again).",
                "content": {JSON: {"schema": DECISION}},
            },
            **_errors(401, 403, 413, 422, 429, 503),
        },
    }
    batch = {
        "summary": f"Decide up to {settings.api_max_batch_events} events, one JSON event per line",
        "security": secured,
        "requestBody": {"required": True, "content": {NDJSON: {"schema": {"type": "string"}}}},
        "responses": {
            "200": {
                "description": "One result per line, in order: a status with a decision or an error.",
                "content": {
                    JSON: {
                        "schema": {
                            "type": "object",
                            "properties": {"results": {"type": "array", "items": result}},
                        }
                    }
                },
            },
            **_errors(401, 413, 422, 429, 503),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Huiyan check API", "version": __version__},
        "servers": [{"url": f"http://{settings.api_host}:{settings.api_port}"}],
        "components": {
            "schemas": {
                "ContentEvent": event,
                "Decision": decision,
                "Error": {"type": "object", "required": ["error"], "properties": {"error": ERROR}},
            },
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/v1/moderate": {"post": one},
            "/v1/moderate/batch": {"post": batch},
            "/healthz": _get("Alive", _200="The process answers."),
            "/readyz": _get(
                "Ready: model loaded, policy known, broker reachable or spooling",
                _200="Ready.",
                _503="Not ready (starting, or the spool is full).",
            ),
            "/metrics": _get("Prometheus metrics", _200="Prometheus text format."),
        },
    }
