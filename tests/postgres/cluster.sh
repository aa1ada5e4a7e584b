#!/usr/bin/env bash
# A private PostgreSQL server for the tests: its own data directory, 127.0.0.1 and a free port,
# a role `nos` (password `nos`, may create databases) and its database `nos`. tests/run.sh runs
# the test suites against it; by hand:
#   dir=$(mktemp -d)
#   export NOS_TEST_POSTGRES_URL=$(bash tests/postgres/cluster.sh start "$dir")
#   ctest --test-dir build -R storage
#   bash tests/postgres/cluster.sh restart "$dir"     # a fast restart (sessions end), the same port
#   bash tests/postgres/cluster.sh stop "$dir"        # stops the server, removes the directory
# start prints the URL (postgresql://nos:nos@127.0.0.1:PORT/nos) on stdout, everything else on
# stderr, and fails (exit 1, the server's log shown) when the server cannot start. Local socket
# connections (in the directory) are trusted, TCP ones need the password, so that a test can check
# what a wrong password does. The server binaries: $NOS_POSTGRES_BIN, else the newest
# /usr/lib/postgresql/*/bin (Debian's postgresql package). As root (CI), the server runs as the
# `postgres` user, which the package creates: initdb refuses to run as root.
set -euo pipefail

usage() {
  echo "usage: $0 start DIR | restart DIR | stop DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
action=$1
dir=$2

bin=${NOS_POSTGRES_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

# Runs a server binary as the owner of the data directory.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

case "$action" in
  start)
    if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
      echo "tests/postgres/cluster.sh: no PostgreSQL server binaries (initdb) in ${bin:-/usr/lib/postgresql/*/bin}:" \
           "install the Debian package postgresql (cmake/setup-debian.sh) or set NOS_POSTGRES_BIN" >&2
      exit 1
    fi
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || { echo "tests/postgres/cluster.sh: $dir is not empty" >&2; exit 1; }
    if [ "$(id -u)" -eq 0 ]; then
      id postgres >/dev/null 2>&1 || { echo "tests/postgres/cluster.sh: running as root, and no user 'postgres' to run the server as" >&2; exit 1; }
      chown postgres: "$dir"
    fi
    chmod 700 "$dir"
    echo nos-superuser > "$dir/superuser.pw"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/superuser.pw" --auth-local=trust \
      --auth-host=scram-sha-256 --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
      { echo "tests/postgres/cluster.sh: initdb failed:" >&2; cat "$dir/initdb.log" >&2; exit 1; }
    # A free port: a few tries from a random one (another test run may hold it meanwhile).
    started=""
    for attempt in 1 2 3 4 5; do
      port=$((20000 + RANDOM % 20000))
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue  # something listens there
      # fsync off: a test server needs no durability, and it saves seconds on a busy disk.
      if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
           -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null; then
        started=$port
        break
      fi
    done
    if [ -z "$started" ]; then
      echo "tests/postgres/cluster.sh: the server did not start; its log:" >&2
      cat "$dir/server.log" >&2 || true
      exit 1
    fi
    echo "$started" > "$dir/port"
    as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$started" -U postgres -d postgres \
      -c "CREATE ROLE nos LOGIN CREATEDB PASSWORD 'nos'" -c "CREATE DATABASE nos OWNER nos" >&2
    echo "postgresql://nos:nos@127.0.0.1:$started/nos"
    ;;
  restart)
    # What the fault-tolerance tests do to a running search: every session is ended (-m fast), the
    # server is down for a moment, then back on the same port with the same options.
    [ -f "$dir/data/postmaster.pid" ] || { echo "tests/postgres/cluster.sh: no server running in $dir" >&2; exit 1; }
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null ||
      { echo "tests/postgres/cluster.sh: restarting the server in $dir failed; its log:" >&2; cat "$dir/server.log" >&2; exit 1; }
    ;;
  stop)
    [ -d "$dir" ] || exit 0
    if [ -f "$dir/data/postmaster.pid" ] && [ -x "$bin/pg_ctl" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || echo "tests/postgres/cluster.sh: stopping the server in $dir failed" >&2
    fi
    rm -rf "$dir"
    ;;
  *) usage ;;
esac
