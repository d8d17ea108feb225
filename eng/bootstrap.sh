#!/usr/bin/env bash
# Prepares a fresh clone: the demo guard model's tokenizer files, and with --tests the npm packages the wire-level
# tests use and the helm binary the chart tests run (eng/helm.sh).
# NuGet packages (ONNX Runtime, YARP, OpenTelemetry, ...) come from the registry at restore time.
# Idempotent: each step is skipped when its output is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/eng/.cache"
mkdir -p "$cache"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

install_npm() {
  local dir="$1"
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package.json" -nt "$dir/node_modules" ]; then
    (cd "$dir" && npm install --silent --no-audit --no-fund >/dev/null)
    touch "$dir/node_modules"
    log "installed npm packages in ${dir#"$root"/}"
  fi
}

# 1. The demo guard model's tokenizer: the Llama 2 (LlamaGuard-7b) vocabulary exported from the npm package
#    llama-tokenizer-js into Hugging Face's tokenizer.json format (the same export the tokenizer tests use).
if [ ! -f "$cache/tokenizers/llama2/tokenizer.json" ]; then
  install_npm "$root/tests/Guard.Tests/js"
  (cd "$root/tests/Guard.Tests/js" && node generate-fixtures.mjs --tokenizers-only "$cache/tokenizers" >/dev/null)
  log "exported the Llama 2 and Llama 3 tokenizers into eng/.cache/tokenizers"
fi

# 2. npm packages for wire-level tests (official clients), and helm for the chart tests, when asked for.
if [ "${1:-}" = "--tests" ]; then
  for dir in "$root"/tests/*/js; do
    [ -f "$dir/package.json" ] && install_npm "$dir"
  done
  "$root/eng/helm.sh" >/dev/null
fi
