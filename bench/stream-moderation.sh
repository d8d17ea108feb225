#!/usr/bin/env bash
# Streamed-moderation benchmark: paced streams through the gateway, unmoderated and moderated by a guard of fixed
# latency, measured side by side. Builds Release, starts bench/Upstream in paced mode, bench/GuardServer (a Llama Guard
# stand-in answering "safe" after a fixed latency) and one gateway (remote OpenAi guard engine, a generated policy file)
# on free loopback ports, runs `Bench.LoadGen stream`, and writes the markdown report to stdout and
# bench/results/stream-moderation.md. See docs/benchmarks.md, "Streamed moderation".
#
# The gateway serves one model per protocol and mode (bench-openai-windowed, bench-workers-unmoderated, ...), each
# selected by its own policy: unmoderated (prompt and response unchecked), windowed and buffered (prompt and response
# checked, block, fail closed), prompt-only (response unchecked). The driver names the guard latency of each stream in
# its user message, so one gateway and one guard serve every latency.
#
# Environment overrides (defaults in brackets):
#   TOKENS [500] pieces per stream  RATE [100] pieces per second  FIRST_TOKEN_MS [one interval]
#   LATENCIES [5,20,100] guard latencies in ms  ROUNDS [4]  CONCURRENCY [1] concurrent streams per configuration
#   MATRIX [openai-chat:windowed,openai-chat:buffered,openai-chat:prompt-only:20,workers-ai:windowed] protocol:mode
#     entries, each measured at every latency of LATENCIES, or at those given as protocol:mode:ms[/ms...];
#     every protocol also runs unmoderated (the baseline)
#   WARMUP_ROUNDS [2]  WARMUP_TOKENS [40]
#   WINDOW MIN_WINDOW HOLD_BACK [the policy defaults: 400, a quarter of the window, a quarter of the window]
#   MAX_FOREIGN_CORES [0.2] QUIET_WAIT [5]: each round first waits up to QUIET_WAIT s for other processes on the
#   machine to use at most MAX_FOREIGN_CORES cores  NO_BUILD [unset] skip the build
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
results="$root/bench/results"
work="$results/stream-moderation"
logs="$results/logs"
mkdir -p "$logs" "$work"

TOKENS=${TOKENS:-500}
RATE=${RATE:-100}
FIRST_TOKEN_MS=${FIRST_TOKEN_MS:-}
LATENCIES=${LATENCIES:-5,20,100}
ROUNDS=${ROUNDS:-4}
CONCURRENCY=${CONCURRENCY:-1}
MATRIX=${MATRIX:-openai-chat:windowed,openai-chat:buffered,openai-chat:prompt-only:20,workers-ai:windowed}
WARMUP_ROUNDS=${WARMUP_ROUNDS:-2}
WARMUP_TOKENS=${WARMUP_TOKENS:-40}
WINDOW=${WINDOW:-}
MIN_WINDOW=${MIN_WINDOW:-}
HOLD_BACK=${HOLD_BACK:-}
MAX_FOREIGN_CORES=${MAX_FOREIGN_CORES:-0.2}
QUIET_WAIT=${QUIET_WAIT:-5}

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
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

read -r upstream_port guard_port gateway_port < <(dotnet "$loadgen_dll" ports 3)
upstream="http://127.0.0.1:$upstream_port"
guard="http://127.0.0.1:$guard_port"
gateway="http://127.0.0.1:$gateway_port"

# The policies: one per mode, selected by model; the default policy checks nothing (the unmoderated baseline).
window=${WINDOW:-400}
min_window=${MIN_WINDOW:-$((window / 4))}
hold_back=${HOLD_BACK:-$((window / 4))}
streaming=""
[[ -n "$WINDOW" ]] && streaming+=", window: $WINDOW"
[[ -n "$MIN_WINDOW" ]] && streaming+=", minWindow: $MIN_WINDOW"
[[ -n "$HOLD_BACK" ]] && streaming+=", holdBack: $HOLD_BACK"
cat >"$work/policies.yaml" <<EOF
# Written by bench/stream-moderation.sh.
policies:
  - name: unmoderated
    prompt: { check: false }
    response: { check: false }
  - name: windowed
    match: { models: ["bench-*-windowed"] }
    prompt: { defaultAction: block, failMode: closed }
    response: { defaultAction: block, failMode: closed, streaming: { mode: windowed$streaming } }
  - name: buffered
    match: { models: ["bench-*-buffered"] }
    prompt: { defaultAction: block, failMode: closed }
    # The whole answer is held: the hold time bound must exceed the generation time.
    response: { defaultAction: block, failMode: closed, streaming: { mode: buffered, maxHoldTime: 1h$streaming } }
  - name: prompt-only
    match: { models: ["bench-*-prompt-only"] }
    prompt: { defaultAction: block, failMode: closed }
    response: { check: false }
