# A throw-away PostgreSQL server on 127.0.0.1 for the test suite and the benchmarks. Source it from bash:
#
#   . .ci/postgres.sh && pg_start     # exports TEST_DATABASE_URL (and PG_SCRATCH, the server's directory)
#   …                                 # python -m pytest, python bench/bench_postgres.py
#   pg_restart                        # restart it (fast shutdown, same port): connections are cut
#   pg_stop                           # stops the server and removes its directory
#
# The server binaries come from Debian's `postgresql` package, installed when none are present. PostgreSQL
# refuses to run as root, so as root the server runs as the `postgres` system user (created when missing).
# It listens on a free port of 127.0.0.1 only, with a data directory under a new temporary directory; the
# test role `zwfw` logs in over TCP with a random password (scram-sha-256), so wrong credentials are refused
# as they would be on a real server.

pg_bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
    fi
}

pg_install() {
    if [ -z "$(pg_bindir)" ]; then
        echo "pg_start: no PostgreSQL server binaries; installing Debian's postgresql package" >&2
        # the package would create and start a cluster of its own; this run needs only the binaries
        if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
            mkdir -p /etc/postgresql-common
            echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.conf
        fi
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql >/dev/null
    fi
    if [ -z "$(pg_bindir)" ]; then
        echo "pg_start: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin" >&2
        return 1
    fi
}

# run a command as the server's user (the current user unless that is root)
pg_as() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PG_USER" -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    pg_install || return 1
    local bin port password
    bin="$(pg_bindir)"
    PG_BIN="$bin"
    PG_USER="$(id -un)"
    if [ "$(id -u)" = 0 ]; then
        PG_USER=postgres
        if ! id -u "$PG_USER" >/dev/null 2>&1; then
            useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$PG_USER"
        fi
    fi
    PG_SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/zwfw-pg.XXXXXX")"
    chmod 755 "$PG_SCRATCH"
    mkdir "$PG_SCRATCH/data" "$PG_SCRATCH/run"
    chown "$PG_USER" "$PG_SCRATCH" "$PG_SCRATCH/data" "$PG_SCRATCH/run"
    chmod 700 "$PG_SCRATCH/data"
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')"
    # the superuser is reached through the unix socket only (trust); TCP needs a password
    pg_as "$bin/initdb" -D "$PG_SCRATCH/data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$PG_SCRATCH/initdb.log" 2>&1 \
        || { cat "$PG_SCRATCH/initdb.log" >&2; return 1; }
    # ${PG_EXTRA_OPTS}: e.g. "-c fsync=off" for a faster test run (never for figures that claim durability)
    pg_as "$bin/pg_ctl" -D "$PG_SCRATCH/data" -l "$PG_SCRATCH/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $PG_SCRATCH/run -c max_connections=200 ${PG_EXTRA_OPTS:-}" \
        start >/dev/null || { cat "$PG_SCRATCH/server.log" >&2; return 1; }
    pg_as "$bin/psql" -q -v ON_ERROR_STOP=1 -h "$PG_SCRATCH/run" -p "$port" -U postgres -d postgres \
        -c "CREATE ROLE zwfw LOGIN PASSWORD '$password'" \
        -c "CREATE DATABASE zwfw_test OWNER zwfw" >/dev/null || return 1
    PG_PORT="$port"
    export PG_SCRATCH PG_BIN PG_PORT PG_USER
    export TEST_DATABASE_URL="postgresql://zwfw:$password@127.0.0.1:$port/zwfw_test"
    echo "pg_start: PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (database zwfw_test, $PG_SCRATCH)" >&2
}

# restart the server started by pg_start (same port and settings), as an operator or a failover would:
# fast shutdown (every connection is closed), then start again. Tests use it to show the bot reconnects.
pg_restart() {
    pg_as "${PG_BIN:-$(pg_bindir)}/pg_ctl" -D "$PG_SCRATCH/data" -l "$PG_SCRATCH/server.log" -m fast -w -t 60 \
        restart >/dev/null || { cat "$PG_SCRATCH/server.log" >&2; return 1; }
}

pg_stop() {
    if [ -n "${PG_SCRATCH:-}" ] && [ -d "$PG_SCRATCH" ]; then
        if [ -f "$PG_SCRATCH/data/postmaster.pid" ]; then
            pg_as "${PG_BIN:-$(pg_bindir)}/pg_ctl" -D "$PG_SCRATCH/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$PG_SCRATCH"
    fi
    unset PG_SCRATCH TEST_DATABASE_URL
}
