#!/usr/bin/env bash
# Publishes samples/RegistrationAot with native AOT into the folder given (default artifacts/aot), after installing
# what AOT needs (eng/install-aot.sh). Its own configuration (Aot, optimized) keeps its outputs apart from Debug and
# Release builds. Then run it: artifacts/aot/RegistrationAot [count] [--rabbitmq uri] [--db path].
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/artifacts/aot}"
"$root/eng/install-aot.sh"
dotnet publish "$root/samples/RegistrationAot/RegistrationAot.csproj" -c Aot -p:Optimize=true -r linux-x64 -o "$out" -nologo
