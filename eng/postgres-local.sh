#!/usr/bin/env bash
# A private PostgreSQL server for trying Herald by hand (the tests start their own): a cluster made with initdb in a
# temp directory, on 127.0.0.1, trust authentication for the postgres user (as the postgres user when run as root).
#   eng/postgres-local.sh start [port]   installs the server binaries when missing, starts it, prints a connection string
#   eng/postgres-local.sh stop
set -euo pipefail
dir="${TMPDIR:-/tmp}/herald-postgres-local"
as_owner() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else "$@"; fi
}
case "${1:-}" in
  start)
    port="${2:-5432}"
    bin="$("$(dirname "$0")/install-postgres.sh" | tail -n 1)"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      chown postgres:postgres "$dir"
      chmod a+x "$(dirname "$dir")" # the postgres user must reach its directory (a private TMPDIR is 700)
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale > "$dir/initdb.out"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir' -c max_connections=300" start > /dev/null
    echo "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres"
    ;;
  stop)
    bin="$("$(dirname "$0")/install-postgres.sh" | tail -n 1)"
    [ -f "$dir/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null
    ;;
  *)
    echo "usage: $0 start [port] | stop" >&2
    exit 2
    ;;
esac
