#!/usr/bin/env bash
# Prepares a fresh clone: a local NuGet feed for packages a restricted registry may lack, the ONNX Runtime
# C# binding and native library (fetched by package name from npm), and the npm packages the wire-level
# tests use. Idempotent: each step is skipped when its output is already there.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/eng/.cache"
feed="$root/eng/.feed"
mkdir -p "$cache" "$feed"

ORT_NPM_PACKAGE="com.github.asus4.onnxruntime@0.4.9"

log() { printf '[bootstrap] %s\n' "$*" >&2; }

# 1. System.IO.Hashing: YARP needs it at restore; the SDK ships the assembly, which we pack as a package.
if [ ! -f "$feed/system.io.hashing.10.0.0.nupkg" ]; then
  sdk_line="$(dotnet --list-sdks | tail -n 1)"
  sdk_ver="${sdk_line%% *}"
  sdk_dir="${sdk_line#*[}"; sdk_dir="${sdk_dir%]}"
  dll="$sdk_dir/$sdk_ver/Sdks/Microsoft.NET.Sdk/tools/net10.0/System.IO.Hashing.dll"
  [ -f "$dll" ] || dll="$(find "$sdk_dir/$sdk_ver" -path '*/net10.0/System.IO.Hashing.dll' | head -n 1)"
  [ -f "$dll" ] || { log "System.IO.Hashing.dll not found under $sdk_dir/$sdk_ver"; exit 1; }
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/lib/net8.0"
  cp "$dll" "$tmp/lib/net8.0/"
  cat > "$tmp/System.IO.Hashing.nuspec" <<'NUSPEC'
<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>System.IO.Hashing</id>
    <version>10.0.0</version>
    <authors>Microsoft</authors>
    <description>System.IO.Hashing repacked from the .NET SDK for offline restore.</description>
    <dependencies><group targetFramework="net8.0" /></dependencies>
  </metadata>
</package>
NUSPEC
  (cd "$tmp" && zip -q -r "$feed/system.io.hashing.10.0.0.nupkg" System.IO.Hashing.nuspec lib)
  rm -rf "$tmp"
  log "packed System.IO.Hashing into eng/.feed"
fi

# 2. ONNX Runtime: the C# API sources and the CPU native library, from the npm package by name.
if [ ! -f "$cache/onnxruntime/package/Plugins/Linux/x64/libonnxruntime.so" ]; then
  rm -rf "$cache/onnxruntime" && mkdir -p "$cache/onnxruntime"
  (cd "$cache/onnxruntime" && npm pack --silent "$ORT_NPM_PACKAGE" >/dev/null && tar xzf ./*.tgz && rm -f ./*.tgz)
  log "fetched $ORT_NPM_PACKAGE"
fi

install_npm() {
  local dir="$1"
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package.json" -nt "$dir/node_modules" ]; then
    (cd "$dir" && npm install --silent --no-audit --no-fund >/dev/null)
    touch "$dir/node_modules"
    log "installed npm packages in ${dir#"$root"/}"
  fi
}

# 3. The demo guard model's tokenizer: the Llama 2 (LlamaGuard-7b) vocabulary exported from the npm package
#    llama-tokenizer-js into Hugging Face's tokenizer.json format (the same export the tokenizer tests use).
if [ ! -f "$cache/tokenizers/llama2/tokenizer.json" ]; then
  install_npm "$root/tests/Guard.Tests/js"
  (cd "$root/tests/Guard.Tests/js" && node generate-fixtures.mjs --tokenizers-only "$cache/tokenizers" >/dev/null)
  log "exported the Llama 2 and Llama 3 tokenizers into eng/.cache/tokenizers"
fi

# 4. npm packages for wire-level tests (official clients), when asked for.
if [ "${1:-}" = "--tests" ]; then
  for dir in "$root"/tests/*/js; do
    [ -f "$dir/package.json" ] && install_npm "$dir"
  done
fi
