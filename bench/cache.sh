#!/usr/bin/env bash
# Verdict-cache benchmark: what a prompt check costs when its verdict comes from the cache (memory, or Redis written by
# another gateway), against the guard call it saves, and what it costs while Redis is killed or paused. Builds Release,
# starts bench/Upstream, bench/GuardServer (a Llama Guard stand-in answering "safe" after the latency the driver names
# in each prompt), three redis-servers and five gateways on free loopback ports, runs `Bench.LoadGen cache`, and writes
# the markdown report to stdout and bench/results/cache.md. See docs/benchmarks.md, "Verdict cache".
#
# The gateways share one configuration (remote OpenAi guard engine, a generated policy file: prompt checked, block,
# fail closed; response unchecked; the model bench-unmoderated checks nothing) and differ only in their cache:
#   gateway   Redis A: misses, L1 hits, the unmoderated baseline, and the writer of the L2 hits
#   peer      Redis A: reads what `gateway` wrote (L2 hits)
#   off       Cache:Verdicts=false: every check calls the guard
#   down      Redis B, which the driver kills (SIGKILL) after the warm-up
#   paused    Redis C, which the driver pauses (SIGSTOP) after the warm-up and resumes at the end
# Every process is stopped by its pid on exit (a paused Redis is resumed first).
#
# Environment overrides (defaults in brackets):
#   LATENCIES [0,20] guard latencies in ms  ROUNDS [20]  SAMPLES [40] checks per configuration and round
#   WARMUP [200] unmeasured checks per gateway and configuration  RETRY_INTERVAL [2] seconds (Cache:RedisRetryInterval)
#   REDIS_TIMEOUT [0.25] seconds (Cache:RedisTimeout)  MAX_FOREIGN_CORES [0.2] QUIET_WAIT [3]: each round first waits up
#   to QUIET_WAIT s for other processes on the machine to use at most MAX_FOREIGN_CORES cores  NO_BUILD [unset] skip the build
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/bench/results"
work="$results/cache"
logs="$results/logs"
mkdir -p "$logs" "$work"

LATENCIES=${LATENCIES:-0,20}
ROUNDS=${ROUNDS:-20}
SAMPLES=${SAMPLES:-40}
WARMUP=${WARMUP:-200}
RETRY_INTERVAL=${RETRY_INTERVAL:-2}
REDIS_TIMEOUT=${REDIS_TIMEOUT:-0.25}
MAX_FOREIGN_CORES=${MAX_FOREIGN_CORES:-0.2}
QUIET_WAIT=${QUIET_WAIT:-3}

redis_server=$(command -v redis-server) || { echo "redis-server is needed (Debian package redis-server)" >&2; exit 1; }

if [[ -z "${NO_BUILD:-}" ]]; then
  echo "building (Release)..." >&2
  ./eng/bootstrap.sh >"$logs/bootstrap.log" 2>&1 || { cat "$logs/bootstrap.log" >&2; exit 1; }
  for project in src/Gateway/Gateway.csproj bench/Upstream/Bench.Upstream.csproj bench/GuardServer/Bench.GuardServer.csproj \
    bench/LoadGen/Bench.LoadGen.csproj; do
    dotnet build "$project" -c Release -nologo -v quiet >"$logs/build.log" 2>&1 || { cat "$logs/build.log" >&2; exit 1; }
  done
fi

gateway_dll="$root/src/Gateway/bin/Release/net10.0/gateway.dll"
upstream_dll="$root/bench/Upstream/bin/Release/net10.0/Bench.Upstream.dll"
guard_dll="$root/bench/GuardServer/bin/Release/net10.0/Bench.GuardServer.dll"
loadgen_dll="$root/bench/LoadGen/bin/Release/net10.0/Bench.LoadGen.dll"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    # A paused (stopped) process only acts on SIGTERM once it runs again.
    kill -CONT "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r upstream_port guard_port redis_a_port redis_b_port redis_c_port gw_port peer_port off_port down_port paused_port \
  < <(dotnet "$loadgen_dll" ports 10)
upstream="http://127.0.0.1:$upstream_port"
guard="http://127.0.0.1:$guard_port"

start_redis() { # port log
  "$redis_server" --port "$1" --bind 127.0.0.1 --save "" --appendonly no >"$2" 2>&1 &
}
start_redis "$redis_a_port" "$logs/cache-redis-a.log"
redis_a_pid=$!
pids+=("$redis_a_pid")
start_redis "$redis_b_port" "$logs/cache-redis-b.log"
redis_b_pid=$!
pids+=("$redis_b_pid")
start_redis "$redis_c_port" "$logs/cache-redis-c.log"
redis_c_pid=$!
pids+=("$redis_c_pid")

cat >"$work/policies.yaml" <<EOF
# Written by bench/cache.sh.
policies:
  - name: moderated
    prompt: { defaultAction: block, failMode: closed }
    response: { check: false }
  - name: unmoderated
    match: { models: ["bench-unmoderated"] }
    prompt: { check: false }
    response: { check: false }
