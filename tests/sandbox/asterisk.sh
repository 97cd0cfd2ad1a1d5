#!/usr/bin/env bash
# Control the sandbox Asterisk (a Debian sid chroot with Asterisk 22).
#   asterisk.sh configure          write the test configuration (and docs) into the sandbox
#   asterisk.sh docs               install res_mwi_hub-en_US.xml where Asterisk reads third-party docs
#   asterisk.sh install SO [NAME]  install a module image atomically (copy to a temp name, mv)
#   asterisk.sh reset-state        stop Asterisk; forget stored MWI state (our store, astdb records)
#   asterisk.sh start | stop | restart | status | pid
#                                  (start: env ASAN_PRELOAD=RUNTIME ASAN_OPTIONS=... for an
#                                  AddressSanitizer run, see make memcheck)
#   asterisk.sh exits              every Asterisk start and exit so far, one per line:
#                                  "PID started" or "PID STATUS" (STATUS 128+N: killed by
#                                  signal N, as the shell reports it); pids get reused
#   asterisk.sh wait               wait until FullyBooted
#   asterisk.sh cli COMMAND...     run a CLI command (asterisk -rx), print its output
# INSTANCE=b selects the second Asterisk of the two-server tests: same chroot, modules and
# data, its own configuration (tests/sandbox/etc-b over etc), ports, EID and state, under
# /etc/asterisk-b, /var/lib/asterisk-b, /var/log/asterisk-b, /var/run/asterisk-b. Unset: the
# usual one.
set -euo pipefail
SANDBOX=${SANDBOX:-/var/cache/res_mwi_hub/sandbox}
here=$(cd "$(dirname "$0")" && pwd)
moddir=/usr/lib/x86_64-linux-gnu/asterisk/modules
case "${INSTANCE:-}" in
"") suffix=""; own_confs=(); asterisk=(/usr/sbin/asterisk) ;;
b) suffix="-b"; own_confs=("$here"/etc-b/*.conf)
   asterisk=(/usr/sbin/asterisk -C /etc/asterisk-b/asterisk.conf) ;;
*) echo "unknown INSTANCE ${INSTANCE}" >&2; exit 2 ;;
esac
etcdir=/etc/asterisk$suffix
libdir=/var/lib/asterisk$suffix
rundir=/var/run/asterisk$suffix
logdir=/var/log/asterisk$suffix
log="$SANDBOX$logdir/console.out"
exits="$SANDBOX$logdir/exits"
# Third-party XML docs, read at Asterisk's start: Debian's Asterisk (an xmldoc build) does not
# register pjsip.conf's mwi-subscription type without ours.
docdir=/usr/share/asterisk/documentation/thirdparty

ensure_mounts() {
    mountpoint -q "$SANDBOX/proc" || mount -t proc proc "$SANDBOX/proc"
}

# Paths inside the chroot go through chroot itself: /var/run there is an absolute symlink.
pid_of() {
    local p; p=$(chroot "$SANDBOX" cat "$rundir/asterisk.pid" 2>/dev/null) || return 1
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ "$(readlink "/proc/$p/root")" = "$(readlink -f "$SANDBOX")" ] || return 1
    echo "$p"
}

cli() {
    chroot "$SANDBOX" "${asterisk[@]}" -rx "$*"
}

case "${1:-}" in
configure)
    rm -rf "$SANDBOX$etcdir"
    cp -a "$SANDBOX/etc/asterisk.dist" "$SANDBOX$etcdir"
    cp "$here"/etc/*.conf "$SANDBOX$etcdir/"
    # Instance b's own files replace the shared test configuration's.
    [ ${#own_confs[@]} -eq 0 ] || cp "${own_confs[@]}" "$SANDBOX$etcdir/"
    # A self-signed certificate for the TLS transport (made once per sandbox).
    keys="$SANDBOX/etc/asterisk.keys"
    if [ ! -f "$keys/res_mwi_hub-test.crt" ]; then
        mkdir -p "$keys"
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1 \
            -keyout "$keys/res_mwi_hub-test.key" -out "$keys/res_mwi_hub-test.crt" 2>/dev/null
    fi
    mkdir -p "$SANDBOX$etcdir/keys"
    cp "$keys"/res_mwi_hub-test.* "$SANDBOX$etcdir/keys/"
    "$0" docs
    ;;
docs)
    mkdir -p "$SANDBOX$docdir"
    cp "$here/../../res_mwi_hub-en_US.xml" "$SANDBOX$docdir/.res_mwi_hub-en_US.xml.tmp"
    mv -f "$SANDBOX$docdir/.res_mwi_hub-en_US.xml.tmp" "$SANDBOX$docdir/res_mwi_hub-en_US.xml"
    ;;
reset-state)
    # Forget every MWI state a previous run left: our store and res_mwi_external's records.
    "$0" stop
    rm -f "$SANDBOX$libdir"/res_mwi_hub.sqlite3*
    chroot "$SANDBOX" sqlite3 "$libdir/astdb.sqlite3" \
        "DELETE FROM astdb WHERE key LIKE '/mwi_external/%'" 2>/dev/null || true
    ;;
install)
    so=${2:?install needs a .so}; name=${3:-res_mwi_hub.so}
    cp "$so" "$SANDBOX$moddir/.$name.tmp"
    mv -f "$SANDBOX$moddir/.$name.tmp" "$SANDBOX$moddir/$name"
    ;;
start)
    ensure_mounts
    if pid_of >/dev/null; then echo "already running"; exit 0; fi
    chroot "$SANDBOX" sh -c 'mkdir -p "$@"; rm -f "$1/asterisk.ctl" "$1/asterisk.pid"' \
        sh "$rundir" "$logdir" "$libdir" "/var/spool/asterisk$suffix" "/var/cache/asterisk$suffix"
    : > "$log"
    # -f: foreground without console; detached into its own session so the caller can exit.
    # A shell waits for it and records when it started and how it ended (chroot execs
    # Asterisk: $! is its pid). The start line tells a reused pid's exits from this one's.
    # -g: a crash leaves a core file in its working directory, the sandbox root.
    # Opt-in for make memcheck: ASAN_PRELOAD (a path inside the sandbox) preloads that
    # AddressSanitizer runtime, with ASAN_OPTIONS passed on, for a module built with
    # -Zsanitizer=address (a cdylib does not carry the runtime). Unset: Asterisk as always.
    run=("${asterisk[@]}")
    if [ -n "${ASAN_PRELOAD:-}" ]; then
        run=(/usr/bin/env "LD_PRELOAD=$ASAN_PRELOAD" "ASAN_OPTIONS=${ASAN_OPTIONS:-}" "${asterisk[@]}")
    fi
    setsid sh -c 'root=$1 exits=$2; shift 2; chroot "$root" "$@" -f -vvv -g </dev/null & p=$!; echo "$p started" >>"$exits"; wait $p; echo "$p $?" >>"$exits"' \
        sh "$SANDBOX" "$exits" "${run[@]}" >"$log" 2>&1 &
    "$0" wait
    ;;
wait)
    for _ in $(seq 1 300); do
        if out=$(cli "core waitfullybooted" 2>/dev/null) && grep -q "fully booted" <<<"$out"; then
            exit 0
        fi
        sleep 0.1
    done
    echo "Asterisk did not boot; console output:" >&2; tail -n 40 "$log" >&2; exit 1
    ;;
stop)
    p=$(pid_of) || exit 0
    cli "core stop now" >/dev/null 2>&1 || true
    # Under ASan the leak check at exit (and symbolizing its reports) takes a while: let it end.
    tenths=100; [ -z "${ASAN_PRELOAD:-}" ] || tenths=1200
    for _ in $(seq 1 "$tenths"); do kill -0 "$p" 2>/dev/null || exit 0; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
    ;;
restart) "$0" stop; "$0" start ;;
status) if p=$(pid_of); then echo "running (pid $p)"; else echo "stopped"; exit 1; fi ;;
pid) pid_of ;;
exits) cat "$exits" 2>/dev/null || true ;;
cli) shift; cli "$@" ;;
*) sed -n '2,18p' "$0"; exit 2 ;;
esac
