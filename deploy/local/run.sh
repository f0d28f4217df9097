#!/usr/bin/env bash
# make run: local Postgres and Redis (unless DATABASE_URL / REDIS_URL are set),
# migrations, dev keys, then every Chatterly process in the foreground with its
# log lines prefixed. SIGINT/SIGTERM stops everything this script started.
source "$(dirname "$0")/lib.sh"
cd "$CHECKOUT"

pids=()      # application processes, stopped first
svc_pids=()  # postgres and redis, stopped last
stopping=0

stop_all() {
  [ "$stopping" -eq 1 ] && return
  stopping=1
  log "stopping"
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # SIGINT is Postgres' fast shutdown; SIGTERM would wait for clients.
  [ -n "${PG_PID:-}" ] && kill -INT "$PG_PID" 2>/dev/null || true
  [ -n "${REDIS_PID:-}" ] && kill -TERM "$REDIS_PID" 2>/dev/null || true
  for p in "${svc_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  log "stopped"
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

# start NAME CMD...: runs CMD in the background with "[NAME] " before each line.
start() {
  local name=$1; shift
  "$@" > >(sed -u "s/^/[$name] /") 2>&1 &
  LAST_PID=$!
}

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  ensure_binaries
  mkdir -p "$STACK_DIR"
fi
if [ -z "${DATABASE_URL:-}" ]; then
  prepare_dirs
  if pg_up; then log "postgres already answers on $LOCAL_PG_PORT: is another make run going?"; exit 1; fi
  pg_argv
  start postgres "${PG_ARGV[@]}"; PG_PID=$LAST_PID; svc_pids+=("$PG_PID")
  wait_for postgres 30 pg_up
  create_db "$LOCAL_ADMIN_URL" chatterly
  export DATABASE_URL="$LOCAL_DATABASE_URL"
  log "postgres on 127.0.0.1:$LOCAL_PG_PORT, data in $PG_DATA"
fi
if [ -z "${REDIS_URL:-}" ]; then
  mkdir -p "$REDIS_DATA"
  start redis redis-server --port "$LOCAL_REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DATA" \
    --save '' --appendonly yes --appendfsync everysec --loglevel warning --daemonize no
  REDIS_PID=$LAST_PID; svc_pids+=("$REDIS_PID")
  wait_for redis 15 redis_up
  export REDIS_URL="$LOCAL_REDIS_URL"
  log "redis on 127.0.0.1:$LOCAL_REDIS_PORT"
fi
export JWT_KEY_DIR="${JWT_KEY_DIR:-$STACK_DIR/keys}"
export JWT_DEV_KEYS="${JWT_DEV_KEYS:-1}"

bin/chatterly-api migrate
bin/chatterly-api keygen

for p in api edge worker; do
  if [ -x "bin/chatterly-$p" ]; then
    start "$p" "bin/chatterly-$p"; pids+=("$LAST_PID")
  fi
done
log "running; Ctrl-C stops everything"

# Any process ending takes the whole stack down: a half-running stack misleads.
set +e
wait -n "${pids[@]}" "${svc_pids[@]}"
code=$?
[ "$stopping" -eq 0 ] && log "a process exited (status $code); stopping the rest"
stop_all
exit "$code"
