#!/usr/bin/python3
"""Incoming-NOTIFY benchmark (`make bench`): res_mwi_hub's handler beside Asterisk's built-in
one (res_pjsip_pubsub, with res_mwi_hub unloaded), on the sandbox Asterisk, in the same run.

    bench-notify.py MODULE_SO

For each rate in RATES (NOTIFYs/s; default "100 1000 2000 4000 6000") and each handler, sipp
sends DURATION (default 5) seconds of unsolicited NOTIFYs from endpoint vmfixed
(incoming_mwi_mailbox=3000@default) with Voice-Message k/2 for the k-th NOTIFY, while a sipp
phone registered as phone3000 (mailboxes=3000@default) answers the NOTIFYs Asterisk sends it.
Printed per rate and handler:
  - failed: NOTIFYs sipp saw no 200 for;
  - CPU us/NOTIFY: utime+stime of the asterisk process over the run (until idle) / NOTIFYs;
  - latency p50/p99: from sipp sending NOTIFY k to the phone receiving its NOTIFY with k/2
    (sipp's message-trace timestamps, same clock), over the k the phone received;
  - final: whether the published state (ours: `mwi show state`) and the phone's last NOTIFY
    carry the last count sent (the built-in handler lets older NOTIFYs overwrite newer ones);
and our figures as ratios to the built-in handler's. Nothing is asserted on timing; the exit
status is 1 only if a run is functionally wrong for res_mwi_hub (failures, or a stale final
state).
"""
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from conftest import SIPP_DIR, Asterisk, mwi_state  # noqa: E402

RATES = [int(r) for r in os.environ.get("RATES", "100 1000 2000 4000 6000").split()]
DURATION = float(os.environ.get("DURATION", "5"))
WORK = Path("/tmp/res_mwi_hub_bench_notify")
STAMP = re.compile(r"^-+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n(UDP message (sent|received)[^\n]*)\n\n(.*?)(?=^-{20,} |\Z)",
                   re.M | re.S)


