"""The ``huiyan`` command group and what every command shares: one clear line for a broker that is
unreachable, refuses a login or an operation, instead of a traceback.

Every command reads settings from ``HUIYAN_*`` variables (``huiyan settings`` lists them); options
override them. This module parses arguments and prints; the work happens in the modules it calls.
"""

from __future__ import annotations

import logging
from typing import Any

import click

from stream import __version__
from stream.settings import Settings


class _LoginFailures(logging.Handler):
    """Keeps the Kafka clients' log lines that say a login or a TLS handshake failed. kafka-python logs
    a refused SCRAM login and keeps retrying, so the caller only sees "Unable to bootstrap" (measured on
    the secure development broker); these lines tell that apart from a broker that is down."""

    SIGNS = ("SaslAuthenticationFailed", "Authentication failed", "CERTIFICATE_VERIFY_FAILED", "SSLError")

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a log call with bad arguments is not ours to fail on
            return
        if any(sign in message for sign in self.SIGNS) and len(self.seen) < 5:
            self.seen.append(message[:300])


class _CommandGroup(click.Group):
    """Turns an unreachable broker, a refused login or a missing permission into one clear line instead
    of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        import ssl

        from aiokafka import errors as aioerrors
        from kafka import errors as kafkaerrors

        from stream.kafka.auth import KafkaSecurityError
        from stream.kafka.clients import EventTooLarge

        failures = _LoginFailures()
        for name in ("kafka", "aiokafka"):
            logging.getLogger(name).addHandler(failures)
        try:
            return super().invoke(ctx)
        except (
            kafkaerrors.KafkaTimeoutError,
            TimeoutError,
            kafkaerrors.SaslAuthenticationFailedError,
            kafkaerrors.IllegalSaslStateError,
            kafkaerrors.UnsupportedSaslMechanismError,
            aioerrors.KafkaConnectionError,
            aioerrors.AuthenticationFailedError,
            aioerrors.SaslAuthenticationFailed,
            aioerrors.UnsupportedSaslMechanismError,
            ssl.SSLError,
        ) as exc:
            settings = Settings.from_env()
            refused = isinstance(exc, ssl.SSLError) or "Authentication" in type(exc).__name__
            if failures.seen or refused:
                raise click.ClickException(
                    f"Kafka at {settings.broker} refused the login of "
                    f"{settings.sasl_username or '(no user)'} over {settings.security_protocol}: "
                    f"{failures.seen[0] if failures.seen else exc}. Check HUIYAN_KAFKA_USERNAME, "
                    "HUIYAN_KAFKA_PASSWORD_FILE, HUIYAN_KAFKA_SASL_MECHANISM and HUIYAN_KAFKA_CA_FILE."
                ) from exc
            raise click.ClickException(
                f"Kafka at {settings.broker} did not answer ({type(exc).__name__}: {exc}). Is the broker "
                "running (deploy/kafka/broker.sh status) and HUIYAN_BROKER right? Is "
                "HUIYAN_KAFKA_SECURITY_PROTOCOL the protocol of the broker's listener?"
            ) from exc
        except (KafkaSecurityError, EventTooLarge) as exc:
            raise click.ClickException(str(exc)) from exc
        except kafkaerrors.MessageSizeTooLargeError as exc:
            raise click.ClickException(
                f"Kafka refused a record as too large ({exc}); HUIYAN_MAX_EVENT_BYTES and "
                "HUIYAN_KAFKA_MAX_MESSAGE_BYTES set the limits (docs/security.md)"
            ) from exc
        except (
            kafkaerrors.AuthorizationError,
            aioerrors.TopicAuthorizationFailedError,
            aioerrors.GroupAuthorizationFailedError,
        ) as exc:
            settings = Settings.from_env()
            # kafka-python quotes the whole request and response; the error's name and start say enough.
            raise click.ClickException(
                f"Kafka refused {settings.sasl_username or 'this client'} an operation "
                f"({type(exc).__name__}: {str(exc)[:200]}). docs/security.md lists the ACLs of each role "
                "(huiyan acls)."
            ) from exc
        finally:
            for name in ("kafka", "aiokafka"):
                logging.getLogger(name).removeHandler(failures)


@click.group(cls=_CommandGroup)
@click.version_option(__version__, prog_name="huiyan")
def main() -> None:
    """Huiyan (慧眼): moderation of AI-generated content on Kafka."""
