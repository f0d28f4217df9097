#!/usr/bin/env bash
# make test: reuse the local Postgres and Redis of this checkout when they run
# (make run), otherwise start them for the run and stop them after. Then every
# test, race detector on. TEST_DATABASE_URL (a server admin URL) and
# TEST_REDIS_URL point the tests elsewhere.
source "$(dirname "$0")/lib.sh"
cd "$CHECKOUT"
test_start_ns=$(date +%s%N)

started=()
cleanup() {
  # The web build running beside the Go tests, when they stopped first.
  if [ -n "${web_pid:-}" ] && kill -0 "$web_pid" 2>/dev/null; then
    pkill -TERM -P "$web_pid" 2>/dev/null; kill -TERM "$web_pid" 2>/dev/null
  fi
  [ -n "${PG_PID:-}" ] && kill -INT "$PG_PID" 2>/dev/null
  [ -n "${REDIS_PID:-}" ] && kill -TERM "$REDIS_PID" 2>/dev/null
  for p in "${started[@]}"; do wait "$p" 2>/dev/null; done
  local ms=$((($(date +%s%N) - test_start_ns) / 1000000))
  printf 'make test: wall time %d.%d s\n' $((ms / 1000)) $((ms % 1000 / 100))
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${TEST_DATABASE_URL:-}" ] || [ -z "${TEST_REDIS_URL:-}" ]; then
  ensure_binaries
  mkdir -p "$STACK_DIR"
fi
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  prepare_dirs
  if ! pg_up; then
    pg_argv
    "${PG_ARGV[@]}" >"$STACK_DIR/pg-test.log" 2>&1 &
    PG_PID=$!; started+=("$PG_PID")
    wait_for postgres 30 pg_up || { cat "$STACK_DIR/pg-test.log" >&2; exit 1; }
  fi
  export TEST_DATABASE_URL="$LOCAL_ADMIN_URL"
fi
if [ -z "${TEST_REDIS_URL:-}" ]; then
  mkdir -p "$REDIS_DATA"
  if ! redis_up; then
    redis-server --port "$LOCAL_REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DATA" \
      --save '' --appendonly no --loglevel warning --daemonize no >"$STACK_DIR/redis-test.log" 2>&1 &
    REDIS_PID=$!; started+=("$REDIS_PID")
    wait_for redis 15 redis_up || { cat "$STACK_DIR/redis-test.log" >&2; exit 1; }
  fi
  export TEST_REDIS_URL="$LOCAL_REDIS_URL"
fi

export STACK_DIR
# The web client's suite runs when the whole suite does (TEST_WEB=1, the
# default unless TEST_PACKAGES picks Go packages). What it needs first —
# Chromium (apt-get, now: the Go tests may install pgbouncer with apt-get
# later, and two cannot run at once), the release binaries, npm ci and the
# production build (each only when out of date), its unit tests — is made
# while the Go tests run, which spend much of their time waiting on
# processes they started rather than on the CPU.
web=0
if [ -f "$WEB_DIR/package.json" ] && [ "${TEST_WEB:-$([ -z "${TEST_PACKAGES:-}" ] && echo 1 || echo 0)}" = 1 ]; then
  web=1
  ensure_chromium
  web_log="$STACK_DIR/web-prepare.log"
  (make -s build && web_build && cd "$WEB_DIR" && npm test) >"$web_log" 2>&1 &
  web_pid=$!; started+=("$web_pid")
fi
# shellcheck disable=SC2086
go test -race -count=1 ${GO_TEST_FLAGS:-} ${TEST_PACKAGES:-./...}
# The messaging, calls and worker suites once more with their processes'
# pools through PgBouncer in transaction pooling mode (TEST_PGBOUNCER=1: each
# test binary runs its own pgbouncer, installed with apt-get when missing).
# Only when the whole suite runs. By default a part of them that covers
# sends (idempotent retries, 50 concurrent senders, threads), calls (REST
# lifecycle, racing moves, the missed-call job inserted in the call's
# transaction) and River jobs worked by the worker (missed calls with and
# without the timer, periodic partition upkeep, the outbox relay);
# TEST_PGBOUNCER_RUN=. runs the three suites whole (about a minute more).
pgbouncer_run='^(TestSendRetriedWithSameClientMsgIDMakesOneMessage|TestSeqHasNoGapsUnder50ConcurrentSenders|TestThreads'
pgbouncer_run+='|TestACallOverREST|TestRacingMovesHaveExactlyOneWinner|TestCreateEnqueuesTheMissedCallJobInItsTransaction'
pgbouncer_run+='|TestMissedEndToEndWithTheWorker|TestRiverAloneMissesTheCallWhenTheTimerIsOff'
pgbouncer_run+='|TestPartitionUpkeepCreatesTheMonthsAheadWhenTheClockJumps|TestTheWorkerRelaysWhatWasCommittedButNeverPublished)$'
if [ -z "${TEST_PACKAGES:-}" ]; then
  # shellcheck disable=SC2086
  TEST_PGBOUNCER=1 go test -race -count=1 ${GO_TEST_FLAGS:-} -run "${TEST_PGBOUNCER_RUN:-$pgbouncer_run}" \
    ./api/message ./api/call ./api/worker
fi
# deploy/check is a module of its own (deployment-only dependencies, no race:
# it runs tools, not product code); it runs when TEST_PACKAGES is unset.
if [ -z "${TEST_PACKAGES:-}" ]; then (cd deploy/check && go test -count=1 ${GO_TEST_FLAGS:-} ./...); fi

# The web client: its unit tests and build (made meanwhile, above), then
# the E2E suite in Chromium (web/e2e/run.sh).
if [ "$web" = 1 ]; then
  web_st=0
  wait "$web_pid" || web_st=$?
  sed 's/^/[web] /' "$web_log"
  [ "$web_st" -eq 0 ] || { log "web: the build or the unit tests failed (status $web_st)"; exit "$web_st"; }
  bash "$WEB_DIR/e2e/run.sh"
fi
