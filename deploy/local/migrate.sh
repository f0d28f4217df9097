#!/usr/bin/env bash
# make migrate: apply pending migrations to DATABASE_URL, or to this checkout's
# local Postgres (started for the duration when it is not running).
source "$(dirname "$0")/lib.sh"
cd "$CHECKOUT"
if [ -z "${DATABASE_URL:-}" ]; then
  ensure_binaries
  prepare_dirs
  if ! pg_up; then
    pg_argv
    "${PG_ARGV[@]}" >"$STACK_DIR/pg-migrate.log" 2>&1 &
    PG_PID=$!
    trap 'kill -INT $PG_PID; wait $PG_PID' EXIT
    wait_for postgres 30 pg_up
  fi
  create_db "$LOCAL_ADMIN_URL" chatterly
  export DATABASE_URL="$LOCAL_DATABASE_URL"
fi
bin/chatterly-api migrate
