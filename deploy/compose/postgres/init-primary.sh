#!/bin/bash
# Runs once, when the primary's data folder is created (docker-entrypoint-initdb.d):
# a replication role with the same password and a pg_hba line for it.
set -euo pipefail
pw=$(cat /run/secrets/postgres_password)
psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" \
  -v pw="$pw" -c "CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw'"
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
