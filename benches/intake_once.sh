#!/usr/bin/env bash
# One intake run for A/B comparisons of builds (issue 20; figures in docs/BENCHMARKS.md):
# starts BIN on a fresh database, posts the named tip of benches/wrk/intake.lua with
# `wrk -t2 -c64 -d8s --latency`, and over the middle 4 s reads the CPU that jubao and the
# whole machine used and how the SQLite writer thread spent its time (running, waiting for
# a core, or off the CPU: in fsync or waiting for work), from /proc.
#
#   benches/intake_once.sh target/release/jubao                       # SQLite
#   benches/intake_once.sh target/release/jubao postgres://postgres@127.0.0.1:5432/jubao_bench
#
# Alternate the builds run by run (A B A B …): this machine's speed moves by ±25 % from
# one minute to the next. Needs wrk (Debian package `wrk`), curl and bc.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$1
work="$(mktemp -d)"
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
db="${2:-sqlite://$work/jubao.db}"
if [[ "$db" == postgres* ]]; then
  psql "${db%/*}/postgres" -qc "DROP DATABASE IF EXISTS ${db##*/}" -c "CREATE DATABASE ${db##*/}" 2>/dev/null
fi
JUBAO_DATABASE_URL="$db" JUBAO_KEYS_MASTER_KEY_FILE="$work/master.key" \
  JUBAO_SERVER_LISTEN="127.0.0.1:$port" JUBAO_LOG_FILTER=warn \
  JUBAO_INTAKE_FILINGS_PER_CLIENT=1000000 "$bin" serve 2> "$work/server.log" > /dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
wrk -t2 -c64 -d8s --latency -s benches/wrk/intake.lua "http://127.0.0.1:$port" > "$work/wrk.out" &
wrk_pid=$!
sleep 2
writer=$(grep -l sqlite-writer /proc/$pid/task/*/comm 2>/dev/null | head -1 | xargs -r dirname)
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
machine() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8, $5 + $6}' /proc/stat; }
w0=$([[ -n "$writer" ]] && cat "$writer/schedstat"); p0=$(ticks); m0=$(machine); t0=$(date +%s%N)
sleep 4
w1=$([[ -n "$writer" ]] && cat "$writer/schedstat"); p1=$(ticks); m1=$(machine); t1=$(date +%s%N)
wait $wrk_pid
grep -E '^ +(50|99)%|Requests/sec' "$work/wrk.out" | tr -s ' ' | tr '\n' ' '; echo
echo "jubao: $(echo "scale=2; ($p1 - $p0) / 100 / 4" | bc) cores"
read -r b0 i0 <<< "$m0"; read -r b1 i1 <<< "$m1"
echo "machine busy: $(echo "scale=2; ($b1 - $b0) / (($b1 - $b0) + ($i1 - $i0))" | bc)"
if [[ -n "$writer" ]]; then
  read -r r0 q0 _ <<< "$w0"; read -r r1 q1 _ <<< "$w1"; wall=$((t1 - t0))
  echo "SQLite writer: running $(echo "scale=2; ($r1 - $r0) / $wall" | bc)," \
    "waiting for a core $(echo "scale=2; ($q1 - $q0) / $wall" | bc) of the time"
fi
