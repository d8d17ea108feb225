#!/usr/bin/env bash
# Entry points for a fresh clone:
#   ./build.sh run [gateway options]   set up and serve the gateway on its embedded default (http://127.0.0.1:8080)
#   ./build.sh test                    set up and run every test
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
verb="${1:-run}"
shift || true
case "$verb" in
  run)
    ./eng/bootstrap.sh
    exec dotnet run --project src/Gateway -c Release -- "$@"
    ;;
  test)
    ./eng/bootstrap.sh --tests
    dotnet build Gateway.sln -c Release
    exec dotnet test Gateway.sln -c Release --no-build "$@"
    ;;
  *)
    echo "usage: ./build.sh run|test [args]" >&2
    exit 2
    ;;
esac
