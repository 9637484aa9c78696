#!/usr/bin/env bash
# Load test of intake over HTTP on this machine (loopback only). Starts the release binary
# on a fresh database, runs the closed-loop and open-loop load, prints one line each.
#
#   benches/load.sh                      # SQLite
#   DB=postgres://postgres@127.0.0.1:5432/jubao_bench benches/load.sh   # PostgreSQL (created)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH="${SECONDS_EACH:-15}"
cargo build --release --quiet --bin jubao --example loadgen
work="$(mktemp -d)"
trap 'kill $(cat "$work/pid" 2>/dev/null) 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
db="${DB:-sqlite://$work/jubao.db}"
if [[ "$db" == postgres* ]]; then
  name="${db##*/}"; admin="${db%/*}/postgres"
  psql "$admin" -qc "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
fi
: > "$work/empty.toml"
JUBAO_CONFIG="$work/empty.toml" JUBAO_DATABASE_URL="$db" JUBAO_KEYS_MASTER_KEY_FILE="$work/master.key" \
  JUBAO_SERVER_LISTEN="127.0.0.1:$port" JUBAO_LOG_FILTER=warn \
  JUBAO_INTAKE_FILINGS_PER_CLIENT=1000000 \
  target/release/jubao serve 2> "$work/server.log" & echo $! > "$work/pid"
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
echo "idle RSS: $(ps -o rss= -p "$(cat "$work/pid")") KiB"
target/release/examples/loadgen --url "http://127.0.0.1:$port" --concurrency 64 --seconds "$SECONDS_EACH"
target/release/examples/loadgen --url "http://127.0.0.1:$port" --rate 1000 --seconds "$SECONDS_EACH"
echo "RSS after load: $(ps -o rss= -p "$(cat "$work/pid")") KiB"
