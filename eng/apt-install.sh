#!/usr/bin/env bash
# Installs Debian packages that are missing, safely when several test projects ask at the same moment: Herald's own
# installs take turns on one lock file, and apt itself waits for a dpkg or lists lock held by anyone else (up to ten
# minutes) instead of failing with "Could not get lock". Safe to run again: installed packages are left as they are.
# Usage: eng/apt-install.sh package...   (root, or sudo without a password)
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 package..." >&2; exit 2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
missing() {
  local p out=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || out+=("$p")
  done
  echo "${out[@]:-}"
}

[ -n "$(missing "$@")" ] || exit 0
exec 9>"${TMPDIR:-/tmp}/herald-apt-install.lock"
flock -w 1200 9 || { echo "$0: waited 20 minutes for another Herald install to finish" >&2; exit 1; }
read -r -a todo <<<"$(missing "$@")" # another install may have brought them while this one waited
[ ${#todo[@]} -gt 0 ] || exit 0

export DEBIAN_FRONTEND=noninteractive
wait_lock=(-o DPkg::Lock::Timeout=600)
for attempt in 1 2 3 4 5 6; do
  # The lists lock of "apt-get update" is not covered by DPkg::Lock::Timeout on every apt: retry a held lock.
  if as_root apt-get "${wait_lock[@]}" update -qq 2> >(tee /tmp/herald-apt-update.err >&2); then break; fi
  grep -q "Could not get lock" /tmp/herald-apt-update.err || exit 1
  [ "$attempt" -lt 6 ] || exit 1
  sleep 10
done
as_root apt-get "${wait_lock[@]}" install -y -qq "${todo[@]}" >/dev/null
