#!/usr/bin/env bash
# The development and CI PostgreSQL of the decision store: Debian's package, a cluster of its own in
# .postgres/ on 127.0.0.1:15432 (trust auth on the loopback only), database "huiyan".
#   deploy/postgres/pg.sh install|start|stop|status|url
# Environment: HUIYAN_PG_PORT (15432), HUIYAN_PG_HOME (<repo>/.postgres; as root, a folder under /tmp
# named after the checkout, which the "postgres" user can reach wherever the checkout lives). Every
# subcommand is safe to repeat. As root the cluster runs as the "postgres" user (PostgreSQL refuses to
# run as root).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
port="${HUIYAN_PG_PORT:-15432}"
if [[ "$(id -u)" == 0 ]]; then
  default_home="${TMPDIR:-/tmp}/huiyan-postgres-$(printf %s "$repo" | sha256sum | cut -c1-12)"
else
  default_home="$repo/.postgres"
fi
home="${HUIYAN_PG_HOME:-$default_home}"
data="$home/data"

bindir() {
  local found
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
  [[ -n "$found" ]] && echo "$found"
}

as_owner() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  if [[ -n "$(bindir)" ]]; then return; fi
  if [[ "$(id -u)" != 0 ]]; then
    echo "[postgres] not installed: run as root, or apt-get install postgresql" >&2; exit 1
  fi
  echo "[postgres] installing Debian's postgresql package" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

status() {
  [[ -f "$data/postmaster.pid" ]] && as_owner "$(bindir)/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
  install
  local bin; bin="$(bindir)"
  mkdir -p "$home"
  if [[ "$(id -u)" == 0 ]]; then chown postgres "$home"; fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if status; then echo "[postgres] running on 127.0.0.1:$port"; return; fi
  as_owner "$bin/pg_ctl" -D "$data" -l "$home/log" -w -t 60 \
    -o "-p $port -k $home -c listen_addresses=127.0.0.1 -c fsync=on" start >/dev/null
  as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'huiyan'" | grep -q 1 \
    || as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres huiyan
  echo "[postgres] ready on 127.0.0.1:$port (postgresql://postgres@127.0.0.1:$port/huiyan)"
}

stop() {
  if status; then as_owner "$(bindir)/pg_ctl" -D "$data" -m fast -w stop >/dev/null; echo "[postgres] stopped"; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) if status; then echo "[postgres] running on 127.0.0.1:$port"; else echo "[postgres] not running"; exit 1; fi ;;
  url) echo "postgresql://postgres@127.0.0.1:$port/huiyan" ;;
  *) echo "usage: $0 install|start|stop|status|url" >&2; exit 2 ;;
esac
