#!/usr/bin/env bash
# Writes the compose stack's secrets once (never committed; see .gitignore):
#   .env                          POSTGRES_PASSWORD, TURN_SECRET, GRAFANA_ADMIN_PASSWORD
#   secrets/pgbouncer-userlist.txt  PgBouncer's auth_file
#   secrets/jwt/                  the api's signing.key and its <kid>.pub (chatterly-api keygen)
#   secrets/jwt-public/           the *.pub only, for the edge and the worker
# Rotating the signing key: docs/upgrading.md.
set -euo pipefail
cd "$(dirname "$0")"
umask 077
mkdir -p secrets/jwt secrets/jwt-public
if [ ! -f .env ]; then
  {
    echo "POSTGRES_PASSWORD=$(openssl rand -hex 24)"
    echo "TURN_SECRET=$(openssl rand -hex 24)"
    echo "GRAFANA_ADMIN_PASSWORD=$(openssl rand -hex 12)"
  } >.env
fi
# shellcheck disable=SC1091
source .env
printf '"chatterly" "%s"\n' "$POSTGRES_PASSWORD" >secrets/pgbouncer-userlist.txt
if [ ! -f secrets/jwt/signing.key ]; then
  docker compose build migrate
  docker compose run --rm --no-deps --user "$(id -u):$(id -g)" \
    -v "$PWD/secrets/jwt:/keys" -e JWT_KEY_DIR=/keys --entrypoint /usr/local/bin/chatterly-api migrate keygen
fi
cp secrets/jwt/*.pub secrets/jwt-public/
# The containers' users (65532, PgBouncer's) read these through bind mounts;
# secrets/ itself stays 0700, so nobody else on the host reaches them.
chmod 0700 secrets
chmod 0755 secrets/jwt secrets/jwt-public
chmod 0644 secrets/jwt/* secrets/jwt-public/* secrets/pgbouncer-userlist.txt
echo "secrets written; next: docker compose up"
