#!/usr/bin/env bash
# Runs the whole test suite: ruff, mypy, unit tests and integration tests against a real Kafka broker.
# Starts the broker unless one is running, and stops it again if it started it. Extra arguments go to pytest.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"

echo "== ruff" >&2
.venv/bin/ruff check stream classifiers tests deploy/grafana
.venv/bin/ruff format --check stream classifiers tests deploy/grafana
echo "== mypy" >&2
.venv/bin/mypy
echo "== wheel" >&2
deploy/dev/wheel_check.sh

# Two brokers: the plain one most tests use, and the authenticated one (SASL_SSL, ACLs) of the security
# tests. Each is started unless running, and stopped again if this script started it.
secure=(env HUIYAN_KAFKA_SECURITY=sasl_ssl HUIYAN_KAFKA_PORT="${HUIYAN_KAFKA_SECURE_PORT:-19192}"
        HUIYAN_KAFKA_CONTROLLER_PORT="${HUIYAN_KAFKA_SECURE_CONTROLLER_PORT:-19193}"
        HUIYAN_KAFKA_HOME="${HUIYAN_KAFKA_SECURE_HOME:-$repo/.kafka-secure}")
started=0 started_secure=0
if ! deploy/kafka/broker.sh status 2>/dev/null; then
  deploy/kafka/broker.sh start
  started=1
fi
started_pg=0
cleanup() {
  if [[ $started_secure == 1 ]]; then "${secure[@]}" deploy/kafka/broker.sh stop; fi
  if [[ $started == 1 ]]; then deploy/kafka/broker.sh stop; fi
  if [[ $started_pg == 1 ]]; then deploy/postgres/pg.sh stop; fi
}
trap cleanup EXIT
if ! "${secure[@]}" deploy/kafka/broker.sh status 2>/dev/null; then
  "${secure[@]}" deploy/kafka/broker.sh start
  started_secure=1
fi

# Chromium for the console's browser test, and a font with Chinese glyphs for its screenshots (Debian's
# packages, installed here as root when missing).
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then
  if [[ "$(id -u)" == 0 ]]; then
    echo "[test] installing Debian's chromium and fonts-wqy-zenhei" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
  fi
fi

# Prometheus and promtool for the rules' unit tests and the operations test (Debian's package).
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
  if [[ "$(id -u)" == 0 ]]; then
    echo "[test] installing Debian's prometheus" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prometheus >/dev/null
  fi
fi

# PostgreSQL for the decision store's tests (Debian's package, installed here when missing).
if ! deploy/postgres/pg.sh status >/dev/null 2>&1; then
  deploy/postgres/pg.sh start
  started_pg=1
fi

echo "== pytest" >&2
# The integration tests fail (not skip) when a broker is unreachable under this command.
HUIYAN_REQUIRE_BROKER=1 HUIYAN_REQUIRE_PG=1 HUIYAN_REQUIRE_CHROMIUM=1 HUIYAN_REQUIRE_PROMETHEUS=1 HUIYAN_TEST_PG_URL="$(deploy/postgres/pg.sh url)" HUIYAN_TEST_BROKER="127.0.0.1:${HUIYAN_KAFKA_PORT:-19092}" \
  HUIYAN_TEST_SECURE_BROKER="127.0.0.1:${HUIYAN_KAFKA_SECURE_PORT:-19192}" \
  HUIYAN_TEST_SECURE_HOME="${HUIYAN_KAFKA_SECURE_HOME:-$repo/.kafka-secure}" \
  .venv/bin/python -m pytest -p no:cacheprovider "$@"
