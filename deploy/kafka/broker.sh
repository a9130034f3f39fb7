#!/usr/bin/env bash
# Single-node Apache Kafka (KRaft, broker+controller) for Huiyan's development and CI, from Maven jars.
#
#   deploy/kafka/broker.sh fetch     resolve the pinned Kafka jars into ~/.m2 (pom.xml beside this file)
#   deploy/kafka/broker.sh start     fetch if needed, format storage once, start, wait until clients are served
#   deploy/kafka/broker.sh stop      stop the broker by its own PID (SIGTERM, then SIGKILL after a grace period)
#   deploy/kafka/broker.sh status    exit 0 when our broker is running and accepting connections
#   deploy/kafka/broker.sh reset     stop and delete the broker's data (topics, offsets)
#
# Every command is safe to repeat. Settings (environment):
#   HUIYAN_KAFKA_PORT (19092), HUIYAN_KAFKA_CONTROLLER_PORT (19093),
#   HUIYAN_KAFKA_HOME (<repo>/.kafka: config, data, log, pid), HUIYAN_KAFKA_START_TIMEOUT (120 s),
#   HUIYAN_KAFKA_HEAP (-Xms256m -Xmx512m),
#   HUIYAN_KAFKA_JVM_OPTS (-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1).
# TieredStopAtLevel=1 compiles with C1 only. With the C2 compiler, the broker on this project's 2-core
# machine spent 0.25 of a core compiling, minutes into a steady load of 180 events/s: half of its CPU,
# taken from the workers (benchmarks/RESULTS.md, fifth session). Drop the flag for a long-running broker
# on more cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
port="${HUIYAN_KAFKA_PORT:-19092}"
cport="${HUIYAN_KAFKA_CONTROLLER_PORT:-19093}"
home="${HUIYAN_KAFKA_HOME:-$repo/.kafka}"
timeout_s="${HUIYAN_KAFKA_START_TIMEOUT:-120}"
heap="${HUIYAN_KAFKA_HEAP:--Xms256m -Xmx512m}"
jvm_opts="${HUIYAN_KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1}"
pidfile="$home/broker.pid"
logfile="$home/broker.log"
cpfile="$home/classpath.txt"

say() { echo "[kafka] $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

our_pid() {
  # Prints the PID of the broker this script started, if that process is still a Kafka broker.
  [[ -f "$pidfile" ]] || return 1
  local pid; pid="$(cat "$pidfile")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  grep -q "kafka.Kafka" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

fetch() {
  mkdir -p "$home"
  # The class path is rebuilt when pom.xml changes; otherwise Maven is not started at all.
  local stamp; stamp="$(sha256sum "$here/pom.xml" | cut -c1-16)"
  if [[ -s "$cpfile" && -f "$home/classpath.stamp" && "$(cat "$home/classpath.stamp")" == "$stamp" ]] \
     && tr ':' '\n' < "$cpfile" | while read -r jar; do [[ -f "$jar" ]] || exit 1; done; then
    return 0
  fi
  say "resolving Kafka jars with Maven (first run only)"
  mvn -B -q -f "$here/pom.xml" dependency:build-classpath \
      -Dmdep.outputFile="$cpfile" -Dmdep.includeScope=runtime >&2
  echo "$stamp" > "$home/classpath.stamp"
}

write_config() {
  mkdir -p "$home/data"
  sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" -e "s|@DATA_DIR@|$home/data|g" \
      "$here/server.properties.in" > "$home/server.properties"
}

java_args() {
  # The JVM command line, one argument per line (setsid needs a program, not a shell function).
  local a o; read -r -a a <<< "$heap"; read -r -a o <<< "$jvm_opts"
  printf '%s\n' java "${a[@]}" "${o[@]}" -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$here/log4j2.properties" -cp "$(cat "$cpfile")"
}

java_cmd() { local cmd; mapfile -t cmd < <(java_args); "${cmd[@]}" "$@"; }

format_storage() {
  [[ -f "$home/data/meta.properties" ]] && return 0
  local cid
  cid="$(python3 -c 'import base64,uuid;print(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))')"
  say "formatting storage in $home/data (cluster id $cid)"
  # Static quorum (controller.quorum.voters): format without --standalone.
  java_cmd kafka.tools.StorageTool format -t "$cid" -c "$home/server.properties" --ignore-formatted >&2
}

start() {
  if pid="$(our_pid)"; then
    if port_open "$port"; then say "already running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  elif port_open "$port"; then
    say "port 127.0.0.1:$port is taken by a process this script did not start; set HUIYAN_KAFKA_PORT"; return 1
  fi
  fetch
  write_config
  format_storage
  : > "$logfile"
  # setsid: the broker outlives the shell that started it (the demo and the test command stop it explicitly).
  local cmd; mapfile -t cmd < <(java_args)
  setsid "${cmd[@]}" kafka.Kafka "$home/server.properties" >> "$logfile" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local pid=$! deadline=$((SECONDS + timeout_s))
  say "starting broker (pid $pid) on 127.0.0.1:$port"
  until grep -q "Kafka Server started" "$logfile" && port_open "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then say "broker exited during start-up; log:"; tail -n 40 "$logfile" >&2; rm -f "$pidfile"; return 1; fi
    if (( SECONDS > deadline )); then say "broker not ready after ${timeout_s}s; log:"; tail -n 40 "$logfile" >&2; stop; return 1; fi
    sleep 0.5
  done
  say "ready on 127.0.0.1:$port"
}

stop() {
  local pid
  if ! pid="$(our_pid)"; then rm -f "$pidfile"; say "not running"; return 0; fi
  say "stopping broker (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then say "no exit after 30 s, sending SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$pidfile"
}

status() {
  if pid="$(our_pid)" && port_open "$port"; then say "running (pid $pid) on 127.0.0.1:$port"; return 0; fi
  say "not running"; return 1
}

reset() { stop; rm -rf "$home/data"; say "data removed"; }

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  *) echo "usage: $0 fetch|start|stop|status|reset" >&2; exit 2 ;;
esac
