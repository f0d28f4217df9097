# shellcheck shell=bash
# Shared by make run, make test and the benchmarks: one rule for where local
# Postgres and Redis keep their data and which loopback ports they use.
#
# Data lives in /var/tmp/chatterly-<hash of the checkout path>: reachable by the
# postgres system user even when the checkout sits in a 0700 folder under /root.
# Ports are derived from the same hash, so two checkouts never collide with each
# other or with system services on 5432/6379.

set -euo pipefail

CHECKOUT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
_hash=$(printf %s "$CHECKOUT" | cksum | cut -d' ' -f1)
STACK_DIR=${STACK_DIR:-/var/tmp/chatterly-$(printf %s "$CHECKOUT" | sha1sum | cut -c1-12)}
LOCAL_PG_PORT=${LOCAL_PG_PORT:-$((20000 + (_hash % 4000) * 2))}
LOCAL_REDIS_PORT=${LOCAL_REDIS_PORT:-$((LOCAL_PG_PORT + 1))}
# make fleet's block of 14 ports, all below 32768 and clear of the ports
# above: its Redis Cluster's 6 nodes from FLEET_REDIS_PORT (their bus ports
# 6 above), then the Postgres streaming replica and PgBouncer.
FLEET_REDIS_PORT=${FLEET_REDIS_PORT:-$((28000 + (_hash % 340) * 14))}
FLEET_REPLICA_PORT=${FLEET_REPLICA_PORT:-$((FLEET_REDIS_PORT + 12))}
FLEET_PGBOUNCER_PORT=${FLEET_PGBOUNCER_PORT:-$((FLEET_REDIS_PORT + 13))}
# Debian's pgbouncer package (make fleet; make test's PgBouncer runs use
# the same binary, api/pgtest).
PGBOUNCER_BIN=${PGBOUNCER_BIN:-/usr/sbin/pgbouncer}
PG_DATA="$STACK_DIR/pg"
REDIS_DATA="$STACK_DIR/redis"
LOCAL_DATABASE_URL="postgres://postgres@127.0.0.1:$LOCAL_PG_PORT/chatterly?sslmode=disable"
LOCAL_ADMIN_URL="postgres://postgres@127.0.0.1:$LOCAL_PG_PORT/postgres?sslmode=disable"
LOCAL_REDIS_URL="redis://127.0.0.1:$LOCAL_REDIS_PORT/0"

log() { printf '[stack] %s\n' "$*" >&2; }

# pg_bin finds the Postgres server binaries, which Debian keeps off the PATH.
pg_bin() {
  local d
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/postgres" ] && { echo "$d"; return 0; }
  done
  command -v postgres >/dev/null 2>&1 && { dirname "$(command -v postgres)"; return 0; }
  return 1
}

# ensure_binaries [pgbouncer] installs postgresql and redis-server (and
# pgbouncer when asked: make fleet) with apt-get when they are missing and we
# are root; otherwise it stops with the command to run. The pgbouncer
# package's own service is stopped and disabled if installing started it:
# make fleet runs its own (own ini and port).
ensure_binaries() {
  local missing=()
  pg_bin >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  if [ "${1:-}" = pgbouncer ] && [ ! -x "$PGBOUNCER_BIN" ]; then missing+=(pgbouncer); fi
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  log "installing ${missing[*]} with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  if [[ " ${missing[*]} " == *" pgbouncer "* ]]; then
    if [ -x /etc/init.d/pgbouncer ]; then
      /etc/init.d/pgbouncer stop >/dev/null 2>&1 || true
      update-rc.d pgbouncer disable >/dev/null 2>&1 || true
    fi
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now pgbouncer >/dev/null 2>&1 || true; fi
  fi
}

# chromium_bin prints the Debian package's Chromium, or fails.
chromium_bin() {
  local p
  for p in /usr/lib/chromium/chromium /usr/bin/chromium; do
    [ -x "$p" ] && { echo "$p"; return 0; }
  done
  return 1
}

# ensure_chromium installs the Debian package's Chromium with apt-get when
# it is missing and we are root (the E2E suite never downloads a browser);
# otherwise it stops with the command to run.
ensure_chromium() {
  chromium_bin >/dev/null && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "e2e: Chromium is missing. Install it with: sudo apt-get install -y chromium"
    exit 1
  fi
  log "e2e: installing chromium with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  chromium_bin >/dev/null || { log "e2e: apt-get install -y chromium did not provide a chromium binary"; exit 1; }
}

