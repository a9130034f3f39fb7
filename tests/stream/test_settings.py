"""Settings come from HUIYAN_* variables; docs/configuration.md's table is generated from the same ones."""

from __future__ import annotations

import pytest

from stream.core.records import EventRejected, parse_event
from stream.settings import SETTINGS, Settings, markdown_table
from tests.fixtures import REPO

CONFIGURATION = REPO / "docs" / "configuration.md"


def test_defaults_without_environment() -> None:
    settings = Settings.from_env({})
    assert settings.broker == "kafka://127.0.0.1:19092"
    assert settings.bootstrap_servers == ["127.0.0.1:19092"]
    assert settings.topic_partitions > 1  # several partitions so workers in one group share the load
    assert settings.web_host == "127.0.0.1"


def test_environment_and_overrides() -> None:
    env = {
        "HUIYAN_TOPIC_PARTITIONS": "6",
        "HUIYAN_METRICS": "false",
        "HUIYAN_WEB_PORT": "7000",
        "HUIYAN_BROKER": "kafka://a:1;kafka://b:2",
    }
    settings = Settings.from_env(env, web_port=7100)
    assert settings.topic_partitions == 6
    assert settings.metrics_enabled is False
    assert settings.web_port == 7100
    assert settings.bootstrap_servers == ["a:1", "b:2"]


@pytest.mark.parametrize(
    ("name", "value"), [("HUIYAN_BATCH_MAX", "0"), ("HUIYAN_WEB_PORT", "x"), ("HUIYAN_METRICS", "maybe")]
)
def test_invalid_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_every_setting_has_a_huiyan_variable_and_help() -> None:
    assert all(s.env.startswith("HUIYAN_") and s.help for s in SETTINGS)
    assert len({s.env for s in SETTINGS}) == len(SETTINGS)


def test_readme_configuration_table_matches_the_settings() -> None:
    assert markdown_table() in CONFIGURATION.read_text("utf-8"), "regenerate with: huiyan settings --markdown"


def test_a_classifier_factory_replaces_the_bundled_model() -> None:
    from stream.runtime import build_context

    settings = Settings.from_env(
        {
            "HUIYAN_CLASSIFIER_FACTORY": "tests.fixtures.classifiers:build",
            "HUIYAN_CLASSIFIER_TIMEOUT_MS": "500",
        }
    )
    context = build_context(settings)
    (classifier,) = context.classifiers
    assert type(classifier).__name__ == "SlowOnMarker"
    with pytest.raises(ValueError, match="expected module:callable"):
        build_context(Settings.from_env({"HUIYAN_CLASSIFIER_FACTORY": "tests.fixtures.classifiers"}))
    with pytest.raises(ValueError, match="has no name, version, categories, predict_detailed"):
        build_context(Settings.from_env({"HUIYAN_CLASSIFIER_FACTORY": "builtins:repr"}))


def test_a_media_item_at_the_media_limit_always_fits_the_event_limit() -> None:
    from tests.fixtures.events import event_bytes
    from tests.fixtures.labels import media_fields

    settings = Settings.from_env({})
    png = b"\x89PNG\r\n\x1a\n" + bytes(settings.max_media_bytes - 8)
    raw = event_bytes("at-the-limit", text="生成的图片说明" * 50, **media_fields(png))
    parsed = parse_event(
        raw, max_event_bytes=settings.max_event_bytes, max_media_bytes=settings.max_media_bytes
    )
    assert not isinstance(parsed, EventRejected), parsed
    with pytest.raises(ValueError, match=r"HUIYAN_MAX_MEDIA_BYTES .* does not fit HUIYAN_MAX_EVENT_BYTES"):
        Settings.from_env({"HUIYAN_MAX_MEDIA_BYTES": str(768 * 1024)})  # the old default: 1 MiB of base64
    Settings.from_env(
        {
            "HUIYAN_MAX_MEDIA_BYTES": "2000000",
            "HUIYAN_MAX_EVENT_BYTES": "2800000",
            "HUIYAN_KAFKA_MAX_MESSAGE_BYTES": "3000000",
        }
    )  # raised together: consistent