EOF

models=""
for protocol in openai workers; do
  for mode in unmoderated windowed buffered prompt-only; do
    models+="\"bench-$protocol-$mode\": { \"DefaultMaxTokens\": 256, \"MaxTokensLimit\": 1000000 },"
  done
done
cat >"$work/gateway.json" <<EOF
{
  "Gateway": {
    "Upstreams": {
      "openai": { "Kind": "OpenAi", "ApiToken": "bench-upstream-token" },
      "workers": { "Kind": "WorkersAi", "AccountId": "bench-account", "ApiToken": "bench-upstream-token" }
    },
    "Routes": [
      { "Models": "bench-workers-*", "Upstream": "workers" },
      { "Models": "*", "Upstream": "openai" }
    ],
    "Models": { ${models%,} }
  },
  "Guard": {
    "Engine": "OpenAi",
    "Remote": { "BaseAddress": "$guard/", "Model": "meta-llama/Llama-Guard-3-8B", "Family": "LlamaGuard3", "Logprobs": false }
  },
  "Policies": { "Files": [ "$work/policies.yaml" ], "Watch": false },
  "ReverseProxy": {
    "Clusters": {
      "openai": { "Destinations": { "d1": { "Address": "$upstream/" } } },
      "workers": { "Destinations": { "d1": { "Address": "$upstream/" } } }
    }
  }
}
EOF

upstream_args=(--urls "$upstream" --TokensPerSecond "$RATE" --Tokens "$TOKENS")
[[ -n "$FIRST_TOKEN_MS" ]] && upstream_args+=(--FirstTokenMs "$FIRST_TOKEN_MS")
dotnet "$upstream_dll" "${upstream_args[@]}" >"$logs/stream-upstream.log" 2>&1 &
upstream_pid=$!
pids+=("$upstream_pid")
dotnet "$guard_dll" --urls "$guard" >"$logs/stream-guard.log" 2>&1 &
guard_pid=$!
pids+=("$guard_pid")
dotnet "$gateway_dll" --urls "$gateway" --config "$work/gateway.json" >"$logs/stream-gateway.log" 2>&1 &
gateway_pid=$!
pids+=("$gateway_pid")

for url in "$upstream/healthz" "$guard/healthz" "$gateway/readyz"; do
  if ! dotnet "$loadgen_dll" wait "$url" 60; then
    tail -n 20 "$logs"/stream-*.log >&2
    exit 1
  fi
done
echo "upstream $upstream (pid $upstream_pid), guard $guard (pid $guard_pid), gateway $gateway (pid $gateway_pid)" >&2

command="./bench/stream-moderation.sh"
declare -A defaults=([TOKENS]=500 [RATE]=100 [FIRST_TOKEN_MS]= [LATENCIES]=5,20,100 [ROUNDS]=4 [CONCURRENCY]=1
  [MATRIX]=openai-chat:windowed,openai-chat:buffered,openai-chat:prompt-only:20,workers-ai:windowed [WARMUP_ROUNDS]=2
  [WARMUP_TOKENS]=40 [WINDOW]= [MIN_WINDOW]= [HOLD_BACK]= [MAX_FOREIGN_CORES]=0.2 [QUIET_WAIT]=5)
for var in TOKENS RATE FIRST_TOKEN_MS LATENCIES ROUNDS CONCURRENCY MATRIX WARMUP_ROUNDS WARMUP_TOKENS WINDOW MIN_WINDOW HOLD_BACK \
  MAX_FOREIGN_CORES QUIET_WAIT; do
  if [[ "${!var}" != "${defaults[$var]}" ]]; then command="$var=${!var} $command"; fi
done

loadgen_args=(stream --gateway "$gateway" --gateway-pid "$gateway_pid" --guard "$guard" --guard-pid "$guard_pid"
  --upstream-pid "$upstream_pid" --tokens "$TOKENS" --tokens-per-second "$RATE" --latencies "$LATENCIES"
  --matrix "$MATRIX" --rounds "$ROUNDS" --concurrency "$CONCURRENCY" --warmup-rounds "$WARMUP_ROUNDS"
  --warmup-tokens "$WARMUP_TOKENS" --window "$window" --min-window "$min_window" --hold-back "$hold_back"
  --max-foreign-cores "$MAX_FOREIGN_CORES" --quiet-wait "$QUIET_WAIT" --command "$command"
  --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" --out "$results/stream-moderation.md")
[[ -n "$FIRST_TOKEN_MS" ]] && loadgen_args+=(--first-token-ms "$FIRST_TOKEN_MS")
dotnet "$loadgen_dll" "${loadgen_args[@]}" &
# In the background and waited for, so that a signal reaches the trap (and the cleanup) at once.
loadgen_pid=$!
pids+=("$loadgen_pid")
wait "$loadgen_pid"
