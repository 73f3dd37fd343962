#!/usr/bin/env bash
# Throwaway PostgreSQL servers for the tests; source it (`. scripts/ci-postgres.sh`).
#
# Starts two clusters in temporary folders on free loopback ports and exports:
#   MARTLET_TEST_POSTGRES_URL          the server the store contract and two-node tests use
#   MARTLET_TEST_RESTART_POSTGRES_URL  a server of its own for the database-restart test,
#                                      which stops and starts it while other tests run
#   MARTLET_TEST_PG_CTL                the command that runs pg_ctl as the postgres user
#   MARTLET_TEST_PGDATA                the restart server's data folder
# Both servers are stopped and removed when the sourcing shell exits. Installs Debian's
# postgresql when it is missing and we are root; fails loudly otherwise, so that CI never
# skips the PostgreSQL tests without saying so.

martlet_pg_fail() {
    echo "ci-postgres: $*" >&2
    return 1
}

martlet_pg_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

martlet_pg_setup() {
    local bin
    bin="$(martlet_pg_bin)"
    if [ -z "$bin" ]; then
        if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
            echo "ci-postgres: installing postgresql"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null \
                || { martlet_pg_fail "apt-get install postgresql failed"; return 1; }
            bin="$(martlet_pg_bin)"
        fi
        [ -n "$bin" ] || { martlet_pg_fail "no PostgreSQL server; install it with: sudo apt-get install postgresql"; return 1; }
    fi
    # initdb refuses to run as root: as root, run the server as the postgres user.
    local as_postgres=""
    if [ "$(id -u)" = "0" ]; then
        id postgres >/dev/null 2>&1 || { martlet_pg_fail "no postgres user"; return 1; }
        as_postgres="runuser -u postgres --"
    fi
    export MARTLET_TEST_PG_CTL="$as_postgres $bin/pg_ctl"

    MARTLET_PG_DIRS=()
    trap martlet_pg_teardown EXIT

    martlet_pg_cluster "$bin" "$as_postgres" off || return 1
    export MARTLET_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$MARTLET_PG_PORT/martlet_test?sslmode=disable"
    echo "ci-postgres: test server on port $MARTLET_PG_PORT"
    martlet_pg_cluster "$bin" "$as_postgres" on || return 1
    export MARTLET_TEST_RESTART_POSTGRES_URL="postgres://postgres@127.0.0.1:$MARTLET_PG_PORT/martlet_test?sslmode=disable"
    export MARTLET_TEST_PGDATA="$MARTLET_PG_DIR"
    echo "ci-postgres: restartable server on port $MARTLET_PG_PORT, data in $MARTLET_PG_DIR"
}

# Makes, starts and fills one cluster, leaving its folder and port in MARTLET_PG_DIR and
# MARTLET_PG_PORT. `fsync` is off for the main server (its data is thrown away) and on for
# the one whose restart must lose nothing.
martlet_pg_cluster() {
    local bin="$1" as_postgres="$2" fsync="$3" dir port
    dir="$(mktemp -d /tmp/martlet-pg.XXXXXX)"
    MARTLET_PG_DIRS+=("$dir")
    MARTLET_PG_DIR="$dir"
    chmod 700 "$dir"
    [ -z "$as_postgres" ] || chown postgres "$dir"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    $as_postgres "$bin/initdb" -D "$dir" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 \
        || { cat "$dir.initdb.log" >&2; martlet_pg_fail "initdb failed"; return 1; }
    cat >>"$dir/postgresql.conf" <<EOF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
max_connections = 400
fsync = $fsync
synchronous_commit = $fsync
EOF
    $as_postgres "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w start >/dev/null \
        || { cat "$dir/server.log" >&2; martlet_pg_fail "the server did not start"; return 1; }
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres martlet_test || { martlet_pg_fail "createdb failed"; return 1; }
    MARTLET_PG_PORT="$port"
}

martlet_pg_teardown() {
    local dir
    for dir in "${MARTLET_PG_DIRS[@]}"; do
        $MARTLET_TEST_PG_CTL -D "$dir" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$dir" "$dir.initdb.log"
    done
}

martlet_pg_setup
