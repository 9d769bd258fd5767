#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser tests when it is missing (eng/apt-install.sh: root, or sudo
# without a password; safe alongside the other installs). Prints the browser's path. The tests launch it headless with
# --no-sandbox, on 127.0.0.1 only.
set -euo pipefail
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done
"$(dirname "$0")/apt-install.sh" chromium >&2
echo /usr/bin/chromium
