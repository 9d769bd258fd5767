#!/usr/bin/env bash
# Installs Debian's rabbitmq-server when it is missing (the RabbitMQ tests start it themselves, as their own process,
# on 127.0.0.1 in a temporary directory; nothing runs as a service). eng/apt-install.sh: root or sudo, safe alongside the
# other installs; a minute or two the first time.
set -euo pipefail
if [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
  exit 0
fi
"$(dirname "$0")/apt-install.sh" rabbitmq-server
# The package may try to start its service; without systemd nothing runs, which is what the tests want.
test -x /usr/lib/rabbitmq/bin/rabbitmq-server
