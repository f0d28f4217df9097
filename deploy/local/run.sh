#!/usr/bin/env bash
# make run: local Postgres and Redis (unless DATABASE_URL / REDIS_URL are set),
# migrations, dev keys, the web client's build when web/ exists, then every
# Chatterly process in the foreground of make run's process group with its
# log lines prefixed ("[api] ...").
#
# Stopping (the documented way): Ctrl-C, or SIGTERM to the process group.
# Every process of the group gets the signal at once: the api, edge, worker
# and web server start draining, Postgres begins its shutdown (SIGTERM: smart,
# it waits for the drained processes to disconnect; SIGINT: fast) and Redis
# saves and exits. This script then also sends SIGTERM to the application
# processes still running after a short grace, waits for each, asks Postgres
# for its fast shutdown, waits for Postgres and Redis, and exits once every
# log line has been printed.
#
# The log prefixers ignore SIGINT and SIGTERM and end at end of input, that
# is when the process (and every child of it) whose output they carry has
# exited: a process draining on a signal can still log, and never dies of
# SIGPIPE because its reader went first.
#
# When a process ends without being asked to, the whole stack stops (README,
# "make run"): the log says which process, with its status, and make run
# exits non-zero.
#
# make fleet (FLEET=1) runs the multi-node topology the same way: a Redis
# Cluster of 6 nodes (3 masters with a replica each) instead of one Redis,
# 2 api, 3 edge, the worker and the web client (see fleet_ports), and
# beside the Postgres primary a streaming replica and PgBouncer
# (fleet_postgres).
source "$(dirname "$0")/lib.sh"
cd "$CHECKOUT"

BIN=${BIN:-bin}
STOP_GRACE=2 # seconds; see stop_all
declare -A name_of=() # pid → process name, for every process started below
apps=()               # api, edge, worker, web: stopped first
svcs=()               # postgres and redis: stopped last
cluster_pids=()       # make fleet's Redis Cluster nodes (among svcs)
int_pids=()           # make fleet's replica and PgBouncer (among svcs): stopped with SIGINT
FLEET=${FLEET:-0}
prefixers=()          # log prefixers, waited for at the very end
stopping=0
RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/chatterly-run.XXXXXX")

# describe STATUS: "status 0", "status 137 (SIGKILL)".
describe() {
  if [ "$1" -gt 128 ] && [ "$1" -lt 160 ]; then
    printf 'status %s (SIG%s)' "$1" "$(kill -l "$(($1 - 128))")"
  else
    printf 'status %s' "$1"
  fi
}

# reap PID: waits until the process has really exited (a trap may interrupt
# wait) and logs its status.
reap() {
  local st=0
  while :; do
    st=0; wait "$1" 2>/dev/null || st=$?
    kill -0 "$1" 2>/dev/null || break
  done
  log "${name_of[$1]} exited with $(describe "$st")"
}

# without PID LIST...: LIST less PID.
without() {
  local drop=$1 p; shift
  for p in "$@"; do [ "$p" = "$drop" ] || echo "$p"; done
}

# names PID...: their process names.
names() {
  local p
  for p in "$@"; do printf '%s ' "${name_of[$p]}"; done
}

# signal_tree SIG PID: sends SIG to PID and every descendant of it, children
# first, so a wrapper that does not pass signals on (a shell running a
# compound command) cannot orphan the process doing the work.
signal_tree() {
  local c
  for c in $(ps -o pid= --ppid "$2" 2>/dev/null); do signal_tree "$1" "$c"; done
  kill "-$1" "$2" 2>/dev/null || true
}