# as_pg runs a command as the postgres system user when we are root (Postgres
# refuses to run as root); otherwise as ourselves. For foreground commands.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- env PATH="$PATH" "$@"
  else
    "$@"
  fi
}

prepare_dirs() {
  mkdir -p "$STACK_DIR" "$REDIS_DATA"
  chmod 0755 "$STACK_DIR"
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    local bin; bin=$(pg_bin)
    rm -rf "$PG_DATA"; mkdir -p "$PG_DATA"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DATA"
    chmod 0700 "$PG_DATA"
    log "initdb in $PG_DATA"
    (cd / && as_pg "$bin/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null)
  fi
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$PG_DATA"; fi
}

# as_pg_argv sets AS_PG_ARGV to the prefix that runs a command as the
# postgres system user when we are root (Postgres and PgBouncer refuse to
# run as root), empty otherwise; setpriv and env exec in place.
as_pg_argv() {
  AS_PG_ARGV=()
  if [ "$(id -u)" -eq 0 ]; then
    AS_PG_ARGV=(setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- env PATH="$PATH")
  fi
}

# pg_argv [DIR PORT] sets PG_ARGV to the foreground Postgres command on DIR
# and PORT (PG_DATA and LOCAL_PG_PORT by default; make fleet's replica runs
# with the same settings, as a hot standby must). No pg_ctl: it detaches
# into its own session. Started in the background as a plain command,
# "${PG_ARGV[@]}" & gives $! = the postgres process itself, so a signal to
# $! reaches Postgres, not a subshell.
pg_argv() {
  local dir=${1:-$PG_DATA} port=${2:-$LOCAL_PG_PORT} bin
  bin=$(pg_bin)
  as_pg_argv
  PG_ARGV=("${AS_PG_ARGV[@]}" "$bin/postgres" -D "$dir" -p "$port" -c listen_addresses=127.0.0.1
    -c unix_socket_directories="$dir" -c max_connections=400 -c shared_buffers=256MB
    -c log_min_messages=warning -c log_line_prefix=)
}

# pg_replica DIR makes a streaming replica of the Postgres on LOCAL_PG_PORT
# in DIR, afresh: it holds nothing of its own, and one left by an earlier
# start may lack WAL the primary has recycled since. pg_basebackup -R writes
# its standby.signal and primary_conninfo; the primary's pg_hba (initdb
# --auth=trust) lets replication in from loopback.
pg_replica() {
  local dir=$1 bin
  bin=$(pg_bin)
  rm -rf "$dir"; mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
  chmod 0700 "$dir"
  (cd / && as_pg "$bin/pg_basebackup" -h 127.0.0.1 -p "$LOCAL_PG_PORT" -U postgres -D "$dir" -X stream -R -c fast)
}

# pgbouncer_argv DIR PORT writes DIR/pgbouncer.ini and sets PGBOUNCER_ARGV
# to the foreground pgbouncer command on it: any database name goes to that
# database on the Postgres on LOCAL_PG_PORT, in transaction pooling mode as
# production runs it (api/pgtest's test PgBouncer is configured alike). It
# logs to its standard error. The package's system service is never used.
pgbouncer_argv() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=127.0.0.1 port=$LOCAL_PG_PORT user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = any
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
server_reset_query =
ignore_startup_parameters = extra_float_digits
log_connections = 0
log_disconnections = 0
INI
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$dir"; fi
  as_pg_argv
  PGBOUNCER_ARGV=("${AS_PG_ARGV[@]}" "$PGBOUNCER_BIN" "$dir/pgbouncer.ini")
}

pg_up() { pg_port_up "$LOCAL_PG_PORT"; }
# pg_port_up PORT: the Postgres on PORT accepts connections.
pg_port_up() { pg_isready -q -U postgres -h 127.0.0.1 -p "$1" >/dev/null 2>&1; }
redis_up() { redis-cli -p "$LOCAL_REDIS_PORT" ping 2>/dev/null | grep -q PONG; }
# redis_port_up PORT: the Redis on PORT answers.
redis_port_up() { redis-cli -p "$1" ping 2>/dev/null | grep -q PONG; }

