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
# make fleet's Redis Cluster: 6 nodes from here, their bus ports 6 above
# (12 ports, all below 32768, clear of the ports above).
FLEET_REDIS_PORT=${FLEET_REDIS_PORT:-$((28000 + (_hash % 390) * 12))}
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

# ensure_binaries installs postgresql and redis-server with apt-get when they
# are missing and we are root; otherwise it stops with the command to run.
ensure_binaries() {
  local missing=()
  pg_bin >/dev/null || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    log "missing: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  log "installing ${missing[*]} with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
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

# pg_argv sets PG_ARGV to the foreground Postgres command (no pg_ctl: it
# detaches into its own session). Started in the background as a plain
# command, "${PG_ARGV[@]}" & gives $! = the postgres process itself (setpriv
# and env exec in place), so a signal to $! reaches Postgres, not a subshell.
pg_argv() {
  local bin; bin=$(pg_bin)
  PG_ARGV=()
  if [ "$(id -u)" -eq 0 ]; then
    PG_ARGV=(setpriv --reuid=postgres --regid=postgres --init-groups --reset-env -- env PATH="$PATH")
  fi
  PG_ARGV+=("$bin/postgres" -D "$PG_DATA" -p "$LOCAL_PG_PORT" -c listen_addresses=127.0.0.1
    -c unix_socket_directories="$PG_DATA" -c max_connections=400 -c shared_buffers=256MB
    -c log_min_messages=warning -c log_line_prefix=)
}

pg_up() { pg_isready -q -U postgres -h 127.0.0.1 -p "$LOCAL_PG_PORT" >/dev/null 2>&1; }
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
