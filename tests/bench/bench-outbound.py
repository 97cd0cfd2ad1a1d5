#!/usr/bin/python3
"""Outbound MWI subscriptions beside outbound registrations (`make bench`).

    bench-outbound.py MODULE_SO

In the sandbox Asterisk (reset, started with MODULE_SO; stopped at the end), against sipp on
127.0.0.1 over TCP (tests/e2e/sipp/vm_server_fail_then_ok.xml granting EXPIRATION s, and
tests/bench/sipp/registrar.xml granting the same), one after the other in the same run:
  - N res_pjsip_outbound_registration objects (`type = registration`), then
  - N res_mwi_hub objects (`type = mwi-subscription`),
each set with expiration = EXPIRATION and max_random_initial_delay = DELAY, applied by
reloading its module. For each: the time until all are active (registrations: `pjsip show
registrations` Registered; subscriptions: `mwi show subscriptions` Active), the largest number
of first requests the server received in any one second (they must be spread, not a burst),
VmRSS per object (after activation and a settle, minus before, / N), the live heap per object
(glibc's in-use bytes, malloc_stats through gdb, same points: RSS also counts what the allocator
keeps around and swings with which set runs first), and Asterisk's CPU per
refresh (utime+stime of the asterisk process over WINDOW s of steady refreshing / refresh
requests the server received meanwhile), the most refreshes in one second of that window
(batched refreshes must stay small bursts), and, for scale, the idle Asterisk's CPU per second
(over WINDOW s after both sets are gone; it varies by a few ms per second, as much as all the
refreshes cost, so the CPU figures differ by noise as much as by work). Ratios subscription/registration are
printed; the targets (CPU per refresh and RSS per object no higher than the registration's,
all active within DELAY + 5 s) are reported, never enforced (shared machines). Exit status 1
only when something functionally fails (objects not all active within DELAY + 60 s).

Environment: SANDBOX, N (1000), EXPIRATION (60), DELAY (10), WINDOW (120), ORDER
("registration,mwi-subscription": which set goes first; the second may reuse memory the
first one freed).
"""
import collections
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from conftest import Asterisk, SANDBOX  # noqa: E402
from vm_server import VoicemailServer  # noqa: E402

N = int(os.environ.get("N", "1000"))
EXPIRATION = int(os.environ.get("EXPIRATION", "60"))
DELAY = int(os.environ.get("DELAY", "10"))
WINDOW = int(os.environ.get("WINDOW", "120"))
ORDER = os.environ.get("ORDER", "registration,mwi-subscription").split(",")
CONF = SANDBOX / "etc/asterisk/pjsip_mwi_subscriptions.conf"
CLK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK


def rss_kib(pid):
    m = re.search(r"^VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(m.group(1))


def heap_in_use(pid):
    """glibc's bytes in use (every arena and mmapped chunk) in the Asterisk process: gdb in the
    sandbox calls malloc_stats(), which writes to Asterisk's stderr (the console log)."""
    log = SANDBOX / "var/log/asterisk/console.out"
    start = log.stat().st_size
    subprocess.run(["chroot", str(SANDBOX), "gdb", "-p", str(pid), "-batch", "-ex", "call (void)malloc_stats()"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=120)
    deadline = time.monotonic() + 10
    while True:
        with log.open("rb") as f:
            f.seek(start)
            text = f.read().decode(errors="replace")
        total = re.search(r"Total \(incl\. mmap\):\s*system bytes\s*=\s*\d+\s*in use bytes\s*=\s*(\d+)", text)
        if total:
            return int(total.group(1))
        if time.monotonic() > deadline:
            raise RuntimeError("malloc_stats printed nothing to the console log")
        time.sleep(0.1)


def ensure_gdb():
    if subprocess.run(["chroot", str(SANDBOX), "sh", "-c", "command -v gdb"], stdout=subprocess.DEVNULL).returncode:
        subprocess.run(["chroot", str(SANDBOX), "env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install", "-y",
                        "-qq", "--no-install-recommends", "gdb"], stdout=subprocess.DEVNULL, check=True)


def registrations(port):
    return "".join(
        f"[bench-reg-{i}]\ntype = registration\nserver_uri = sip:127.0.0.1:{port}\\;transport=tcp\n"
        f"client_uri = sip:reg{i}@127.0.0.1\ncontact_user = reg{i}\nexpiration = {EXPIRATION}\n"
        f"max_random_initial_delay = {DELAY}\nretry_interval = 60\n\n"
        for i in range(N))


def subscriptions(port):
    return "".join(
        f"[bench-sub-{i}]\ntype = mwi-subscription\nserver_uri = sip:{7000 + i}@127.0.0.1:{port}\\;transport=tcp\n"
        f"expiration = {EXPIRATION}\nmax_random_initial_delay = {DELAY}\n\n"
        for i in range(N))


def active_count(ast, kind):
    if kind == "registration":
        return len(re.findall(r"^\s*bench-reg-\d+/\S+\s+\S+\s+Registered", ast.cli("pjsip show registrations"), re.M))
    return len(re.findall(r"^bench-sub-\d+\s.*\sActive\s", ast.cli("mwi show subscriptions"), re.M))


def measure(ast, kind, server, text, reload_cmd):
    pid = ast.pid()
    time.sleep(3)
    rss_before, heap_before = rss_kib(pid), heap_in_use(pid)
    CONF.write_text(text)
    started = time.monotonic()
    out = ast.cli(reload_cmd)
    deadline = started + DELAY + 60
    while active_count(ast, kind) < N:
        if time.monotonic() > deadline:
            print(f"bench: only {active_count(ast, kind)} of {N} {kind}s active after {DELAY + 60} s ({out.strip()})")
            return None
        time.sleep(0.2)
    all_active = time.monotonic() - started
    firsts, seen = [], set()
    for r in server.requests():
        if r.call_id not in seen:
            seen.add(r.call_id)
            firsts.append(r.t)
    burst = most_in_one_second(firsts)
    time.sleep(5)
    rss_after, heap_after = rss_kib(pid), heap_in_use(pid)
    # Steady state: every object refreshes about every EXPIRATION - 10 s.
    before_requests, before_cpu = len(server.requests()), cpu_s(pid)
    time.sleep(WINDOW)
    window = server.requests()[before_requests:]
    refreshes = len(window)
    cpu = cpu_s(pid) - before_cpu
    return {"active_s": all_active, "burst": burst, "rss_kib": (rss_after - rss_before) / N,
            "heap_kib": (heap_after - heap_before) / 1024 / N,
            "refreshes": refreshes, "cpu_us": cpu / max(refreshes, 1) * 1e6,
            "refresh_burst": most_in_one_second([r.t for r in window])}


def most_in_one_second(times):
    return max(collections.Counter(int(t) for t in times).values(), default=0)


def idle_cpu_s(ast):
    """Asterisk's own CPU over WINDOW s with neither set configured."""
    pid = ast.pid()
    time.sleep(10)
    before = cpu_s(pid)
    time.sleep(WINDOW)
    return cpu_s(pid) - before


# Each set: its sipp scenario, port and keys, its pjsip.conf objects, and the module whose
# reload applies them.
SETS = {
    "registration": (str(ROOT / "tests/bench/sipp/registrar.xml"), 15200, {"expires": EXPIRATION},
                     registrations, "res_pjsip_outbound_registration.so"),
    "mwi-subscription": ("vm_server_fail_then_ok.xml", 15201, {"fails": 0, "expires": EXPIRATION},
                         subscriptions, "res_mwi_hub.so"),
}


def main():
    ensure_gdb()
    ast = Asterisk()
    ast.control("reset-state")
    ast.control("configure")
    ast.install(sys.argv[1])
    ast.control("start")
    failed = False
    results = {}
    try:
        for kind in ORDER:
            scenario, port, keys, objects, module = SETS[kind]
            server = VoicemailServer()
            server.start(scenario, port=port, transport="t1", keys=keys, calls=None)
            results[kind] = measure(ast, kind, server, objects(port), f"module reload {module}")
            CONF.write_text("")
            ast.cli(f"module reload {module}")
            time.sleep(5)  # the unregisters and unsubscribes answered
            server.stop()
        # Idle last: right after boot Asterisk is still busy for a minute or two.
        idle = idle_cpu_s(ast)
    finally:
        ast.control("stop")
    print(f"\nOutbound MWI subscriptions beside outbound registrations: {N} each, expiration {EXPIRATION} s, "
          f"max_random_initial_delay {DELAY} s, TCP, steady window {WINDOW} s")
    print(f"idle Asterisk: {idle / WINDOW * 1000:.1f} ms CPU per second")
    print(f"{'':18} {'all active':>11} {'max new/s':>10} {'RSS/object':>11} {'heap/object':>12} {'refreshes':>10} {'max/s':>6} "
          f"{'CPU/refresh':>12}")
    for kind in ORDER:
        r = results.get(kind)
        if r is None:
            failed = True
            print(f"{kind:18} did not all become active")
            continue
        print(f"{kind:18} {r['active_s']:9.1f} s {r['burst']:10d} {r['rss_kib']:7.1f} KiB {r['heap_kib']:8.1f} KiB {r['refreshes']:10d} "
              f"{r['refresh_burst']:6d} {r['cpu_us']:9.0f} us")
    reg, sub = results.get("registration"), results.get("mwi-subscription")
    if reg and sub:
        print(f"{'ratio sub/reg':18} {'':11} {'':10} {sub['rss_kib'] / max(reg['rss_kib'], 0.001):10.2f}x "
              f"{sub['heap_kib'] / max(reg['heap_kib'], 0.001):11.2f}x {'':10} {'':6} {sub['cpu_us'] / max(reg['cpu_us'], 0.001):11.2f}x")
        print(f"targets: CPU/refresh <= registration's: {'met' if sub['cpu_us'] <= reg['cpu_us'] else 'MISSED'}; "
              f"RSS/object <= registration's: {'met' if sub['rss_kib'] <= reg['rss_kib'] else 'MISSED'} "
              f"(live heap: {'met' if sub['heap_kib'] <= reg['heap_kib'] else 'MISSED'}); "
              f"all active within {DELAY + 5} s: {'met' if sub['active_s'] <= DELAY + 5 else 'MISSED'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