# wait_for NAME SECONDS CHECK...: polls CHECK until it succeeds.
wait_for() {
  local name=$1 secs=$2; shift 2
  local i
  for ((i = 0; i < secs * 10; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  log "$name did not come up within ${secs}s"
  return 1
}

# create_db makes the application database when it is missing.
create_db() {
  local admin=$1 name=$2
  if ! psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname='$name'" | grep -q 1; then
    psql "$admin" -q -c "CREATE DATABASE \"$name\"" >/dev/null
  fi
}

# The web client (web/, when it exists): make run builds it when it changed
# and serves the production build. The stamps live in STACK_DIR.
WEB_DIR=${WEB_DIR:-$CHECKOUT/web}

# web_hash prints a hash of the content of web/'s files that git tracks or
# would track (untracked files not ignored count too, so a new page
# rebuilds; node_modules and .next are ignored, and so is the E2E suite in
# web/e2e, which is not part of the build).
web_hash() {
  (cd "$WEB_DIR" && git ls-files -z --cached --others --exclude-standard . ':(exclude)e2e' |
    { xargs -0 -r sha256sum 2>/dev/null || true; } | sha256sum | cut -c1-32)
}

# web_build runs `npm ci` when web/package-lock.json changed since the last
# one (or node_modules is gone) and `npm run build` when web/'s files changed
# since the last successful build. Output is prefixed "[web] ".
web_build() {
  command -v npm >/dev/null 2>&1 || {
    log "web/ needs Node 20 and npm: sudo apt-get install -y nodejs npm"; exit 1; }
  local deps build
  mkdir -p "$STACK_DIR"
  deps=$(sha256sum <"$WEB_DIR/package-lock.json" | cut -c1-32)
  if [ ! -d "$WEB_DIR/node_modules" ] || [ "$(cat "$STACK_DIR/web-deps.stamp" 2>/dev/null)" != "$deps" ]; then
    log "web: npm ci (package-lock.json changed)"
    (cd "$WEB_DIR" && npm ci --no-audit --no-fund) 2>&1 | sed -u 's/^/[web] /'
    echo "$deps" >"$STACK_DIR/web-deps.stamp"
  fi
  build=$(web_hash)
  if [ ! -f "$WEB_DIR/.next/BUILD_ID" ] || [ "$(cat "$STACK_DIR/web-build.stamp" 2>/dev/null)" != "$build" ]; then
    log "web: npm run build (web/ changed since the last build)"
    (cd "$WEB_DIR" && NEXT_TELEMETRY_DISABLED=1 npm run build) 2>&1 | sed -u 's/^/[web] /'
    echo "$build" >"$STACK_DIR/web-build.stamp"
  else
    log "web: build is up to date"
  fi
}

# web_script NAME prints web/package.json's script NAME. make run runs the
# start script itself, as `npm run start` would (node_modules/.bin first on
# PATH), because npm does not pass a SIGTERM sent to it alone on to the
# server and exits 143 whatever the server did: with the script run by bash
# (which execs a simple command), the server is make run's own child.
web_script() {
  node -e 'const s = require(process.argv[1]).scripts || {};
    if (!s[process.argv[2]]) { console.error("web/package.json has no " + process.argv[2] + " script"); process.exit(1); }
    process.stdout.write(s[process.argv[2]]);' "$WEB_DIR/package.json" "$1"
}

# web_env exports what the web server reads at run time, each defaulting
# from the api's and edge's addresses, and lets its origin through CORS and
# the edge's handshake when ALLOWED_ORIGINS is unset.
web_env() {
  export WEB_ADDR=${WEB_ADDR:-127.0.0.1:3000}
  export WEB_API_URL=${WEB_API_URL:-http://${API_ADDR:-127.0.0.1:8080}}
  export WEB_CABLE_URL=${WEB_CABLE_URL:-ws://${EDGE_ADDR:-127.0.0.1:8081}/cable}
  export ALLOWED_ORIGINS=${ALLOWED_ORIGINS:-http://$WEB_ADDR}
  export NEXT_TELEMETRY_DISABLED=1
}