# wait_apps SECONDS: waits up to SECONDS for the application processes to
# exit by themselves, reaping those that do.
wait_apps() {
  local timer p st
  sleep "$1" &
  timer=$!
  while [ ${#apps[@]} -gt 0 ]; do
    p= st=0
    wait -n -p p "$timer" "${apps[@]}" 2>/dev/null || st=$?
    [ -n "${p:-}" ] || continue # a signal interrupted wait (wait unsets p)
    [ "$p" != "$timer" ] || break
    log "${name_of[$p]} exited with $(describe "$st")"
    apps=($(without "$p" "${apps[@]}"))
  done
  kill "$timer" 2>/dev/null || true
  wait "$timer" 2>/dev/null || true
}

# stop_all GRACE: stops everything this script started. After the
# documented stop (a signal to the whole process group) every application
# process has the signal already, and a second one is for some a "stop
# now" (the web server's); so they get GRACE seconds to exit by themselves
# before SIGTERM from here (which is what a stop that reached this script
# alone, or a process dying, relies on). The Go processes take a repeated
# signal as the same stop.
stop_all() {
  [ "$stopping" -eq 1 ] && return 0
  stopping=1
  local grace=${1:-0} p
  if [ ${#apps[@]} -gt 0 ]; then
    log "stopping: draining $(names "${apps[@]}")"
    [ "$grace" = 0 ] || wait_apps "$grace"
  fi
  if [ ${#apps[@]} -gt 0 ]; then
    log "sending SIGTERM to $(names "${apps[@]}")"
    for p in "${apps[@]}"; do signal_tree TERM "$p"; done
    for p in "${apps[@]}"; do reap "$p"; done
  fi
  # SIGINT is Postgres' fast shutdown (it may already be in its smart one).
  [ -z "${PG_PID:-}" ] || kill -INT "$PG_PID" 2>/dev/null || true
  for p in "${int_pids[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  [ -z "${REDIS_PID:-}" ] || kill -TERM "$REDIS_PID" 2>/dev/null || true
  for p in "${cluster_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${svcs[@]}"; do reap "$p"; done
  for p in "${prefixers[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$RUN_DIR"
  log "stopped"
}
on_signal() {
  [ "$stopping" -eq 1 ] && return 0 # a second signal (make relays SIGTERM) while stopping
  log "got SIG$1"
  stop_all "$STOP_GRACE"
  exit 0
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'stop_all' EXIT

# start NAME CMD...: runs CMD in the background, its output through a
# prefixer that outlives it; LAST_PID is CMD's pid.
start() {
  local name=$1; shift
  local fifo="$RUN_DIR/$name"
  mkfifo "$fifo"
  (trap '' INT TERM; exec sed -u "s/^/[$name] /" <"$fifo") &
  prefixers+=("$!")
  "$@" >"$fifo" 2>&1 &
  LAST_PID=$!
  name_of[$LAST_PID]=$name
  log "$name started (pid $LAST_PID)"
}

# start_redis_cluster (make fleet): 6 redis-server nodes on
# FLEET_REDIS_PORT.. (cluster bus ports 6 above each, all below 32768), data
# and nodes.conf in $STACK_DIR/cluster/<port>. The first time, redis-cli
# makes them a cluster of 3 masters with a replica each; later starts find
# it in nodes.conf. REDIS_URL names the first node: the processes find the
# others themselves.
start_redis_cluster() {
  local i port dir nodes=()
  for i in 0 1 2 3 4 5; do
    port=$((FLEET_REDIS_PORT + i))
    dir="$STACK_DIR/cluster/$port"
    mkdir -p "$dir"
    start "redis-$((i + 1))" redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" \
      --cluster-enabled yes --cluster-port $((port + 6)) --cluster-config-file "$dir/nodes.conf" \
      --cluster-node-timeout 2000 --save '' --appendonly yes --appendfsync everysec \
      --loglevel warning --daemonize no
    svcs+=("$LAST_PID"); cluster_pids+=("$LAST_PID")
    nodes+=("127.0.0.1:$port")
    wait_for "redis-$((i + 1))" 15 redis_port_up "$port"
  done
  if redis-cli -p "$FLEET_REDIS_PORT" cluster info | grep -q '^cluster_known_nodes:1\b'; then
    log "creating the Redis Cluster: ${nodes[*]}"
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes 2>&1 | sed -u 's/^/[redis-cli] /'
  fi
  wait_for "redis cluster" 30 cluster_ok
  export REDIS_URL="redis://127.0.0.1:$FLEET_REDIS_PORT/0"
  log "redis cluster on 127.0.0.1:$FLEET_REDIS_PORT-$((FLEET_REDIS_PORT + 5)), data in $STACK_DIR/cluster"
}

# cluster_ok: every node of make fleet's cluster says cluster_state:ok.
cluster_ok() {
  local i
  for i in 0 1 2 3 4 5; do
    redis-cli -p $((FLEET_REDIS_PORT + i)) cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
}

# fleet_postgres: make fleet's Postgres beyond the primary, once it is up
# and migrated (migrations and keygen connect directly: they take session
# advisory locks) and before any api, edge or worker starts. A streaming
# replica made afresh with pg_basebackup in $STACK_DIR/pg-replica on
# FLEET_REPLICA_PORT, which the api reads what may lag from
# (DATABASE_REPLICA_URL); PgBouncer in transaction pooling mode on
# FLEET_PGBOUNCER_PORT (its own ini in $STACK_DIR/pgbouncer), through which
# the api's and worker's pools reach the primary (DATABASE_URL,
# DATABASE_PGBOUNCER=1). Only when make fleet runs its own Postgres: with
# DATABASE_URL set, the processes use it as given.
fleet_postgres() {
  if [ -z "${PG_PID:-}" ]; then
    log "fleet: DATABASE_URL is set: no replica or PgBouncer of make fleet's own"
    return 0
  fi
  local replica="$STACK_DIR/pg-replica"
  log "making the streaming replica in $replica (pg_basebackup)"
  pg_replica "$replica" 2>&1 | sed -u 's/^/[pg_basebackup] /'
  pg_argv "$replica" "$FLEET_REPLICA_PORT"
  start pg-replica "${PG_ARGV[@]}"; svcs+=("$LAST_PID"); int_pids+=("$LAST_PID")
  wait_for pg-replica 30 pg_port_up "$FLEET_REPLICA_PORT"
  pgbouncer_argv "$STACK_DIR/pgbouncer" "$FLEET_PGBOUNCER_PORT"
  start pgbouncer "${PGBOUNCER_ARGV[@]}"; svcs+=("$LAST_PID"); int_pids+=("$LAST_PID")
  wait_for pgbouncer 15 pg_port_up "$FLEET_PGBOUNCER_PORT"
  export DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:$FLEET_REPLICA_PORT/chatterly?sslmode=disable"
  export DATABASE_URL="postgres://postgres@127.0.0.1:$FLEET_PGBOUNCER_PORT/chatterly?sslmode=disable"
  export DATABASE_PGBOUNCER=1
  log "postgres replica on 127.0.0.1:$FLEET_REPLICA_PORT, pgbouncer on 127.0.0.1:$FLEET_PGBOUNCER_PORT (transaction pooling)"
}

# fleet_ports (make fleet): the processes' addresses, from FLEET_PORT (8080):
# api i on FLEET_PORT + 100(i-1) (8080, 8180), edge i on FLEET_PORT + 1 +
# 100(i-1) (8081, 8181, 8281); each api's and edge's admin address (metrics)
# 10 above its own (8090, 8190; 8091, 8191, 8291); the worker on
# FLEET_PORT + 12 (8092).
fleet_ports() {
  local base=${FLEET_PORT:-8080} i
  FLEET_API_ADDRS=() FLEET_API_ADMIN_ADDRS=() FLEET_EDGE_ADDRS=() FLEET_EDGE_ADMIN_ADDRS=()
  for i in 0 1; do
    FLEET_API_ADDRS+=("127.0.0.1:$((base + 100 * i))")
    FLEET_API_ADMIN_ADDRS+=("127.0.0.1:$((base + 10 + 100 * i))")
  done
  for i in 0 1 2; do
    FLEET_EDGE_ADDRS+=("127.0.0.1:$((base + 1 + 100 * i))")
    FLEET_EDGE_ADMIN_ADDRS+=("127.0.0.1:$((base + 11 + 100 * i))")
  done
  FLEET_WORKER_ADDR="127.0.0.1:$((base + 12))"
}

# start_fleet: 2 api, 3 edge and the worker, each its own address, then the
# URLs people use.
start_fleet() {
  local i
  for i in 0 1; do
    start "api-$((i + 1))" env API_ADDR="${FLEET_API_ADDRS[$i]}" API_ADMIN_ADDR="${FLEET_API_ADMIN_ADDRS[$i]}" \
      "$BIN/chatterly-api"; apps+=("$LAST_PID")
  done
  for i in 0 1 2; do
    start "edge-$((i + 1))" env EDGE_ADDR="${FLEET_EDGE_ADDRS[$i]}" EDGE_ADMIN_ADDR="${FLEET_EDGE_ADMIN_ADDRS[$i]}" \
      "$BIN/chatterly-edge"; apps+=("$LAST_PID")
  done
  start worker "$BIN/chatterly-worker"; apps+=("$LAST_PID")
  log "fleet: api http://${FLEET_API_ADDRS[0]} http://${FLEET_API_ADDRS[1]}"
  log "fleet: cable ws://${FLEET_EDGE_ADDRS[0]}/cable ws://${FLEET_EDGE_ADDRS[1]}/cable ws://${FLEET_EDGE_ADDRS[2]}/cable"
  log "fleet: api admin http://${FLEET_API_ADMIN_ADDRS[0]} http://${FLEET_API_ADMIN_ADDRS[1]}"
  log "fleet: edge admin http://${FLEET_EDGE_ADMIN_ADDRS[0]} http://${FLEET_EDGE_ADMIN_ADDRS[1]} http://${FLEET_EDGE_ADMIN_ADDRS[2]}, worker http://$FLEET_WORKER_ADDR"
  log "fleet: redis cluster $REDIS_URL (6 nodes), postgres $DATABASE_URL, replica ${DATABASE_REPLICA_URL:-none}"
}

if [ -z "${DATABASE_URL:-}" ] || [ -z "${REDIS_URL:-}" ]; then
  ensure_binaries "$([ "$FLEET" = 1 ] && [ -z "${DATABASE_URL:-}" ] && echo pgbouncer)"
  mkdir -p "$STACK_DIR"
fi
if [ -f "$WEB_DIR/package.json" ]; then
  web_build # before anything starts: a broken build stops make run here
fi
if [ -z "${DATABASE_URL:-}" ]; then
  prepare_dirs
  if pg_up; then log "postgres already answers on $LOCAL_PG_PORT: is another make run going?"; exit 1; fi
  pg_argv
  start postgres "${PG_ARGV[@]}"; PG_PID=$LAST_PID; svcs+=("$PG_PID")
  wait_for postgres 30 pg_up
  create_db "$LOCAL_ADMIN_URL" chatterly
  export DATABASE_URL="$LOCAL_DATABASE_URL"
  log "postgres on 127.0.0.1:$LOCAL_PG_PORT, data in $PG_DATA"
fi
if [ -z "${REDIS_URL:-}" ] && [ "$FLEET" = 1 ]; then
  start_redis_cluster
elif [ -z "${REDIS_URL:-}" ]; then
  mkdir -p "$REDIS_DATA"
  start redis redis-server --port "$LOCAL_REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DATA" \
    --save '' --appendonly yes --appendfsync everysec --loglevel warning --daemonize no
  REDIS_PID=$LAST_PID; svcs+=("$REDIS_PID")
  wait_for redis 15 redis_up
  export REDIS_URL="$LOCAL_REDIS_URL"
  log "redis on 127.0.0.1:$LOCAL_REDIS_PORT"
fi
export JWT_KEY_DIR="${JWT_KEY_DIR:-$STACK_DIR/keys}"
export JWT_DEV_KEYS="${JWT_DEV_KEYS:-1}"
# Uploaded files: on the local disk, beside the stack's other data, unless
# FILE_STORAGE=s3 names a store (README, "Files").
export FILE_DIR="${FILE_DIR:-$STACK_DIR/files}"

"$BIN/chatterly-api" migrate 2>&1 | sed -u 's/^/[migrate] /'
"$BIN/chatterly-api" keygen 2>&1 | sed -u 's/^/[keygen] /'

if [ "$FLEET" = 1 ]; then
  fleet_postgres
  fleet_ports
  export API_ADDR=${FLEET_API_ADDRS[0]} EDGE_ADDR=${FLEET_EDGE_ADDRS[0]} WORKER_ADDR=$FLEET_WORKER_ADDR
fi
if [ -f "$WEB_DIR/package.json" ]; then
  web_env
fi
if [ "$FLEET" = 1 ]; then
  start_fleet
else
  for p in api edge worker; do
    if [ -x "$BIN/chatterly-$p" ]; then
      start "$p" "$BIN/chatterly-$p"; apps+=("$LAST_PID")
    fi
  done
fi
if [ -f "$WEB_DIR/package.json" ]; then
  start web env -C "$WEB_DIR" PATH="$WEB_DIR/node_modules/.bin:$PATH" bash -c "$(web_script start)"
  apps+=("$LAST_PID")
  log "web client on http://$WEB_ADDR (api $WEB_API_URL, cable $WEB_CABLE_URL)"
fi
log "metrics on http://${API_ADMIN_ADDR:-127.0.0.1:8090}/metrics (api), http://${EDGE_ADMIN_ADDR:-127.0.0.1:8091}/metrics (edge), http://${WORKER_ADDR:-127.0.0.1:8092}/metrics (worker)"
log "running; Ctrl-C stops everything"

# Any process ending unasked takes the whole stack down (README explains why).
set +e
done_pid=
while [ -z "${done_pid:-}" ]; do
  wait -n -p done_pid "${apps[@]}" "${svcs[@]}"
  code=$?
done
log "${name_of[$done_pid]} exited with $(describe "$code") without being asked to stop: stopping the whole stack"
apps=($(without "$done_pid" "${apps[@]}"))
svcs=($(without "$done_pid" "${svcs[@]}"))
[ "${PG_PID:-}" != "$done_pid" ] || PG_PID=
[ "${REDIS_PID:-}" != "$done_pid" ] || REDIS_PID=
cluster_pids=($(without "$done_pid" "${cluster_pids[@]}"))
int_pids=($(without "$done_pid" "${int_pids[@]}"))
stop_all
[ "$code" -ne 0 ] || code=1
exit "$code"
