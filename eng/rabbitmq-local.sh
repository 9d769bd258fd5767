#!/usr/bin/env bash
# A private RabbitMQ for trying Herald by hand (the tests start their own): on 127.0.0.1, data in a temp directory.
#   eng/rabbitmq-local.sh start [port]   installs rabbitmq-server when missing, starts it, prints the amqp:// URI and
#                                        the management API (port + 10000, for `herald --rabbitmq ... --management ...`)
#   eng/rabbitmq-local.sh stop
set -euo pipefail
dir="${TMPDIR:-/tmp}/herald-rabbitmq-local"
node="heraldlocal@localhost"
ctl() { HOME="$dir" RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node" "$@"; }
case "${1:-}" in
  start)
    port="${2:-5672}"
    "$(dirname "$0")/install-rabbitmq.sh"
    mkdir -p "$dir"
    : > "$dir/rabbitmq-env.conf"
    echo "[rabbitmq_management]." > "$dir/enabled_plugins"
    printf 'loopback_users = none\nmanagement.tcp.ip = 127.0.0.1\nmanagement.tcp.port = %s\n' "$((port + 10000))" > "$dir/rabbitmq.conf"
    HOME="$dir" RABBITMQ_NODENAME="$node" RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$port" \
      RABBITMQ_DIST_PORT="$((port + 20000))" RABBITMQ_BASE="$dir" RABBITMQ_MNESIA_BASE="$dir/mnesia" \
      RABBITMQ_LOG_BASE="$dir/log" RABBITMQ_PID_FILE="$dir/rabbit.pid" RABBITMQ_CONFIG_FILE="$dir/rabbitmq" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
      ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
      nohup /usr/lib/rabbitmq/bin/rabbitmq-server > "$dir/server.out" 2>&1 &
    ctl wait "$dir/rabbit.pid" --timeout 90 > /dev/null
    ctl await_startup --timeout 90 > /dev/null
    echo "amqp://guest:guest@127.0.0.1:$port/"
    echo "http://127.0.0.1:$((port + 10000))"
    ;;
  stop)
    ctl stop "$dir/rabbit.pid" > /dev/null
    epmd -kill > /dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start [port] | stop" >&2
    exit 2
    ;;
esac
