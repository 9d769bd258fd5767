#!/usr/bin/env bash
# Installs Debian's nats-server when it is missing (the NATS tests start it themselves, as their own process, on
# 127.0.0.1 with a temporary store directory; nothing runs as a service). eng/apt-install.sh: root or sudo, safe
# alongside the other installs.
set -euo pipefail
if command -v nats-server > /dev/null 2>&1; then
  exit 0
fi
"$(dirname "$0")/apt-install.sh" nats-server
command -v nats-server > /dev/null
