#!/usr/bin/env bash
# Start a PostgreSQL server on 127.0.0.1 for the ledger tests, installing it from Debian's
# packages if needed. Idempotent: when PostgreSQL is installed and the cluster runs, it only
# prints the URL again (well under a second).
#
#   scripts/ci-postgres.sh          install (if needed), start, create user and database;
#                                   prints `export DATASTEWARD_TEST_PG_URL=...` on stdout and
#                                   writes the same line to $DATASTEWARD_PG_ENV_FILE
#                                   (default /tmp/datasteward-pg.env)
#   scripts/ci-postgres.sh stop     stop the cluster again
#
# Use:  eval "$(scripts/ci-postgres.sh)"   or   scripts/ci-postgres.sh >/dev/null && . /tmp/datasteward-pg.env
# Needs root (or sudo) for apt-get and to act as the `postgres` user.
set -euo pipefail

CLUSTER="${DATASTEWARD_PG_CLUSTER:-datasteward}"
PG_USER="${DATASTEWARD_PG_USER:-datasteward}"
PG_PASSWORD="${DATASTEWARD_PG_PASSWORD:-datasteward}"
PG_DB="${DATASTEWARD_PG_DB:-datasteward_test}"
ENV_FILE="${DATASTEWARD_PG_ENV_FILE:-/tmp/datasteward-pg.env}"

log() { echo "ci-postgres: $*" >&2; }
die() { log "error: $*"; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "run as root or install sudo (apt-get and the postgres user need it)"
    SUDO="sudo"
fi

as_postgres() {
    if command -v runuser >/dev/null 2>&1; then
        $SUDO runuser -u postgres -- "$@"
    else
        $SUDO su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

if ! command -v pg_createcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    log "installing PostgreSQL from Debian's packages"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
fi

VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
[ -n "$VERSION" ] || die "no PostgreSQL server found under /usr/lib/postgresql after installing"

cluster_field() {  # cluster_field N -> column N of pg_lsclusters for our cluster, or nothing
    pg_lsclusters --no-header 2>/dev/null | awk -v v="$VERSION" -v c="$CLUSTER" -v n="$1" '$1==v && $2==c {print $n}'
}

if [ "${1:-start}" = "stop" ]; then
    if [ "$(cluster_field 4)" = "online" ]; then
        $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" stop >&2
        log "stopped cluster $VERSION/$CLUSTER"
    else
        log "cluster $VERSION/$CLUSTER is not running"
    fi
    exit 0
fi

if [ -z "$(cluster_field 2)" ]; then
    log "creating cluster $VERSION/$CLUSTER (listening on 127.0.0.1 only)"
    # pg_createcluster picks a port no other cluster is configured for (5432 or the next free).
    $SUDO pg_createcluster "$VERSION" "$CLUSTER" --start-conf=manual >&2
fi
# Debian's postgresql.conf includes conf.d/; settings here win over the defaults.
# fsync and friends are off: this is a throwaway test server.
CONF="/etc/postgresql/$VERSION/$CLUSTER/conf.d/datasteward-ci.conf"
WANTED="listen_addresses = '127.0.0.1'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off"
if [ "$($SUDO cat "$CONF" 2>/dev/null || true)" != "$WANTED" ]; then
    echo "$WANTED" | $SUDO tee "$CONF" >/dev/null
    if [ "$(cluster_field 4)" = "online" ]; then
        log "settings changed; restarting cluster $VERSION/$CLUSTER"
        $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" restart >&2
    fi
fi
PORT="$(cluster_field 3)"
if [ "$(cluster_field 4)" != "online" ]; then
    log "starting cluster $VERSION/$CLUSTER on 127.0.0.1:$PORT"
    $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi
for _ in $(seq 1 50); do
    pg_isready -q -h 127.0.0.1 -p "$PORT" && break
    sleep 0.2
done
pg_isready -q -h 127.0.0.1 -p "$PORT" || die "PostgreSQL did not come up on 127.0.0.1:$PORT (see /var/log/postgresql/)"

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres -tA "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != "1" ]; then
    log "creating role $PG_USER"
    psql_admin -c "CREATE ROLE \"$PG_USER\" LOGIN CREATEDB PASSWORD '$PG_PASSWORD'"
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != "1" ]; then
    log "creating database $PG_DB"
    psql_admin -c "CREATE DATABASE \"$PG_DB\" OWNER \"$PG_USER\""
fi

URL="postgresql+psycopg://$PG_USER:$PG_PASSWORD@127.0.0.1:$PORT/$PG_DB"
echo "export DATASTEWARD_TEST_PG_URL=$URL" > "$ENV_FILE"
log "PostgreSQL $VERSION ready at 127.0.0.1:$PORT; URL written to $ENV_FILE"
echo "export DATASTEWARD_TEST_PG_URL=$URL"
