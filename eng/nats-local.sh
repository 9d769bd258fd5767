#!/usr/bin/env bash
# A private NATS server with JetStream for trying Herald by hand (the tests start their own): on 127.0.0.1, its store
# in a temp directory.
#   eng/nats-local.sh start [port]   installs nats-server when missing, starts it, prints the nats:// URL
#   eng/nats-local.sh stop
set -euo pipefail
dir="${TMPDIR:-/tmp}/herald-nats-local"
case "${1:-}" in
  start)
    port="${2:-4222}"
    "$(dirname "$0")/install-nats.sh"
    mkdir -p "$dir"
    nohup nats-server -js -a 127.0.0.1 -p "$port" -m "$((port + 4000))" -sd "$dir/store" -P "$dir/nats.pid" > "$dir/server.out" 2>&1 &
    for _ in $(seq 1 100); do
      if curl -fs "http://127.0.0.1:$((port + 4000))/healthz?js-enabled-only=true" > /dev/null 2>&1; then
        echo "nats://127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    echo "$0: nats-server did not become ready; see $dir/server.out" >&2
    exit 1
    ;;
  stop)
    [ -f "$dir/nats.pid" ] && kill "$(cat "$dir/nats.pid")" && rm -f "$dir/nats.pid"
    ;;
  *)
    echo "usage: $0 start [port] | stop" >&2
    exit 2
    ;;
esac