def cpu_ticks(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def wait_idle(pid, quiet=0.5, timeout=30):
    """Waits until the process used no CPU for `quiet` seconds."""
    deadline = time.monotonic() + timeout
    last = cpu_ticks(pid)
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = cpu_ticks(pid)
        if now == last:
            return
        last = now


def notify_times(log, direction):
    """{k: first timestamp} of NOTIFYs (sent or received) carrying Voice-Message: k/2."""
    times = {}
    text = log.read_text(errors="replace") if log.exists() else ""
    for m in STAMP.finditer(text):
        stamp, _, way, msg = m.groups()
        if way != direction or not msg.startswith("NOTIFY "):
            continue
        v = re.search(r"Voice-Message: (\d+)/2", msg)
        if v:
            k = int(v.group(1))
            times.setdefault(k, datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").timestamp())
    return times


def start_phone():
    subprocess.run(["pkill", "-9", "-f", "phone_notify_uas.xml -i 127.0.0.3 -p 5068"], check=False)
    res = subprocess.run(["sipp", "127.0.0.1:5060", "-sf", str(SIPP_DIR / "phone_register.xml"), "-i", "127.0.0.3",
                          "-p", "5068", "-s", "phone3000", "-m", "1", "-nostdin", "-timeout", "10s"],
                         capture_output=True, text=True, timeout=20)
    if res.returncode != 0:
        sys.exit(f"bench: phone3000 did not register: {res.stdout[-1000:]}")
    log = WORK / "phone.log"
    log.unlink(missing_ok=True)
    uas = subprocess.Popen(["sipp", "-sf", str(SIPP_DIR / "phone_notify_uas.xml"), "-i", "127.0.0.3", "-p", "5068",
                            "-m", "10000000", "-nostdin", "-trace_msg", "-message_file", str(log)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return uas, log


def run(ast, rate, ours):
    """One run at `rate` (`ours`: res_mwi_hub loaded); returns the figures."""
    calls = int(rate * DURATION)
    pid = ast.pid()
    if ours:
        ast.cli("mwi delete mailbox 3000@default")
    uas, phone_log = start_phone()
    sender_log = WORK / "sender.log"
    sender_log.unlink(missing_ok=True)
    wait_idle(pid)
    before = cpu_ticks(pid)
    res = subprocess.run(["sipp", "127.0.0.1:5060", "-sf", str(SIPP_DIR / "vm_notify.xml"), "-s", "3000",
                          "-i", "127.0.0.4", "-p", "0", "-m", str(calls), "-r", str(rate), "-nostdin",
                          "-timeout", f"{int(DURATION) + 60}s", "-trace_msg", "-message_file", str(sender_log),
                          "-trace_stat", "-stf", str(WORK / "stat.csv")],
                         capture_output=True, text=True, timeout=DURATION + 90)
    time.sleep(1.0)
    wait_idle(pid)
    cpu = (cpu_ticks(pid) - before) / os.sysconf("SC_CLK_TCK")
    failed = re.search(r"Failed call\s*\|\s*\d+\s*\|\s*(\d+)", res.stdout)
    failed = int(failed.group(1)) if failed else (0 if res.returncode == 0 else calls)
    sent = notify_times(sender_log, "sent")
    got = notify_times(phone_log, "received")
    uas.kill()
    uas.wait()
    lat = sorted(got[k] - sent[k] for k in got if k in sent)
    # The built-in handler's state can only be read through the phone (our CLI is unloaded).
    state = mwi_state(ast, "3000@default") if ours else (calls,)
    last_phone = last_phone_count(phone_log)
    return {
        "calls": calls, "failed": failed, "cpu_us": cpu * 1e6 / calls,
        "p50_ms": statistics.median(lat) * 1e3 if lat else float("nan"),
        "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1e3 if lat else float("nan"),
        "phone_notifies": len(got),
        "final_ok": bool(state and state[0] == calls and last_phone == calls),
        "final": f"{state[0] if state else None}/phone {last_phone}",
    }


def last_phone_count(log):
    """The count of the last NOTIFY the phone received (None if none)."""
    counts = re.findall(r"Voice-Message: (\d+)/2", log.read_text(errors="replace")) if log.exists() else []
    return int(counts[-1]) if counts else None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    WORK.mkdir(exist_ok=True)
    ast = Asterisk()
    ast.control("reset-state")
    ast.install(sys.argv[1])
    ast.start()
    bad = False
    rows = []
    try:
        for rate in RATES:
            ast.ensure_loaded()
            ours = run(ast, rate, True)
            ast.cli("mwi delete mailbox 3000@default")
            ast.ensure_unloaded()
            builtin = run(ast, rate, False)
            ast.ensure_loaded()
            rows.append((rate, ours, builtin))
            if ours["failed"] or not ours["final_ok"]:
                bad = True
    finally:
        ast.control("reset-state")
    print(f"\nIncoming NOTIFY: res_mwi_hub vs Asterisk's built-in handler (same sandbox, same run, "
          f"{DURATION:g} s per rate; vmfixed -> 3000@default -> phone3000)")
    head = f"{'rate/s':>7} {'handler':>9} {'failed':>7} {'CPU us/N':>9} {'p50 ms':>8} {'p99 ms':>8} {'phone N':>8}  final (state/phone last; sent = N)"
    print(head)
    for rate, ours, builtin in rows:
        for name, r in (("hub", ours), ("built-in", builtin)):
            print(f"{rate:>7} {name:>9} {r['failed']:>7} {r['cpu_us']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
                  f"{r['phone_notifies']:>8}  {'right' if r['final_ok'] else 'STALE'} ({r['final']}; {r['calls']})")
        ratio = lambda key: ours[key] / builtin[key] if builtin[key] else float("nan")  # noqa: E731
        print(f"{rate:>7} {'ratio':>9} {'':>7} {ratio('cpu_us'):>9.2f} {ratio('p50_ms'):>8.2f} {ratio('p99_ms'):>8.2f}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
