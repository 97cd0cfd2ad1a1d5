#!/usr/bin/env bash
# The pjproject headers Debian builds its Asterisk with: the Xpjproject component of Debian's
# asterisk source package for the installed version, plus the config_site.h that Asterisk
# bundles (third-party/pjproject/patches). Downloaded once into the sandbox, for reading only.
# Usage: pjproject-headers.sh SANDBOX_DIR   (prints the directory holding the include dirs)
set -euo pipefail
sandbox=${1:?sandbox dir}
dest="$sandbox/usr/src/res_mwi_hub-pjproject"
if [ ! -f "$dest/.complete" ]; then
    version=$(chroot "$sandbox" dpkg-query -W -f='${Version}' asterisk)
    mirror=$(awk '/^deb /{print $2; exit}' "$sandbox/etc/apt/sources.list")
    echo "deb-src $mirror sid main" > "$sandbox/etc/apt/sources.list.d/res_mwi_hub-src.list"
    chroot "$sandbox" apt-get -qq update >/dev/null
    rm -rf "$dest" "$dest.download"; mkdir -p "$dest.download" "$dest/pj"
    chroot "$sandbox" sh -c "cd /usr/src/res_mwi_hub-pjproject.download && \
        apt-get -qq source --download-only asterisk=$version" >/dev/null
    tar -xJf "$dest.download"/*.orig-Xpjproject.tar.xz -C "$dest" --strip-components=1 \
        --wildcards '*/pjlib/include/*' '*/pjlib-util/include/*' '*/pjsip/include/*' \
        '*/pjmedia/include/*' '*/pjnath/include/*'
    tar -xJf "$dest.download"/*.orig.tar.xz -C "$dest/pj" --strip-components=4 \
        --wildcards '*/third-party/pjproject/patches/config_site.h' \
        '*/third-party/pjproject/patches/asterisk_malloc_debug.h'
    rm -rf "$dest.download"
    touch "$dest/.complete"
fi
echo "$dest"
