"""Registers the fixture modules the tests share (tests/fixtures/)."""

pytest_plugins = ["tests.fixtures.kafka", "tests.fixtures.api", "tests.fixtures.stores"]
