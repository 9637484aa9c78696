#!/usr/bin/env bash
# Load runs over HTTP on this machine (loopback only), figures in docs/BENCHMARKS.md.
# Starts the release binary on a fresh database and, in one run:
#   1. wrk (2 threads, 64 connections, WRK_SECONDS=8 s) posting the named tip of
#      benches/wrk/intake.lua: the bare actix-web app (examples/bare_intake.rs), then jubao
#      with the same request, so the ratio of the two is measured every time;
#   2. once jubao is idle again, wrk posting signed safe-mode WeChat pushes
#      (examples/pushgen.rs, benches/wrk/pushes.lua);
#   3. the closed loop (64 clients) and the open loop (1,000 tips/s) of examples/loadgen.rs.
# Without wrk (Debian package `wrk`) steps 1 and 2 are skipped. WRK_ONLY=1 skips step 3;
# PERF_DIR=dir records jubao under each wrk run with `perf record -g` (Debian `linux-perf`);
# SKIP_BUILD=1 uses the binaries already built.
#
#   benches/load.sh                      # SQLite
#   DB=postgres://postgres@127.0.0.1:5432/jubao_bench benches/load.sh   # PostgreSQL (created)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${SECONDS_EACH:-15}"
WRK_SECONDS="${WRK_SECONDS:-8}"
if [[ -z "${SKIP_BUILD:-}" ]]; then
  cargo build --release --quiet --bin jubao --example loadgen --example bare_intake --example pushgen
fi
bin="${CARGO_TARGET_DIR:-target}/release"
# BENCH_BIN=path runs another build of jubao (say, an earlier commit's) against the same load.
jubao="${BENCH_BIN:-$bin/jubao}"
work="$(mktemp -d)"
trap 'kill $(cat "$work"/*.pid 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 1 100); do curl -sf -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
port=$(free_port)
db="${DB:-sqlite://$work/jubao.db}"
if [[ "$db" == postgres* ]]; then
  name="${db##*/}"; admin="${db%/*}/postgres"
  psql "$admin" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
fi
# The bench account of examples/pushgen.rs (made-up secrets).
cat > "$work/jubao.toml" <<'TOML'
[[wechat]]
account = "bench"
appid = "wx5823bf96d3bd56c7"
token = "bench-token"
encoding_aes_key = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
appsecret = "bench-appsecret-0123456789"
api_base = "http://127.0.0.1:9"
TOML
JUBAO_CONFIG="$work/jubao.toml" JUBAO_DATABASE_URL="$db" JUBAO_KEYS_MASTER_KEY_FILE="$work/master.key" \
  JUBAO_SERVER_LISTEN="127.0.0.1:$port" JUBAO_LOG_FILTER=warn \
  JUBAO_INTAKE_FILINGS_PER_CLIENT=1000000 \
  env ${BENCH_ENV:-} "$jubao" serve 2> "$work/server.log" & echo $! > "$work/jubao.pid"
wait_ready "http://127.0.0.1:$port/readyz"
echo "idle RSS: $(ps -o rss= -p "$(cat "$work/jubao.pid")") KiB"
if command -v wrk >/dev/null; then
  wrk_run() { # label, script, url
    echo "== wrk -t2 -c64 -d${WRK_SECONDS}s --latency: $1"
    if [[ -n "${PERF_DIR:-}" && "$3" == *":$port" ]]; then # profile jubao during the run
      mkdir -p "$PERF_DIR"
      perf record -F 499 -g -o "$PERF_DIR/${2##*/}.data" -p "$(cat "$work/jubao.pid")" \
        -- sleep "$WRK_SECONDS" 2>/dev/null & perf_pid=$!
    fi
    wrk -t2 -c64 -d"${WRK_SECONDS}s" --latency -s "$2" "$3" \
      | grep -E 'Latency Distribution|^ +(50|90|99)%|Requests/sec|requests in|Non-2xx|Socket errors'
    if [[ -n "${perf_pid:-}" ]]; then wait "$perf_pid" || true; perf_pid=; fi
  }
  wait_idle() { # pid: until it uses under 5 % of a core (its background jobs are done)
    local prev now
    prev=$(awk '{print $14 + $15}' "/proc/$1/stat")
    for _ in $(seq 1 240); do
      sleep 0.5
      now=$(awk '{print $14 + $15}' "/proc/$1/stat")
      if (( now - prev <= 2 )); then return; fi
      prev=$now
    done
  }
  # The bare app first, while jubao is idle, so neither run shares the cores with the other.
  bare=$(free_port)
  "$bin"/examples/bare_intake "127.0.0.1:$bare" & echo $! > "$work/bare.pid"
  for _ in $(seq 1 100); do
    curl -s -o /dev/null -X POST "http://127.0.0.1:$bare/api/v1/reports" && break; sleep 0.1
  done
  wrk_run "bare actix-web (examples/bare_intake.rs)" benches/wrk/intake.lua "http://127.0.0.1:$bare"
  kill "$(cat "$work/bare.pid")"; rm "$work/bare.pid"
  wrk_run "jubao intake" benches/wrk/intake.lua "http://127.0.0.1:$port"
  "$bin"/examples/pushgen "${PUSHES_COUNT:-200000}" > "$work/pushes.txt"
  # The tips just filed start background jobs (related tips); the pushes run after them.
  wait_idle "$(cat "$work/jubao.pid")"
  PUSHES="$work/pushes.txt" wrk_run "jubao safe-mode WeChat pushes" benches/wrk/pushes.lua \
    "http://127.0.0.1:$port"
fi
if [[ -z "${WRK_ONLY:-}" ]]; then
  "$bin"/examples/loadgen --url "http://127.0.0.1:$port" --concurrency 64 --seconds "$SECONDS_EACH"
  "$bin"/examples/loadgen --url "http://127.0.0.1:$port" --rate 1000 --seconds "$SECONDS_EACH"
fi
echo "RSS after load: $(ps -o rss= -p "$(cat "$work/jubao.pid")") KiB"
