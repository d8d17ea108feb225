#!/usr/bin/env bash
# Proxy-overhead benchmark: the same loopback upstream called directly and through the gateway.
# Builds Release, starts bench/Upstream and two gateways (one with a WorkersAi upstream, one with an OpenAi upstream)
# on free loopback ports, runs bench/LoadGen, and writes the markdown report to stdout and bench/results/latest.md.
#
# Environment overrides (defaults in brackets):
#   CONNECTIONS [1,16,64]  DURATION [10] seconds measured per row and side  WARMUP [3] seconds per row and side
#   PRIME [2] seconds of load per scenario and side before the first row  SCENARIOS [all] comma-separated:
#   workers-ai, workers-ai-stream, openai-chat, openai-chat-stream, workers-ai-to-openai, workers-ai-to-openai-stream,
#   yarp-openai-chat, yarp-openai-chat-stream (a plain YARP route: the proxy hop without the gateway's logic)
#   CHUNKS [20] text events per upstream stream  NO_BUILD [unset] skip the build
#   ROUNDS [5] alternating direct/gateway slices the measured time is split into, per row
#   MAX_FOREIGN_CORES [0.2] QUIET_WAIT [10]: each row first waits up to QUIET_WAIT s for other processes on the machine
#   to use at most MAX_FOREIGN_CORES cores
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/bench/results"
logs="$results/logs"
mkdir -p "$logs"

CONNECTIONS=${CONNECTIONS:-1,16,64}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
PRIME=${PRIME:-2}
SCENARIOS=${SCENARIOS:-all}
CHUNKS=${CHUNKS:-20}
MAX_FOREIGN_CORES=${MAX_FOREIGN_CORES:-0.2}
ROUNDS=${ROUNDS:-5}
QUIET_WAIT=${QUIET_WAIT:-10}

if [[ -z "${NO_BUILD:-}" ]]; then
  echo "building (Release)..." >&2
  ./eng/bootstrap.sh >"$logs/bootstrap.log" 2>&1 || { cat "$logs/bootstrap.log" >&2; exit 1; }
  for project in src/Gateway/Gateway.csproj bench/Upstream/Bench.Upstream.csproj bench/LoadGen/Bench.LoadGen.csproj; do
    dotnet build "$project" -c Release -nologo -v quiet >"$logs/build.log" 2>&1 || { cat "$logs/build.log" >&2; exit 1; }
  done
fi

gateway_dll="$root/src/Gateway/bin/Release/net10.0/gateway.dll"
upstream_dll="$root/bench/Upstream/bin/Release/net10.0/Bench.Upstream.dll"
loadgen_dll="$root/bench/LoadGen/bin/Release/net10.0/Bench.LoadGen.dll"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r upstream_port gw_workersai_port gw_openai_port < <(dotnet "$loadgen_dll" ports 3)
upstream="http://127.0.0.1:$upstream_port"
gw_workersai="http://127.0.0.1:$gw_workersai_port"
gw_openai="http://127.0.0.1:$gw_openai_port"

dotnet "$upstream_dll" --urls "$upstream" --Chunks "$CHUNKS" >"$logs/upstream.log" 2>&1 &
upstream_pid=$!
pids+=("$upstream_pid")

# Every model goes to one upstream named "backend" whose YARP cluster points at the loopback upstream (rule 0, so it
# wins over appsettings.json's rules). No guard: this measures the proxy itself. A plain YARP route (/yarp/... -> the
# same cluster, no gateway logic) serves the reference scenarios.
start_gateway() { # url kind log
  dotnet "$gateway_dll" --urls "$1" \
    "--Gateway:Upstreams:backend:Kind=$2" \
    "--Gateway:Upstreams:backend:AccountId=bench-account" \
    "--Gateway:Upstreams:backend:ApiToken=bench-upstream-token" \
    "--Gateway:Routes:0:Models=*" \
    "--Gateway:Routes:0:Upstream=backend" \
    "--Guard:Engine=None" \
    "--ReverseProxy:Clusters:backend:Destinations:d1:Address=$upstream/" \
    "--ReverseProxy:Routes:yarp:ClusterId=backend" \
    "--ReverseProxy:Routes:yarp:Match:Path=/yarp/{**rest}" \
    "--ReverseProxy:Routes:yarp:Transforms:0:PathRemovePrefix=/yarp" \
    >"$3" 2>&1 &
}
start_gateway "$gw_workersai" WorkersAi "$logs/gateway-workersai.log"
gw_workersai_pid=$!
pids+=("$gw_workersai_pid")
start_gateway "$gw_openai" OpenAi "$logs/gateway-openai.log"
gw_openai_pid=$!
pids+=("$gw_openai_pid")

for url in "$upstream/healthz" "$gw_workersai/readyz" "$gw_openai/readyz"; do
  if ! dotnet "$loadgen_dll" wait "$url" 60; then
    tail -n 20 "$logs"/*.log >&2
    exit 1
  fi
done
echo "upstream $upstream (pid $upstream_pid), gateway/WorkersAi $gw_workersai (pid $gw_workersai_pid), gateway/OpenAi $gw_openai (pid $gw_openai_pid)" >&2

command="./bench/run.sh"
declare -A defaults=([CONNECTIONS]=1,16,64 [DURATION]=10 [WARMUP]=3 [PRIME]=2 [SCENARIOS]=all [CHUNKS]=20
  [ROUNDS]=5 [MAX_FOREIGN_CORES]=0.2 [QUIET_WAIT]=10)
for var in CONNECTIONS DURATION WARMUP PRIME SCENARIOS CHUNKS ROUNDS MAX_FOREIGN_CORES QUIET_WAIT; do
  default_value=${defaults[$var]}
  if [[ "${!var}" != "$default_value" ]]; then command="$var=${!var} $command"; fi
done

dotnet "$loadgen_dll" run \
  --upstream "$upstream" --upstream-pid "$upstream_pid" \
  --gateway-workersai "$gw_workersai" --gateway-workersai-pid "$gw_workersai_pid" \
  --gateway-openai "$gw_openai" --gateway-openai-pid "$gw_openai_pid" \
  --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" --prime "$PRIME" --scenarios "$SCENARIOS" \
  --rounds "$ROUNDS" --max-foreign-cores "$MAX_FOREIGN_CORES" --quiet-wait "$QUIET_WAIT" \
  --command "$command" --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  --out "$results/latest.md" &
# In the background and waited for, so that a signal reaches the trap (and the cleanup) at once.
loadgen_pid=$!
pids+=("$loadgen_pid")
wait "$loadgen_pid"
