#!/usr/bin/env bash
# Runs the whole test suite: ruff, mypy, unit tests and integration tests against a real Kafka broker.
# Starts the broker unless one is running, and stops it again if it started it. Extra arguments go to pytest.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

echo "== ruff" >&2
.venv/bin/ruff check stream classifiers tests
.venv/bin/ruff format --check stream classifiers tests
echo "== mypy" >&2
.venv/bin/mypy

started=0
if ! deploy/kafka/broker.sh status 2>/dev/null; then
  deploy/kafka/broker.sh start
  started=1
fi
cleanup() { if [[ $started == 1 ]]; then deploy/kafka/broker.sh stop; fi; }
trap cleanup EXIT

echo "== pytest" >&2
# The integration tests fail (not skip) when the broker is unreachable under this command.
HUIYAN_REQUIRE_BROKER=1 HUIYAN_TEST_BROKER="127.0.0.1:${HUIYAN_KAFKA_PORT:-19092}" \
  .venv/bin/python -m pytest -p no:cacheprovider "$@"
