#!/usr/bin/env bash
# The bench stack's bridge to deploy/local/lib.sh: the one rule for where
# local data lives (STACK_DIR), how Postgres is initialised and started (as
# the postgres user when we are root) and which binaries serve it. The Go
# runner (stack.go) sets STACK_DIR, LOCAL_PG_PORT and LOCAL_REDIS_PORT to its
# own values before calling, so the bench never touches the data or ports of
# `make run` or `make test`.
#
#   services.sh env       print STACK_DIR (this checkout's rule when unset)
#   services.sh prepare   install missing server binaries, initdb when needed
#   services.sh pg-argv   print the foreground Postgres command, NUL-separated
# and for a fleet stack (FLEET_REPLICA_PORT and FLEET_PGBOUNCER_PORT set too):
#   services.sh replica-argv    make the streaming replica, print its command
#   services.sh pgbouncer-argv  install pgbouncer when missing, write its ini, print its command
source "$(dirname "$0")/../../deploy/local/lib.sh"

case "${1:-}" in
env)
  printf 'STACK_DIR=%s\n' "$STACK_DIR"
  ;;
prepare)
  ensure_binaries
  prepare_dirs
  ;;
pg-argv)
  pg_argv
  printf '%s\0' "${PG_ARGV[@]}"
  ;;
replica-argv)
  pg_replica "$STACK_DIR/pg-replica" >&2
  pg_argv "$STACK_DIR/pg-replica" "$FLEET_REPLICA_PORT"
  printf '%s\0' "${PG_ARGV[@]}"
  ;;
pgbouncer-argv)
  ensure_binaries pgbouncer >&2
  pgbouncer_argv "$STACK_DIR/pgbouncer" "$FLEET_PGBOUNCER_PORT"
  printf '%s\0' "${PGBOUNCER_ARGV[@]}"
  ;;
*)
  echo "usage: services.sh env|prepare|pg-argv|replica-argv|pgbouncer-argv" >&2
  exit 2
  ;;
esac
