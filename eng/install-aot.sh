#!/usr/bin/env bash
# Installs what native AOT needs on Linux when it is missing: a C toolchain (clang) and zlib's headers
# (eng/apt-install.sh: root or sudo without a password; safe alongside the other installs).
set -euo pipefail
here="$(dirname "$0")"
packages=(zlib1g-dev)
[ -x /usr/bin/clang ] || [ -x /usr/bin/clang-14 ] || packages+=(clang)
"$here/apt-install.sh" "${packages[@]}"
