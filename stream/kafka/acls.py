"""The Kafka ACLs a Huiyan deployment needs: which principal may do what on which topic (docs/security.md).

Three roles, one principal each (``User:<name>`` of a SASL login):

- **workers** read content, policies and strikes, write decisions, dead letters, shadow decisions and
  strikes, and join the consumer group ``HUIYAN_APP_ID``;
- **policy administrators** write (and read) the policy topic, and read decisions, dead letters and
  shadow decisions (``huiyan policy``, ``shadow report``, ``replay``, ``decisions``);
- **producers**, the generative services, write the content topic and nothing else.

Nothing else is granted: with ``allow.everyone.if.no.acl.found=false`` every other principal is
refused, and topics are created by the operator (``huiyan topics``), not by workers. This module builds
the list from the settings' topic names and applies it with an admin client; it decides nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from stream.settings import Settings

Role = Literal["worker", "admin", "producer"]
ROLES: Final[tuple[Role, ...]] = ("worker", "admin", "producer")
DEFAULT_PRINCIPALS: Final[dict[Role, str]] = {
    "worker": "User:huiyan-worker",
    "admin": "User:huiyan-admin",
    "producer": "User:huiyan-producer",
}


@dataclass(frozen=True, slots=True)
class Grant:
    """Allow ``principal`` the ``operation`` on one topic or consumer group (literal names only)."""

    role: Role
    principal: str
    resource: Literal["topic", "group"]
    name: str
    operation: Literal["READ", "WRITE", "DESCRIBE"]

    def describe(self) -> str:
        return f"{self.principal:<24} {self.operation:<8} {self.resource} {self.name}"


def grants(settings: Settings, principals: dict[Role, str] | None = None) -> list[Grant]:
    """Every ACL a deployment with these topic names needs, role by role."""
    who = {**DEFAULT_PRINCIPALS, **(principals or {})}
    out: list[Grant] = []

    def allow(role: Role, resource: Literal["topic", "group"], name: str, *ops: str) -> None:
        out.extend(Grant(role, who[role], resource, name, op) for op in ops)  # type: ignore[arg-type]

    # Workers. READ and WRITE imply DESCRIBE in Kafka; DESCRIBE is listed where a client lists topics.
    allow("worker", "topic", settings.content_topic, "READ", "DESCRIBE")
    allow("worker", "topic", settings.policy_topic, "READ", "DESCRIBE")
    allow("worker", "topic", settings.strike_topic, "READ", "WRITE", "DESCRIBE")
    for topic in (settings.decision_topic, settings.dead_letter_topic, settings.shadow_decision_topic):
        allow("worker", "topic", topic, "WRITE", "DESCRIBE")
    allow("worker", "group", settings.app_id, "READ", "DESCRIBE")
    # Policy administrators.
    allow("admin", "topic", settings.policy_topic, "READ", "WRITE", "DESCRIBE")
    for topic in (
        settings.decision_topic,
        settings.dead_letter_topic,
        settings.shadow_decision_topic,
        settings.content_topic,
        settings.strike_topic,
    ):
        allow("admin", "topic", topic, "READ", "DESCRIBE")
    # Producers: the content topic, nothing else.
    allow("producer", "topic", settings.content_topic, "WRITE", "DESCRIBE")
    return out


def apply(settings: Settings, planned: list[Grant]) -> int:
    """Creates ``planned`` on the broker with the settings' credentials (an operator's, allowed to alter
    ACLs); returns how many it created. Creating an ACL that exists already changes nothing."""
    from kafka import KafkaAdminClient
    from kafka.admin import (
        ACL,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourceType,
    )

    from stream.kafka.auth import kafka_python_options

    acls = [
        ACL(
            principal=g.principal,
            host="*",
            operation=ACLOperation[g.operation],
            permission_type=ACLPermissionType.ALLOW,
            resource_pattern=ResourcePattern(
                ResourceType.TOPIC if g.resource == "topic" else ResourceType.GROUP,
                g.name,
                ACLResourcePatternType.LITERAL,
            ),
        )
        for g in planned
    ]
    admin = KafkaAdminClient(
        bootstrap_servers=settings.bootstrap_servers,
        client_id="huiyan-acls",
        **kafka_python_options(settings),
    )
    try:
        result = admin.create_acls(acls)
    finally:
        admin.close()
    if failed := result.get("failed"):
        raise RuntimeError(f"the broker refused {len(failed)} ACLs, the first: {failed[0]}")
    return len(result.get("succeeded", []))
