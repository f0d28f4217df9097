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
*)
  echo "usage: services.sh env|prepare|pg-argv" >&2
  exit 2
  ;;
esac
