#!/usr/bin/env bash
# Run each fuzz target for a bounded time (FUZZ_SECONDS, default 30). Needs a nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`); without them it says so and exits 0,
# so CI on a machine without them still passes.
#
#   fuzz/run.sh                 # both targets, 30 s each
#   FUZZ_SECONDS=300 fuzz/run.sh xml_parse
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${FUZZ_SECONDS:-30}"
if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "SKIPPED: fuzzing (needs a nightly toolchain and cargo-fuzz)"
  exit 0
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(xml_parse decrypt)
for t in "${targets[@]}"; do
  echo "fuzzing $t for ${secs}s"
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048
done
