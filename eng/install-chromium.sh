#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser tests when it is missing (apt-get; root, or sudo without a
# password). Prints the browser's path. The tests launch it headless with --no-sandbox, on 127.0.0.1 only.
set -euo pipefail
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
as_root apt-get update -qq >&2
as_root apt-get install -y -qq chromium >&2
echo /usr/bin/chromium
