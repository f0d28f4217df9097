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
