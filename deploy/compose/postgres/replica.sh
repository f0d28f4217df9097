#!/bin/bash
# The streaming replica: on an empty data folder, copy the primary with
# pg_basebackup -R (which writes standby.signal and primary_conninfo), then
# run Postgres as a hot standby.
set -euo pipefail
export PGPASSWORD
PGPASSWORD=$(cat "$PGPASSFILE_SOURCE")
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -R -X stream -P
  chmod 700 "$PGDATA"
fi
unset PGPASSWORD
exec postgres -c hot_standby=on
