#!/usr/bin/env bash
# Proxy-overhead benchmark: the same loopback upstream called directly and through the gateway.
# Builds Release, starts bench/Upstream, two gateways (one with a WorkersAi upstream, one with an OpenAi upstream) and,
# when nginx is installed, an nginx reverse proxy in front of the same upstream, on free loopback ports, runs
# bench/LoadGen, and writes the markdown report to stdout and bench/results/latest.md (overhead.md in overhead mode).
#
# MODE [closed]: closed   every scenario in a closed loop at each connection count, direct against the gateway
#                overhead the proxy's own cost next to a plain YARP route and nginx: added latency at a fixed rate
#                         (CLIENTS [4] clients at RATE [100] req/s each, LATENCY_DURATION [20] s per target) and
#                         throughput at saturation (SATURATION_CONNECTIONS [16], SATURATION_DURATION [10] s per
#                         target); SCENARIOS [all]: openai-chat, workers-ai; ROUNDS and PRIME as below
#
# Environment overrides (defaults in brackets):
#   CONNECTIONS [1,16,64]  DURATION [10] seconds measured per row and side  WARMUP [3] seconds per row and side
#   PRIME [2] seconds of load per scenario and side before the first row  SCENARIOS [all] comma-separated:
#   workers-ai, workers-ai-stream, openai-chat, openai-chat-stream, workers-ai-to-openai, workers-ai-to-openai-stream,
#   yarp-openai-chat, yarp-openai-chat-stream (a plain YARP route: the proxy hop without the gateway's logic),
#   nginx-openai-chat, nginx-openai-chat-stream (nginx in front of the same upstream; only when nginx is installed)
#   CHUNKS [20] text events per upstream stream  NO_BUILD [unset] skip the build
#   ROUNDS [5] alternating direct/gateway slices the measured time is split into, per row
#   MAX_FOREIGN_CORES [0.2] QUIET_WAIT [10]: each row first waits up to QUIET_WAIT s for other processes on the machine
#   to use at most MAX_FOREIGN_CORES cores
#   NGINX [nginx on the PATH, else /usr/sbin/nginx]: the nginx binary; NGINX=none leaves nginx out
#   GATEWAY_ARGS [none]: extra configuration overrides for both gateways, split on spaces, for example
#   GATEWAY_ARGS=--Logging:LogLevel:Gateway.Pipeline.AuditStep=Warning (no audit records)
#   GATEWAY_ENV [none]: extra environment variables for both gateway processes (not the upstream, the load generator
#   or nginx), NAME=VALUE pairs split on spaces, for example GATEWAY_ENV=DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1
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
MODE=${MODE:-closed}
CLIENTS=${CLIENTS:-4}
RATE=${RATE:-100}
LATENCY_DURATION=${LATENCY_DURATION:-20}
SATURATION_CONNECTIONS=${SATURATION_CONNECTIONS:-16}
SATURATION_DURATION=${SATURATION_DURATION:-10}
if [[ -z "${NGINX:-}" ]]; then
  NGINX=$(command -v nginx || true)
  if [[ -z "$NGINX" && -x /usr/sbin/nginx ]]; then NGINX=/usr/sbin/nginx; fi
fi
case "$MODE" in
  closed | overhead) ;;
  *) echo "MODE must be closed or overhead" >&2; exit 2 ;;
esac

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

read -r upstream_port gw_workersai_port gw_openai_port nginx_port < <(dotnet "$loadgen_dll" ports 4)
upstream="http://127.0.0.1:$upstream_port"
gw_workersai="http://127.0.0.1:$gw_workersai_port"
gw_openai="http://127.0.0.1:$gw_openai_port"

dotnet "$upstream_dll" --urls "$upstream" --Chunks "$CHUNKS" >"$logs/upstream.log" 2>&1 &
upstream_pid=$!
pids+=("$upstream_pid")

# Every model goes to one upstream named "backend" whose YARP cluster points at the loopback upstream (rule 0, so it
# wins over appsettings.json's rules). No guard: this measures the proxy itself. A plain YARP route (/yarp/... -> the
# same cluster, no gateway logic) serves the reference scenarios.
# GATEWAY_ARGS and GATEWAY_ENV are split on spaces on purpose.
# shellcheck disable=SC2086
start_gateway() { # url kind log
  env ${GATEWAY_ENV:-} dotnet "$gateway_dll" --urls "$1" \
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
    ${GATEWAY_ARGS:-} >"$3" 2>&1 &
}
start_gateway "$gw_workersai" WorkersAi "$logs/gateway-workersai.log"
gw_workersai_pid=$!
pids+=("$gw_workersai_pid")
start_gateway "$gw_openai" OpenAi "$logs/gateway-openai.log"
gw_openai_pid=$!
pids+=("$gw_openai_pid")

