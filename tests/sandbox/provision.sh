#!/usr/bin/env bash
# Provision a Debian sid chroot holding a real Asterisk 22 (asterisk, asterisk-modules,
# asterisk-dev). Cached outside the work tree; rebuilt only when missing or incomplete.
# Usage: provision.sh SANDBOX_DIR
set -euo pipefail
dir=${1:?usage: provision.sh SANDBOX_DIR}
stamp="$dir/.res_mwi_hub-provisioned"
# For make memcheck: clang's AddressSanitizer runtime of rustc's LLVM major (22: rustc -vV),
# preloaded into Asterisk, and llvm-symbolizer for its reports. Added to sandboxes provisioned
# before memcheck existed too.
asan_runtime=/usr/lib/llvm-22/lib/clang/22/lib/linux/libclang_rt.asan-x86_64.so
asan_symbolizer=/usr/lib/llvm-22/bin/llvm-symbolizer
install_memcheck_tools() {
    local root=$1
    [ -f "$root$asan_runtime" ] && [ -x "$root$asan_symbolizer" ] && return 0
    echo "installing the AddressSanitizer runtime and llvm-symbolizer in $root"
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get update >>"$root.memcheck.log" 2>&1
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libclang-rt-22-dev llvm-22 >>"$root.memcheck.log" 2>&1 || { tail -n 30 "$root.memcheck.log"; exit 1; }
    [ -f "$root$asan_runtime" ] && [ -x "$root$asan_symbolizer" ] \
        || { echo "no $asan_runtime or $asan_symbolizer after installing them"; exit 1; }
}
if [ -f "$stamp" ] && [ -x "$dir/usr/sbin/asterisk" ]; then
    install_memcheck_tools "$dir"
    exit 0
fi
mirror=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
echo "provisioning Asterisk sandbox in $dir from $mirror (sid)"
rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
tmp="$dir.partial"
rm -rf "$tmp"
debootstrap --variant=minbase sid "$tmp" "$mirror" >"$tmp.log" 2>&1 || { tail -n 30 "$tmp.log"; exit 1; }
cp /etc/resolv.conf "$tmp/etc/resolv.conf" 2>/dev/null || true
# The sid Release file is past its Valid-Until date on this mirror.
echo 'Acquire::Check-Valid-Until "false";' > "$tmp/etc/apt/apt.conf.d/99no-valid-until"
# Services must not start inside the chroot during install.
printf '#!/bin/sh\nexit 101\n' > "$tmp/usr/sbin/policy-rc.d"; chmod +x "$tmp/usr/sbin/policy-rc.d"
chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get update >>"$tmp.log" 2>&1
chroot "$tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    asterisk asterisk-modules asterisk-dev sqlite3 procps >>"$tmp.log" 2>&1 \
    || { tail -n 30 "$tmp.log"; exit 1; }
install_memcheck_tools "$tmp"
# Keep pristine copies of the packaged configuration: tests rewrite /etc/asterisk.
cp -a "$tmp/etc/asterisk" "$tmp/etc/asterisk.dist"
chroot "$tmp" dpkg-query -W asterisk > "$tmp/.asterisk-version"
mv "$tmp" "$dir"
touch "$stamp"
echo "sandbox ready: $(cat "$dir/.asterisk-version")"
