#!/usr/bin/env bash
# Cost per MWI publish: res_mwi_hub's Rust layer against a plain C module (`make bench`).
#
#   run-bench.sh TEST_HOOKS_SO BASELINE_SO
#
# TEST_HOOKS_SO is res_mwi_hub built with the cargo feature `test-hooks` (it has
# `mwi test publish-loop`); BASELINE_SO is tests/bench/baseline/res_mwi_hub_bench_baseline.c
# built as a module (it has `mwi baseline publish-loop`). Both loops publish the same states
# (mailbox bench<i % MAILBOXES>@bench, new i%100, old i%7, urgent i%3) in the CLI thread.
#
# In the sandbox Asterisk (restarted for the run, stopped at the end) it runs, per loop size,
# ROUNDS interleaved rounds of both loops (the order alternates between rounds), takes the
# median wall and CPU time per publish of each and prints them with the ratio rust/baseline.
# The ratio is reported, not enforced (machines are noisy); the run fails if a module does not
# load or a loop reports a failed publish.
#
# Environment: SANDBOX (default /var/cache/res_mwi_hub/sandbox), SIZES (default
# "10000 100000"), MAILBOXES (1000), ROUNDS (5), WARMUP (10000 publishes per loop).
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 TEST_HOOKS_SO BASELINE_SO" >&2
    exit 2
fi
rust_so=$1
base_so=$2
for so in "$rust_so" "$base_so"; do
    [ -f "$so" ] || { echo "bench: no such module image: $so" >&2; exit 2; }
done

export SANDBOX=${SANDBOX:-/var/cache/res_mwi_hub/sandbox}
SIZES=${SIZES:-"10000 100000"}
MAILBOXES=${MAILBOXES:-1000}
ROUNDS=${ROUNDS:-5}
WARMUP=${WARMUP:-10000}

here=$(cd "$(dirname "$0")" && pwd)
ast="$here/../sandbox/asterisk.sh"
moddir=/usr/lib/x86_64-linux-gnu/asterisk/modules
base_name=res_mwi_hub_bench_baseline.so

die() { echo "bench: $*" >&2; exit 1; }

cleanup() {
    "$ast" stop >/dev/null 2>&1 || true
    # The sandbox autoloads every module it finds: do not leave the baseline behind.
    rm -f "$SANDBOX$moddir/$base_name" "$SANDBOX$moddir/.$base_name.tmp"
}
trap cleanup EXIT

# Fresh Asterisk with an empty store; the shipped res_mwi_hub it loads at boot is replaced by the
# test build (unload, install, load); the baseline is installed only after boot so autoload
# misses it.
"$ast" reset-state
"$ast" configure
rm -f "$SANDBOX$moddir/$base_name"
"$ast" start >/dev/null
"$ast" cli "module unload res_mwi_hub.so" >/dev/null 2>&1 || true
"$ast" install "$rust_so" res_mwi_hub.so
"$ast" install "$base_so" "$base_name"

load() {
    local out
    out=$("$ast" cli "module load $1" 2>&1) || true
    grep -q "^Loaded $1" <<<"$out" || die "module load $1 failed: $out"
}
load res_mwi_hub.so
load "$base_name"

# loop rust|baseline COUNT: runs one loop, prints "wall_ns cpu_ns"; fails on any failed publish.
loop() {
    local which=$1 count=$2 cmd out
    case $which in
    rust) cmd="mwi test publish-loop $count $MAILBOXES" ;;
    baseline) cmd="mwi baseline publish-loop $count $MAILBOXES" ;;
    esac
    out=$("$ast" cli "$cmd" 2>&1) || true
    if [[ $out =~ published\ ([0-9]+)\ failed\ ([0-9]+)\ wall_ns\ ([0-9]+)\ cpu_ns\ ([0-9]+) ]]; then
        local published=${BASH_REMATCH[1]} failed=${BASH_REMATCH[2]}
        [ "$published" = "$count" ] && [ "$failed" = 0 ] ||
            die "$which loop of $count: published $published, failed $failed"
        echo "${BASH_REMATCH[3]} ${BASH_REMATCH[4]}"
    elif ! "$ast" status >/dev/null 2>&1; then
        die "$which loop ($cmd): Asterisk is no longer running (crashed, or stopped by someone else); see $SANDBOX/var/log/asterisk/console.out"
    else
        die "$which loop ($cmd) gave no result: $out"
    fi
}

# median of the numbers on stdin
median() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) exit 1; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Warm-up: fills the MWI cache for every mailbox, faults in both code paths.
loop rust "$WARMUP" >/dev/null
loop baseline "$WARMUP" >/dev/null

declare -A med
for n in $SIZES; do
    rust_wall=() rust_cpu=() base_wall=() base_cpu=()
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then order="rust baseline"; else order="baseline rust"; fi
        for which in $order; do
            res=$(loop "$which" "$n")
            read -r wall cpu <<<"$res"
            per_wall=$(awk -v t="$wall" -v n="$n" 'BEGIN { printf "%.3f", t / n }')
            per_cpu=$(awk -v t="$cpu" -v n="$n" 'BEGIN { printf "%.3f", t / n }')
            printf '%7s round %d %-8s wall %8s ns/pub  cpu %8s ns/pub\n' "$n" "$r" "$which" "$per_wall" "$per_cpu" >&2
            if [ "$which" = rust ]; then rust_wall+=("$per_wall") rust_cpu+=("$per_cpu")
            else base_wall+=("$per_wall") base_cpu+=("$per_cpu"); fi
        done
    done
    med[$n,rust,wall]=$(printf '%s\n' "${rust_wall[@]}" | median)
    med[$n,rust,cpu]=$(printf '%s\n' "${rust_cpu[@]}" | median)
    med[$n,base,wall]=$(printf '%s\n' "${base_wall[@]}" | median)
    med[$n,base,cpu]=$(printf '%s\n' "${base_cpu[@]}" | median)
done

echo
echo "MWI publish cost: median of $ROUNDS rounds, $MAILBOXES mailboxes, one CLI thread"
printf '%-9s %-9s %14s %14s %14s %14s\n' publishes module "publishes/s" "wall ns/pub" "cpu ns/pub" "publishes/cpu-s"
for n in $SIZES; do
    for m in rust base; do
        label=$m; [ "$m" = base ] && label=baseline
        w=${med[$n,$m,wall]} c=${med[$n,$m,cpu]}
        awk -v n="$n" -v m="$label" -v w="$w" -v c="$c" 'BEGIN {
            printf "%-9s %-9s %14.0f %14.1f %14.1f %14.0f\n", n, m, 1e9 / w, w, c, 1e9 / c }'
    done
    awk -v n="$n" -v rw="${med[$n,rust,wall]}" -v bw="${med[$n,base,wall]}" \
        -v rc="${med[$n,rust,cpu]}" -v bc="${med[$n,base,cpu]}" 'BEGIN {
        printf "%-9s %-9s %14s %14.2f %14.2f\n", n, "ratio", "", rw / bw, rc / bc }'
done

# The cost ratio: CPU per publish of the CLI thread (the work each layer does; wall time adds
# whatever else the machine was doing) at the largest loop size.
last=${SIZES##* }
echo
awk -v rc="${med[$last,rust,cpu]}" -v bc="${med[$last,base,cpu]}" -v n="$last" 'BEGIN {
    printf "rust/baseline cost ratio: %.2f (target <= 1.10)\n", rc / bc }'