# nginx as a plain reverse proxy: HTTP/1.1 kept alive to the upstream, no buffering (streams pass as they come), no
# access log. In the foreground (daemon off), so that its PID is the master's and stopping it stops the workers.
nginx_args=()
nginx_url=""
if [[ -n "$NGINX" && "$NGINX" != none ]]; then
  nginx_dir="$results/nginx"
  mkdir -p "$nginx_dir"
  user_line=""
  if [[ $(id -u) -eq 0 ]]; then user_line="user $(id -un) $(id -gn);"; fi
  cat >"$nginx_dir/nginx.conf" <<EOF
$user_line
worker_processes auto;
pid $nginx_dir/nginx.pid;
error_log $logs/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $nginx_dir/client_body;
  proxy_temp_path $nginx_dir/proxy;
  fastcgi_temp_path $nginx_dir/fastcgi;
  uwsgi_temp_path $nginx_dir/uwsgi;
  scgi_temp_path $nginx_dir/scgi;
  upstream backend {
    server 127.0.0.1:$upstream_port;
    keepalive 64;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
  "$NGINX" -p "$nginx_dir" -c "$nginx_dir/nginx.conf" -g 'daemon off;' >"$logs/nginx.log" 2>&1 &
  nginx_pid=$!
  pids+=("$nginx_pid")
  nginx_url="http://127.0.0.1:$nginx_port"
fi

for url in "$upstream/healthz" "$gw_workersai/readyz" "$gw_openai/readyz" ${nginx_url:+"$nginx_url/healthz"}; do
  if ! dotnet "$loadgen_dll" wait "$url" 60; then
    tail -n 20 "$logs"/*.log >&2
    exit 1
  fi
done
echo "upstream $upstream (pid $upstream_pid), gateway/WorkersAi $gw_workersai (pid $gw_workersai_pid), gateway/OpenAi $gw_openai (pid $gw_openai_pid)" >&2
if [[ -n "$nginx_url" ]]; then
  # The workers are the master's children; their CPU time counts as nginx's.
  nginx_pids=$(echo "$nginx_pid" $(ps -o pid= --ppid "$nginx_pid") | tr -s ' ' ',')
  nginx_args=(--nginx "$nginx_url" --nginx-pids "$nginx_pids")
  echo "nginx $nginx_url (pids $nginx_pids)" >&2
fi

command="./bench/run.sh"
declare -A defaults=([MODE]=closed [CONNECTIONS]=1,16,64 [DURATION]=10 [WARMUP]=3 [PRIME]=2 [SCENARIOS]=all [CHUNKS]=20
  [ROUNDS]=5 [MAX_FOREIGN_CORES]=0.2 [QUIET_WAIT]=10 [CLIENTS]=4 [RATE]=100 [LATENCY_DURATION]=20
  [SATURATION_CONNECTIONS]=16 [SATURATION_DURATION]=10)
for var in MODE CONNECTIONS DURATION WARMUP PRIME SCENARIOS CHUNKS ROUNDS MAX_FOREIGN_CORES QUIET_WAIT CLIENTS RATE \
  LATENCY_DURATION SATURATION_CONNECTIONS SATURATION_DURATION; do
  default_value=${defaults[$var]}
  if [[ "${!var}" != "$default_value" ]]; then command="$var=${!var} $command"; fi
done
if [[ -n "${GATEWAY_ARGS:-}" ]]; then command="GATEWAY_ARGS='$GATEWAY_ARGS' $command"; fi
if [[ -n "${GATEWAY_ENV:-}" ]]; then command="GATEWAY_ENV='$GATEWAY_ENV' $command"; fi

servers=(--upstream "$upstream" --upstream-pid "$upstream_pid"
  --gateway-workersai "$gw_workersai" --gateway-workersai-pid "$gw_workersai_pid"
  --gateway-openai "$gw_openai" --gateway-openai-pid "$gw_openai_pid" "${nginx_args[@]}"
  --max-foreign-cores "$MAX_FOREIGN_CORES" --quiet-wait "$QUIET_WAIT"
  --command "$command" --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)")
if [[ "$MODE" == overhead ]]; then
  dotnet "$loadgen_dll" overhead "${servers[@]}" \
    --scenarios "$SCENARIOS" --clients "$CLIENTS" --rate "$RATE" --latency-duration "$LATENCY_DURATION" \
    --saturation-connections "$SATURATION_CONNECTIONS" --saturation-duration "$SATURATION_DURATION" \
    --rounds "$ROUNDS" --prime "$PRIME" --out "$results/overhead.md" &
else
  dotnet "$loadgen_dll" run "${servers[@]}" \
    --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" --prime "$PRIME" --scenarios "$SCENARIOS" \
    --rounds "$ROUNDS" --out "$results/latest.md" &
fi
# In the background and waited for, so that a signal reaches the trap (and the cleanup) at once.
loadgen_pid=$!
pids+=("$loadgen_pid")
wait "$loadgen_pid"
