#!/usr/bin/env bash
# Installs Debian's rabbitmq-server when it is missing (the RabbitMQ tests start it themselves, as their own process,
# on 127.0.0.1 in a temporary directory; nothing runs as a service). Needs root or sudo; a minute or two the first time.
set -euo pipefail
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq rabbitmq-server >/dev/null
# The package may try to start its service; without systemd nothing runs, which is what the tests want.
test -x /usr/lib/rabbitmq/bin/rabbitmq-server
