#!/usr/bin/env bash
# Installs Debian's PostgreSQL server binaries when they are missing (the PostgreSQL tests create their own cluster with
# initdb in a temporary directory and start `postgres` as their own process on 127.0.0.1; nothing runs as a service).
# eng/apt-install.sh: root or sudo, safe alongside the other installs. Prints the directory of the binaries.
set -euo pipefail
find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1
}
bin="$(find_bin)"
if [ -z "$bin" ] || [ ! -x "$bin/postgres" ] || [ ! -x "$bin/initdb" ]; then
  "$(dirname "$0")/apt-install.sh" postgresql
  bin="$(find_bin)"
fi
[ -x "$bin/postgres" ] && [ -x "$bin/initdb" ]
echo "$bin"
