#!/usr/bin/env bash
# res_mwi_external and res_mwi_external_ami, the C modules res_mwi_hub replaces, built for the
# side-by-side benchmark only (`make bench`; never shipped, never committed). Debian builds
# neither, so their sources come from Debian's asterisk source package for the sandbox's
# installed version (downloaded once inside the sandbox, only the two .c files kept under
# SANDBOX/usr/src/res_mwi_hub-mwi-external) and are compiled against the sandbox's asterisk-dev.
# Usage: build-res_mwi_external.sh SANDBOX_DIR OUT_DIR
#   writes OUT_DIR/res_mwi_external.so and OUT_DIR/res_mwi_external_ami.so
set -euo pipefail
sandbox=${1:?sandbox dir}
out=${2:?output dir}
src="$sandbox/usr/src/res_mwi_hub-mwi-external"
version=$(chroot "$sandbox" dpkg-query -W -f='${Version}' asterisk)
if [ "$(cat "$src/.complete" 2>/dev/null)" != "$version" ]; then
    mirror=$(awk '/^deb /{print $2; exit}' "$sandbox/etc/apt/sources.list")
    echo "deb-src $mirror sid main" > "$sandbox/etc/apt/sources.list.d/res_mwi_hub-src.list"
    chroot "$sandbox" apt-get -qq -o Acquire::Check-Valid-Until=false update >/dev/null
    rm -rf "$src" "$src.download"; mkdir -p "$src.download" "$src"
    # apt fetches every tarball of the source package; two files of the main one are kept.
    chroot "$sandbox" sh -c "cd /usr/src/res_mwi_hub-mwi-external.download && \
        apt-get -qq source --download-only --only-source asterisk=$version" >/dev/null
    tar -xJf "$src.download"/asterisk_*.orig.tar.xz -C "$src" --strip-components=2 \
        --wildcards '*/res/res_mwi_external.c' '*/res/res_mwi_external_ami.c'
    rm -rf "$src.download"
    echo "$version" > "$src/.complete"
fi
mkdir -p "$out"
for name in res_mwi_external res_mwi_external_ami; do
    # The asterisk-dev headers (asterisk/res_mwi_external.h included) after the host's C library
    # headers (the sandbox's libc headers do not match the host gcc); AST_MODULE and
    # AST_MODULE_SELF_SYM are what Asterisk's own build passes.
    gcc -std=gnu11 -shared -fPIC -O2 -D_GNU_SOURCE -DAST_MODULE="\"$name\"" \
        -DAST_MODULE_SELF_SYM=__internal_${name}_self -idirafter "$sandbox/usr/include" \
        -o "$out/.$name.so.tmp" "$src/$name.c"
    mv -f "$out/.$name.so.tmp" "$out/$name.so"
done
