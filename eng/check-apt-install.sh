#!/usr/bin/env bash
# Proves eng/apt-install.sh is safe to run at the same time and again: with apt's locks held by another process for a
# few seconds (as a concurrent apt-get would), it installs a small missing package from two processes at once, then
# once more; all three must succeed. Leaves the machine as it found it (the package removed again if it was missing).
# Usage: eng/check-apt-install.sh [package]   (root, or sudo without a password; default package: sl)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
package=${1:-sl}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }
installed() { dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; }

was_installed=false
if installed; then
  was_installed=true
  as_root apt-get -o DPkg::Lock::Timeout=600 remove -y -qq "$package" >/dev/null
fi

# Hold dpkg's frontend lock and the lists lock (fcntl locks, the kind apt takes) for 3 s, from another process.
as_root python3 - <<'PY' &
import fcntl, time
held = []
for path in ("/var/lib/dpkg/lock-frontend", "/var/lib/apt/lists/lock"):
    f = open(path, "w")
    fcntl.lockf(f, fcntl.LOCK_EX)
    held.append(f)
print("locks held", flush=True)
time.sleep(3)
PY
holder=$!
sleep 0.5 # let the holder take the locks first (not synchronisation of a result: both orders must succeed)

started=$(date +%s)
"$here/apt-install.sh" "$package" > /tmp/herald-check-apt.1 2>&1 & first=$!
"$here/apt-install.sh" "$package" > /tmp/herald-check-apt.2 2>&1 & second=$!
status=0
wait "$first" || { echo "first concurrent install failed:"; cat /tmp/herald-check-apt.1; status=1; }
wait "$second" || { echo "second concurrent install failed:"; cat /tmp/herald-check-apt.2; status=1; }
wait "$holder" || true
"$here/apt-install.sh" "$package" || { echo "the install run again failed"; status=1; }
installed || { echo "$package is not installed after the concurrent installs"; status=1; }
echo "two concurrent installs of $package with apt's locks held by another process, and a third run: $([ $status = 0 ] && echo ok || echo FAILED) in $(( $(date +%s) - started )) s"

if [ "$was_installed" = false ]; then
  as_root apt-get -o DPkg::Lock::Timeout=600 remove -y -qq "$package" >/dev/null || true
fi
exit $status
