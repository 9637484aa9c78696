#!/usr/bin/env bash
# Run each fuzz target for a bounded time (FUZZ_SECONDS, default 30). Needs the nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz`). Without them it says so and exits 0,
# unless FUZZ_REQUIRED=1 (set by tests/fuzz.rs, which `cargo test` runs under CI=true), where
# it exits 1. A crash leaves its input in fuzz/artifacts/<target>/ and exits non-zero.
#
#   fuzz/run.sh                 # both targets, 30 s each
#   FUZZ_SECONDS=300 fuzz/run.sh xml_parse
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${FUZZ_SECONDS:-30}"
if ! cargo +nightly --version >/dev/null 2>&1 || ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  if [ "${FUZZ_REQUIRED:-0}" = "1" ]; then
    echo "fuzzing needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz --locked)" >&2
    exit 1
  fi
  echo "SKIPPED: fuzzing (needs a nightly toolchain and cargo-fuzz)"
  exit 0
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(xml_parse decrypt)
for t in "${targets[@]}"; do
  echo "fuzzing $t for ${secs}s"
  # The working corpus grows in fuzz/corpus/<target> (not committed); fuzz/seeds/<target>
  # holds committed starting inputs (sample pushes, Tencent's sample ciphertexts).
  mkdir -p "fuzz/corpus/$t"
  cargo +nightly fuzz run "$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -- \
    -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048
done
