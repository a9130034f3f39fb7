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
#   HUIYAN_KAFKA_JVM_OPTS (-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1),
#   HUIYAN_KAFKA_MAX_MESSAGE_BYTES (2097152: message.max.bytes, the limit Huiyan's producers read too).
# TieredStopAtLevel=1 compiles with C1 only. With the C2 compiler, the broker on this project's 2-core
# machine spent 0.25 of a core compiling, minutes into a steady load of 180 events/s: half of its CPU,
# taken from the workers (benchmarks/RESULTS.md, fifth session). Drop the flag for a long-running broker
# on more cores.
#
# Secure mode: HUIYAN_KAFKA_SECURITY=sasl_ssl (default: plaintext, the mode above) runs a second, independent
# broker that can run beside the plain one. Its defaults: HUIYAN_KAFKA_PORT 19192,
# HUIYAN_KAFKA_CONTROLLER_PORT 19193, HUIYAN_KAFKA_HOME <repo>/.kafka-secure; config from
# server-secure.properties.in. Every command takes the variable, e.g.
#   HUIYAN_KAFKA_SECURITY=sasl_ssl deploy/kafka/broker.sh start
#   - client and inter-broker listener: SASL_SSL, mechanism SCRAM-SHA-512 only, on 127.0.0.1:<port>;
#   - controller listener: SSL with a client certificate required (the broker presents its own certificate,
#     principal User:CN=huiyan-kafka-broker); KRaft cannot use SCRAM on the controller listener;
#   - StandardAuthorizer, super.users=User:broker;User:CN=huiyan-kafka-broker, no access without an ACL,
#     no automatic topic creation.
# Files under <home> (created by start when missing):
#   tls/ca.pem              CA certificate: clients' trust store (ssl_cafile). ca.key beside it (mode 600).
#   tls/broker.pem          broker certificate, subjectAltName IP:127.0.0.1,DNS:localhost (hostname
#                           verification works for either name); tls/broker-keystore.pem (encrypted key +
#                           chain) and tls/broker-key.password are what the broker reads.
#                           The broker certificate is re-issued when missing or within 30 days of expiry;
#                           delete tls/ to make a new CA.
#   credentials/NAME.password   SCRAM-SHA-512 password (mode 600, no trailing newline) of each user, created at
#                           storage format time: broker (super user: inter-broker traffic and the operator's
#                           user for topics and ACLs), huiyan-admin, huiyan-worker, huiyan-producer.
#                           Random unless HUIYAN_KAFKA_PASSWORD_<NAME> is set when the file is first written
#                           (NAME upper case, '-' as '_', e.g. HUIYAN_KAFKA_PASSWORD_HUIYAN_WORKER; characters
#                           A-Z a-z 0-9 . _ ~ - only, at least 8).
#   reset deletes data/, credentials/ and server.properties, but keeps tls/ so that clients' CA file stays valid.

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
security="${HUIYAN_KAFKA_SECURITY:-plaintext}"
# The brokers' message.max.bytes: the same variable sets Huiyan's producers' limit (stream/settings.py).
max_message_bytes="${HUIYAN_KAFKA_MAX_MESSAGE_BYTES:-2097152}"
case "$security" in
  plaintext) port_default=19092 cport_default=19093 home_default="$repo/.kafka" template=server.properties.in ;;
  sasl_ssl) port_default=19192 cport_default=19193 home_default="$repo/.kafka-secure" template=server-secure.properties.in ;;
  *) echo "[kafka] HUIYAN_KAFKA_SECURITY must be plaintext or sasl_ssl, not '$security'" >&2; exit 2 ;;
esac
port="${HUIYAN_KAFKA_PORT:-$port_default}"
cport="${HUIYAN_KAFKA_CONTROLLER_PORT:-$cport_default}"
home="${HUIYAN_KAFKA_HOME:-$home_default}"
timeout_s="${HUIYAN_KAFKA_START_TIMEOUT:-120}"
heap="${HUIYAN_KAFKA_HEAP:--Xms256m -Xmx512m}"
jvm_opts="${HUIYAN_KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1}"
pidfile="$home/broker.pid"
logfile="$home/broker.log"
cpfile="$home/classpath.txt"
# Secure mode only.
tls="$home/tls"
creds="$home/credentials"
scram_users=(broker huiyan-admin huiyan-worker huiyan-producer)
# The subject of the broker certificate, which is the principal of the broker's own connections to the
# controller listener (SSL client authentication, default ssl.principal.mapping.rules).
broker_cn="huiyan-kafka-broker"
controller_principal="User:CN=$broker_cn"

