#!/usr/bin/env bash
# Entry points for a fresh clone:
#   ./build.sh run [gateway options]   set up and serve the gateway on its embedded default (http://127.0.0.1:8080)
#   ./build.sh test                    set up and run every test
set -euo pipefail
# Relative paths in gateway options (--config, --Policies:Files:0=...) mean what they say where the script was started.
caller="$PWD"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
verb="${1:-run}"
shift || true
case "$verb" in
  run)
    ./eng/bootstrap.sh
    dotnet build src/Gateway -c Release -v quiet -nologo
    # The embedded default: Llama Guard on ONNX Runtime (CPU) with a small builder-made model of seeded random
    # weights. Its verdicts are meaningless; see the README for running a converted real model.
    demo="$root/eng/.cache/models/demo-llamaguard"
    if [ ! -f "$demo/manifest.json" ]; then
      dotnet run --no-build --project src/Gateway -c Release -- build-model --random --preset tiny --seed 1 \
        --family LlamaGuard1 --tokenizer "$root/eng/.cache/tokenizers/llama2" --out "$demo" >/dev/null
    fi
    # Prompts are counted against context windows with the bootstrap's Llama 2 and Llama 3 tokenizers. The built
    # binary runs from the caller's directory ('dotnet run' would start it in the project's).
    cd "$caller"
    exec dotnet "$root/src/Gateway/bin/Release/net10.0/gateway.dll" serve \
      --Guard:Engine=Onnx --Guard:Onnx:ModelDirectory="$demo" \
      --Gateway:Tokenizers:llama2="$root/eng/.cache/tokenizers/llama2" \
      --Gateway:Tokenizers:llama3="$root/eng/.cache/tokenizers/llama3" "$@"
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
