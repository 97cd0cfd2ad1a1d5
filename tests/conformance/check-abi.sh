#!/usr/bin/env bash
# Conformance of asterisk-headers/ with the real Asterisk headers (asterisk-dev in the sandbox)
# and the pjproject headers Debian builds Asterisk with (pjproject-headers.sh).
# Fails on any prototype, global, size, alignment, field offset or constant that differs.
#   check-abi.sh BINDINGS.rs SANDBOX_DIR
set -euo pipefail
bindings=${1:?bindings.rs}; sandbox=${2:?sandbox dir}
here=$(cd "$(dirname "$0")" && pwd); root=$(cd "$here/../.." && pwd)
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
inc="$sandbox/usr/include"
[ -f "$inc/asterisk/mwi.h" ] || { echo "no Asterisk headers in $inc (asterisk-dev missing)"; exit 1; }
version=$(cat "$sandbox/.asterisk-version" 2>/dev/null || echo unknown)
pj=$("$here/pjproject-headers.sh" "$sandbox")

# 1. Prototypes and globals: ours re-declared after the real ones; gcc rejects any conflict.
{
    echo '#include "real_headers.h"'
    echo '#define MWIHUB_ABI_CHECK 1'
    echo '#include "asterisk_api.h"'
} > "$work/prototypes.c"
# 2. Layouts and constants, computed by bindgen from ours, asserted against the real ones.
{
    echo '#include "real_headers.h"'
    python3 "$here/gen_layout_checks.py" "$bindings"
} > "$work/layouts.c"

cflags=(-std=gnu11 -Werror -Wall -Wno-unused -fsyntax-only -D_GNU_SOURCE
        -DAST_MODULE=\"res_mwi_hub\" -DAST_MODULE_SELF_SYM=__internal_res_mwi_hub_self
        -I"$here" -I"$root/asterisk-headers" -idirafter "$inc"
        -I"$pj" -I"$pj/pjlib/include" -I"$pj/pjlib-util/include" -I"$pj/pjsip/include"
        -I"$pj/pjmedia/include" -I"$pj/pjnath/include"
        # pjproject without its configure step warns that it guesses limits.h; layouts are unaffected.
        -Wno-cpp)
gcc "${cflags[@]}" "$work/prototypes.c"
gcc "${cflags[@]}" "$work/layouts.c"
protos=$(grep -cE '^[a-z].*\(' "$root"/asterisk-headers/*.h | awk -F: '{s+=$2} END {print s}')
checks=$(grep -c '_Static_assert' "$work/layouts.c")
echo "ABI conformance with Asterisk $version: $protos declarations and $checks layout/constant checks agree"