EOF
cat >"$work/gateway.json" <<EOF
{
  "Gateway": {
    "Upstreams": { "openai": { "Kind": "OpenAi", "ApiToken": "bench-upstream-token" } },
    "Routes": [ { "Models": "*", "Upstream": "openai" } ],
    "Models": {
      "bench-moderated": { "DefaultMaxTokens": 16 },
      "bench-unmoderated": { "DefaultMaxTokens": 16 }
    }
  },
  "Guard": {
    "Engine": "OpenAi",
    "Remote": { "BaseAddress": "$guard/", "Model": "meta-llama/Llama-Guard-3-8B", "Family": "LlamaGuard3", "Logprobs": false }
  },
  "Cache": { "RedisTimeout": "$(LC_ALL=C printf '00:00:%06.3f' "$REDIS_TIMEOUT")", "RedisRetryInterval": "$(LC_ALL=C printf '00:00:%06.3f' "$RETRY_INTERVAL")" },
  "Policies": { "Files": [ "$work/policies.yaml" ], "Watch": false },
  "ReverseProxy": { "Clusters": { "openai": { "Destinations": { "d1": { "Address": "$upstream/" } } } } }
}
EOF

dotnet "$upstream_dll" --urls "$upstream" >"$logs/cache-upstream.log" 2>&1 &
upstream_pid=$!
pids+=("$upstream_pid")
dotnet "$guard_dll" --urls "$guard" >"$logs/cache-guard.log" 2>&1 &
guard_pid=$!
pids+=("$guard_pid")

start_gateway() { # port log overrides...
  local port=$1 log=$2
  shift 2
  dotnet "$gateway_dll" --urls "http://127.0.0.1:$port" --config "$work/gateway.json" "$@" >"$log" 2>&1 &
}
start_gateway "$gw_port" "$logs/cache-gateway.log" "--Cache:Redis=127.0.0.1:$redis_a_port"
gw_pid=$!
pids+=("$gw_pid")
start_gateway "$peer_port" "$logs/cache-peer.log" "--Cache:Redis=127.0.0.1:$redis_a_port"
peer_pid=$!
pids+=("$peer_pid")
start_gateway "$off_port" "$logs/cache-off.log" "--Cache:Verdicts=false"
off_pid=$!
pids+=("$off_pid")
start_gateway "$down_port" "$logs/cache-down.log" "--Cache:Redis=127.0.0.1:$redis_b_port"
down_pid=$!
pids+=("$down_pid")
start_gateway "$paused_port" "$logs/cache-paused.log" "--Cache:Redis=127.0.0.1:$redis_c_port"
paused_pid=$!
pids+=("$paused_pid")

for url in "$upstream/healthz" "$guard/healthz" "http://127.0.0.1:$gw_port/readyz" "http://127.0.0.1:$peer_port/readyz" \
  "http://127.0.0.1:$off_port/readyz" "http://127.0.0.1:$down_port/readyz" "http://127.0.0.1:$paused_port/readyz"; do
  if ! dotnet "$loadgen_dll" wait "$url" 60; then
    tail -n 20 "$logs"/cache-*.log >&2
    exit 1
  fi
done
echo "upstream (pid $upstream_pid), guard (pid $guard_pid), Redis A/B/C (pids $redis_a_pid/$redis_b_pid/$redis_c_pid)," \
  "gateways gateway/peer/off/down/paused (pids $gw_pid/$peer_pid/$off_pid/$down_pid/$paused_pid)" >&2

command="./bench/cache.sh"
declare -A defaults=([LATENCIES]=0,20 [ROUNDS]=20 [SAMPLES]=40 [WARMUP]=200 [RETRY_INTERVAL]=2 [REDIS_TIMEOUT]=0.25
  [MAX_FOREIGN_CORES]=0.2 [QUIET_WAIT]=3)
for var in LATENCIES ROUNDS SAMPLES WARMUP RETRY_INTERVAL REDIS_TIMEOUT MAX_FOREIGN_CORES QUIET_WAIT; do
  if [[ "${!var}" != "${defaults[$var]}" ]]; then command="$var=${!var} $command"; fi
done

dotnet "$loadgen_dll" cache \
  --gateway "http://127.0.0.1:$gw_port" --peer "http://127.0.0.1:$peer_port" --cache-off "http://127.0.0.1:$off_port" \
  --down "http://127.0.0.1:$down_port" --paused "http://127.0.0.1:$paused_port" --redis "127.0.0.1:$redis_a_port" \
  --redis-down-pid "$redis_b_pid" --redis-paused-pid "$redis_c_pid" \
  --pids "$upstream_pid,$guard_pid,$redis_a_pid,$redis_b_pid,$redis_c_pid,$gw_pid,$peer_pid,$off_pid,$down_pid,$paused_pid" \
  --latencies "$LATENCIES" --rounds "$ROUNDS" --samples "$SAMPLES" --warmup "$WARMUP" --retry-interval "$RETRY_INTERVAL" \
  --redis-timeout "$REDIS_TIMEOUT" --max-foreign-cores "$MAX_FOREIGN_CORES" --quiet-wait "$QUIET_WAIT" \
  --command "$command" --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" --out "$results/cache.md" &
# In the background and waited for, so that a signal reaches the trap (and the cleanup) at once.
loadgen_pid=$!
pids+=("$loadgen_pid")
wait "$loadgen_pid"
