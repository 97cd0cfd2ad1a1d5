#!/usr/bin/env bash
# Fuzzes the RFC 3842 message-summary parser for SECONDS (default 60) with cargo-fuzz/libFuzzer
# and AddressSanitizer. Exits non-zero on a finding (panic, sanitizer report, timeout, OOM);
# the crashing input is then in tests/fuzz/artifacts/message_summary/ and the output names it.
#
#   tests/fuzz/run.sh 300
#
# Runs on the machine's stable toolchain: cargo-fuzz passes nightly-only flags (-Zsanitizer,
# coverage instrumentation), which stable rustc accepts with RUSTC_BOOTSTRAP=1. Installs
# cargo-fuzz from crates.io if it is missing. New inputs the fuzzer finds go to a scratch corpus
# under tests/fuzz/target/; the committed seeds in corpus/message_summary/ are only read.
set -euo pipefail

seconds=${1:-60}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS]   (a whole number of seconds, 1 or more)" >&2
    exit 2
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
target=message_summary

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked
fi

export RUSTC_BOOTSTRAP=1
scratch="$here/target/corpus/$target"
mkdir -p "$scratch"

# -max_len above MAX_BODY_LEN (8192) so the size cap is exercised too; the first corpus
# directory receives new inputs, the second (the committed seeds) is only read.
cargo fuzz run --fuzz-dir "$here" "$target" "$scratch" "$here/corpus/$target" -- \
    -max_total_time="$seconds" \
    -max_len=8300 \
    -timeout=10 \
    -dict="$here/$target.dict" \
    -print_final_stats=1