say() { echo "[kafka] $*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

our_pid() {
  # Prints the PID of the broker this script started, if that process is still a Kafka broker.
  [[ -f "$pidfile" ]] || return 1
  local pid; pid="$(cat "$pidfile")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  grep -q "kafka.Kafka" "/proc/$pid/cmdline" 2>/dev/null || return 1
  # ... and the broker of this home (the plain and the secure broker may run side by side).
  grep -qF "$home/server.properties" "/proc/$pid/cmdline" 2>/dev/null || return 1
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

ensure_tls() {
  # A CA and a broker certificate signed by it, PEM, made once. The CA key stays beside ca.pem (mode 600).
  mkdir -p "$tls"; chmod 700 "$tls"
  if [[ ! -s "$tls/ca.pem" || ! -s "$tls/ca.key" ]]; then
    say "creating a CA in $tls"
    rm -f "$tls/ca.pem" "$tls/ca.key" "$tls/broker.pem" "$tls/broker-keystore.pem"
    printf '%s\n' '[ext]' 'basicConstraints=critical,CA:TRUE' 'keyUsage=critical,keyCertSign,cRLSign' \
      'subjectKeyIdentifier=hash' > "$tls/ca.ext"
    (umask 077; openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tls/ca.key" 2>/dev/null)
    openssl req -x509 -new -key "$tls/ca.key" -subj "/CN=Huiyan development Kafka CA" -days 3650 \
      -sha256 -set_serial "0x$(openssl rand -hex 16)" -config "$tls/ca.ext" -extensions ext \
      -out "$tls/ca.pem"
    rm -f "$tls/ca.ext"
  fi
  if [[ -s "$tls/broker.pem" && -s "$tls/broker-keystore.pem" && -s "$tls/broker-key.password" ]] \
     && openssl x509 -in "$tls/broker.pem" -noout -checkend $((30 * 86400)) >/dev/null; then
    return 0
  fi
  say "issuing the broker certificate (CN=$broker_cn, IP:127.0.0.1, DNS:localhost) in $tls"
  [[ -s "$tls/broker-key.password" ]] || (umask 077; openssl rand -hex 24 | tr -d '\n' > "$tls/broker-key.password")
  # Kafka reads a PEM key store file only with an encrypted PKCS#8 key (ssl.key.password), and decrypts it
  # with SecretKeyFactory.getInstance(<algorithm of the key>): OpenSSL 3's default PBES2 (AES) encryption
  # fails there on Java 17 ("PBES2 SecretKeyFactory not available"), PKCS#12 PBE with 3DES (Java's
  # PBEWithSHA1AndDESede) works. The file stays readable by its owner only.
  (umask 077
   openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tls/broker.key.plain" 2>/dev/null
   openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES -in "$tls/broker.key.plain" -passout "file:$tls/broker-key.password" \
     -out "$tls/broker.key"
   rm -f "$tls/broker.key.plain")
  printf '%s\n' '[ext]' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
    'extendedKeyUsage=serverAuth,clientAuth' 'subjectAltName=IP:127.0.0.1,DNS:localhost' \
    'subjectKeyIdentifier=hash' 'authorityKeyIdentifier=keyid' > "$tls/broker.ext"
  openssl req -new -key "$tls/broker.key" -passin "file:$tls/broker-key.password" -subj "/CN=$broker_cn" \
    -out "$tls/broker.csr"
  openssl x509 -req -in "$tls/broker.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -days 825 -sha256 \
    -set_serial "0x$(openssl rand -hex 16)" -extfile "$tls/broker.ext" -extensions ext \
    -out "$tls/broker.pem" 2>/dev/null
  # Key store: key, then the chain (broker certificate, CA).
  (umask 077; cat "$tls/broker.key" "$tls/broker.pem" "$tls/ca.pem" > "$tls/broker-keystore.pem")
  rm -f "$tls/broker.csr" "$tls/broker.ext" "$tls/broker.key"
}

formatted() { [[ -f "$home/data/meta.properties" ]]; }

ensure_credentials() {
  # One SCRAM password per user, made before the storage is formatted with them.
  mkdir -p "$creds"; chmod 700 "$creds"
  local name var file pw
  for name in "${scram_users[@]}"; do
    file="$creds/$name.password"
    var="HUIYAN_KAFKA_PASSWORD_$(tr 'a-z-' 'A-Z_' <<< "$name")"
    if [[ -s "$file" ]]; then
      if [[ -n "${!var:-}" && "${!var}" != "$(cat "$file")" ]]; then
        say "$var differs from $file and is ignored: the password is set when storage is formatted (run reset)"
      fi
      continue
    fi
    if formatted; then
      say "$file is missing but $home/data was formatted with its password; run reset (deletes the data)"
      return 1
    fi
    pw="${!var:-$(openssl rand -hex 24)}"
    if [[ ! "$pw" =~ ^[A-Za-z0-9._~-]{8,}$ ]]; then
      say "$var: use at least 8 characters from A-Z a-z 0-9 . _ ~ -"; return 1
    fi
    (umask 077; printf '%s' "$pw" > "$file")
  done
}

write_config() {
  mkdir -p "$home/data"
  if [[ "$security" == plaintext ]]; then
    sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" -e "s|@DATA_DIR@|$home/data|g" \
        -e "s|@MAX_MESSAGE_BYTES@|$max_message_bytes|g" \
        "$here/server.properties.in" > "$home/server.properties"
    return 0
  fi
  # Holds the broker's SCRAM password and the key password: readable by the owner only.
  (umask 077; rm -f "$home/server.properties"
   sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" -e "s|@DATA_DIR@|$home/data|g" \
       -e "s|@TLS_DIR@|$tls|g" -e "s|@KEY_PASSWORD@|$(cat "$tls/broker-key.password")|g" \
       -e "s|@BROKER_PASSWORD@|$(cat "$creds/broker.password")|g" \
       -e "s|@CONTROLLER_PRINCIPAL@|$controller_principal|g" \
       -e "s|@MAX_MESSAGE_BYTES@|$max_message_bytes|g" \
       "$here/$template" > "$home/server.properties")
}

java_args() {
  # The JVM command line, one argument per line (setsid needs a program, not a shell function).
  local a o; read -r -a a <<< "$heap"; read -r -a o <<< "$jvm_opts"
  printf '%s\n' java "${a[@]}" "${o[@]}" -Djava.awt.headless=true \
    "-Dlog4j2.configurationFile=$here/log4j2.properties" -cp "$(cat "$cpfile")"
}

java_cmd() { local cmd; mapfile -t cmd < <(java_args); "${cmd[@]}" "$@"; }

format_storage() {
  formatted && return 0
  local cid name scram=()
  # An id that starts with "-" reads as an option to the storage tool (1 in 64): draw again, as Kafka's
  # own Uuid.randomUuid does.
  cid="$(python3 -c 'import base64,uuid
while (c := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"): pass
print(c)')"
  say "formatting storage in $home/data (cluster id $cid)"
  # Static quorum (controller.quorum.voters): format without --standalone.
  if [[ "$security" == sasl_ssl ]]; then
    # SCRAM users go into the bootstrap metadata; the broker authenticates them from its first start.
    for name in "${scram_users[@]}"; do
      scram+=(--add-scram "SCRAM-SHA-512=[name=$name,password=$(cat "$creds/$name.password")]")
    done
    say "SCRAM-SHA-512 users: ${scram_users[*]}"
  fi
  java_cmd kafka.tools.StorageTool format -t "$cid" -c "$home/server.properties" --ignore-formatted \
    ${scram[@]+"${scram[@]}"} >&2
}

start() {
  if pid="$(our_pid)"; then
    if port_open "$port"; then say "already running (pid $pid) on 127.0.0.1:$port"; secure_info; return 0; fi
  elif port_open "$port"; then
    say "port 127.0.0.1:$port is taken by a process this script did not start; set HUIYAN_KAFKA_PORT"; return 1
  fi
  fetch
  if [[ "$security" == sasl_ssl ]]; then ensure_tls; ensure_credentials; fi
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
  secure_info
}

secure_info() {
  [[ "$security" == sasl_ssl ]] || return 0
  say "SASL_SSL, SCRAM-SHA-512 on 127.0.0.1:$port (certificate valid for 127.0.0.1 and localhost)"
  say "CA certificate: $tls/ca.pem"
  say "credentials: $creds/<user>.password for users: ${scram_users[*]} (broker is the super user)"
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

reset() {
  stop
  rm -rf "$home/data"
  if [[ "$security" == sasl_ssl ]]; then
    # The SCRAM users live in the data; new passwords are made with the next format. TLS files are kept.
    rm -rf "$creds" "$home/server.properties"
    say "data and credentials removed (TLS files kept in $tls)"
  else
    say "data removed"
  fi
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) reset ;;
  *) echo "usage: $0 fetch|start|stop|status|reset" >&2; exit 2 ;;
esac
