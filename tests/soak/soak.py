#!/usr/bin/env python3
"""make soak: SOAK_CYCLES (default 1,000) `module unload` / `module load` cycles of res_mwi_hub
while AMI updates, incoming NOTIFYs and an outbound subscription's refreshes flow, then:

- crashes: Asterisk is the same process throughout, recorded no exit and left no core file;
- lost: every acknowledged update is in the store. Each source sends one mailbox strictly
  increasing counts, in order over one connection, so the store must hold the last
  acknowledged value or a later one that was sent (answer unknown: the answer was lost, or
  the module was taking it while unloading);
- mismatches: what Asterisk last published for each mailbox (`mwi show state`, whoever
  published it) equals what is stored.

Sources, each in its own thread or process:
- AMI: one connection per mailbox soak<k>@soak sending MWIUpdate new=n old=n%10, n = 1, 2, ...;
  acknowledged = answered `Response: Success`.
- NOTIFYs: sipp over TCP from 127.0.0.2 (endpoint vmtrunk, incoming_mwi_mailbox
  ${ACCOUNT}@remote) per account, new count = sipp's call number; acknowledged = 200 (the body
  is one only res_mwi_hub accepts: see sipp/soak_notify.xml).
- Outbound subscription: sipp as the remote voicemail server (sipp/soak_vm_server.xml) granting
  SOAK_EXPIRES s, so refreshes come every two thirds of it; every load subscribes anew and each
  dialog's NOTIFYs carry its number as the new count; acknowledged = a NOTIFY answered 200.

Exits 0 only if crashes, lost and mismatches are all 0 and every cycle succeeded.
"""
import os
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "e2e"))

from conftest import (MODULE, SANDBOX, Ami, Asterisk, LogWatch, core_files,  # noqa: E402
                      crash_hint, mwi_state, stored_counts)
from vm_server import VoicemailServer  # noqa: E402

CYCLES = int(os.environ.get("SOAK_CYCLES", "1000"))
AMI_MAILBOXES = [f"soak{k}@soak" for k in range(4)]
NOTIFY_ACCOUNTS = ["5001", "5002"]
NOTIFY_RATE = int(os.environ.get("SOAK_NOTIFY_RATE", "25"))  # per account, per second
SUBSCRIPTION_MAILBOX = "4321@SIP_Remote"
VM_PORT = 15090
EXPIRES = int(os.environ.get("SOAK_EXPIRES", "3"))
# Every 25th cycle the module stays loaded longer than a refresh period: refreshes happen
# in every run, not only subscriptions and unsubscriptions.
LONG_HOLD_EVERY = 20
UNLOAD_WAIT = 30.0  # as conftest's WAIT: a loaded machine
SUBS_CONF = SANDBOX / "etc/asterisk/pjsip_mwi_subscriptions.conf"
WORK = Path("/tmp/res_mwi_hub_soak")
# SOAK_SABOTAGE=1 shows the checks fail: before checking, one mailbox's stored counts are
# deleted (an acknowledged update lost) and another's published state is overwritten with
# `mwi publish` (published != stored). Expect lost 1, mismatches 1 (or more), FAIL.
SABOTAGE = os.environ.get("SOAK_SABOTAGE") == "1"


def mean(values):
    return sum(values) / len(values) if values else 0.0


def old_for(new):
    """The old count every AMI update sends with `new`."""
    return new % 10


class AmiUpdates(threading.Thread):
    """MWIUpdates for one mailbox over one AMI connection, values strictly increasing."""

    def __init__(self, mailbox, stop):
        super().__init__(daemon=True)
        self.mailbox, self.stop = mailbox, stop
        self.sent = 0             # the highest value sent (all of 1..sent were, in order)
        self.acked = 0            # how many were answered Success
        self.last_acked = 0       # the highest of those
        self.refused = Counter()  # answers other than Success, by message
        self.unknown = 0          # sent, then the connection failed before an answer
        self.connects = 0

    def run(self):
        client = None
        while not self.stop.is_set():
            try:
                if client is None:
                    client = Ami(events="off")
                    self.connects += 1
                value = self.sent + 1
                self.sent = value
                answer = client.action("MWIUpdate", Mailbox=self.mailbox, NewMessages=str(value),
                                       OldMessages=str(old_for(value)))
                if answer.get("Response") == "Success":
                    self.acked += 1
                    self.last_acked = value
                else:
                    self.refused[f"{answer.get('Response')}: {answer.get('Message')}"] += 1
            except (OSError, ConnectionError, AssertionError):
                # The answer (if any) is lost: that value is unknown, never acknowledged. A
                # new connection only after the old one is closed keeps the order.
                if client is not None and self.sent:
                    self.unknown += 1
                if client is not None:
                    client.sock.close()
                client = None
                time.sleep(0.2)
                continue
            time.sleep(0.005)
        if client is not None:
            client.close()


def unload_patiently(ast, pid):
    """As conftest's Asterisk.unload_patiently (an unload refused while a call of ours is in
    flight is tried again), but gives up at once when Asterisk is gone. Returns (refusals,
    whether it unloaded)."""
    deadline = time.monotonic() + UNLOAD_WAIT
    refused = 0
    while True:
        if "Unloaded res_mwi_hub.so" in ast.cli("module unload res_mwi_hub.so"):
            return refused, True
        refused += 1
        if not Path(f"/proc/{pid}").exists() or time.monotonic() > deadline:
            return refused, False
        time.sleep(0.02)


def sipp_log_lines(path):
    return path.read_text(errors="replace").splitlines() if path.exists() else []


class NotifyTraffic:
    """sipp sending soak_notify.xml NOTIFYs for one account over one TCP connection."""

    def __init__(self, account):
        self.account = account
        self.mailbox = f"{account}@remote"
        self.log = WORK / f"notify_{account}.log"
        self.err = WORK / f"notify_{account}_errors.log"
        self.out = WORK / f"notify_{account}.out"
        for f in (self.log, self.err):
            f.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            ["sipp", "127.0.0.1:5060", "-sf", str(HERE / "sipp/soak_notify.xml"), "-s", account,
             "-i", "127.0.0.2", "-p", "0", "-t", "t1", "-r", str(NOTIFY_RATE), "-m", "100000000",
             "-recv_timeout", "10000", "-nostdin", "-trace_logs", "-log_file", str(self.log),
             "-trace_err", "-error_file", str(self.err)],
            stdout=open(self.out, "wb"), stderr=subprocess.STDOUT, cwd=WORK)

    def stop(self):
        """Ends sipp; returns its exit status (None: it had already ended by itself)."""
        ended_early = self.proc.poll() is not None
        if not ended_early:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        return None if ended_early else self.proc.returncode

    def outcomes(self):
        """(sent values, 200'd values, refusals by code)."""
        sent, ok, refused = [], [], Counter()
        for line in sipp_log_lines(self.log):
            parts = line.split()
            if len(parts) >= 2 and parts[-2] == "sent":
                sent.append(int(parts[-1]))
            elif len(parts) >= 2 and parts[-2] == "ok":
                ok.append(int(parts[-1]))
            elif len(parts) >= 3 and parts[-3] == "refused":
                refused[parts[-1]] += 1
        return sent, ok, refused


def subscription_conf():
    return "\n".join(["[soak-vm]", "type = mwi-subscription",
                      f"server_uri = sip:4321@127.0.0.1:{VM_PORT}\\;transport=tcp",
                      "max_random_initial_delay = 0", "retry_interval = 1", "expiration = 60", ""])


def vm_server_outcomes(vm):
    """What the remote server's <log> lines say: (NOTIFY values sent, values 200'd, refusals by
    code). Counts of messages come from its SIP trace instead (vm_server_traffic): a dialog
    the scenario aborts (an unsubscribe crossing the NOTIFY after a refresh) logs no more."""
    sent, ok, refused = [], [], Counter()
    for line in vm.log_lines():
        m = re.search(r"\b(notify|notify_ok|notify_refused) (\d+)(?: (\w+))?$", line)
        if not m:
            continue
        kind, value = m.group(1), int(m.group(2))
        if kind == "notify":
            sent.append(value)
        elif kind == "notify_ok":
            ok.append(value)
        else:
            refused[m.group(3)] += 1
    return sent, ok, refused


def vm_server_traffic(vm):
    """From the server's SIP trace: SUBSCRIBEs received by kind (initial: a new dialog,
    unsubscribe: Expires 0, refresh: the rest), NOTIFYs sent, and the answers to them by code."""
    subscribes, seen = Counter(), set()
    for r in vm.subscribes():
        kind = "initial" if r.call_id not in seen else "unsubscribe" if r.expires == 0 else "refresh"
        seen.add(r.call_id)
        subscribes[kind] += 1
    messages = vm.messages()
    notifies = sum(1 for m in messages if m.direction == "sent" and m.method == "NOTIFY")
    answers = Counter(m.status for m in messages if m.direction == "received" and m.status is not None
                      and (m.header("CSeq") or "").endswith("NOTIFY"))
    return subscribes, notifies, answers


def check_mailbox(ast, mailbox, last_acked, sent_values, expect_rest):
    """Problems for one mailbox: [] or descriptions. Stored must be the last acknowledged value or
    a later sent one (new count; old/urgent as the source sends them with it); published
    (`mwi show state`) must equal stored. Returns (lost, mismatch, text)."""
    stored = stored_counts(ast, mailbox)
    published = mwi_state(ast, mailbox)
    lost = mismatch = 0
    notes = []
    if last_acked:
        if stored is None:
            lost, notes = 1, [f"nothing stored; last acknowledged new={last_acked}"]
        elif stored[0] < last_acked:
            lost, notes = 1, [f"stored new={stored[0]} is older than the last acknowledged {last_acked}"]
        elif stored[0] not in sent_values:
            lost, notes = 1, [f"stored new={stored[0]} was never sent (last acknowledged {last_acked})"]
        elif stored[1:] != expect_rest(stored[0]):
            lost, notes = 1, [f"stored {stored} does not go with new={stored[0]}: expected {expect_rest(stored[0])}"]
    if published != stored:
        mismatch = 1
        notes.append(f"published {published} != stored {stored}")
    return lost, mismatch, f"{mailbox}: stored {stored}, published {published}, last acked new={last_acked}" + (
        "  <-- " + "; ".join(notes) if notes else "")


def main():
    WORK.mkdir(exist_ok=True)
    ast = Asterisk()
    started = time.monotonic()
    ast.control("reset-state")
    ast.install(MODULE)
    ast.control("configure")
    SUBS_CONF.write_text(subscription_conf())
    vm = VoicemailServer(WORK / "vm_server")
    # The server listens before Asterisk boots: the first SUBSCRIBE (at boot) finds it.
    vm.start(str(HERE / "sipp/soak_vm_server.xml"), port=VM_PORT, transport="t1", calls=None,
             keys={"expires": EXPIRES})
    ast.control("start")
    if ast.module_status() != "Running":
        ast.load()
    pid = ast.pid()
    cores_before = core_files()
    exits_before = len(ast.exits())
    log = LogWatch()
    print(f"soak: Asterisk pid {pid}, {CYCLES} cycles, module {MODULE}", flush=True)

    stop = threading.Event()
    ami_threads = [AmiUpdates(mb, stop) for mb in AMI_MAILBOXES]
    for t in ami_threads:
        t.start()
    notifies = [NotifyTraffic(a) for a in NOTIFY_ACCOUNTS]

    cycles = refusals = 0
    unload_times, load_times = [], []
    failure = None
    rng = random.Random(13)
    try:
        time.sleep(1.0)
        for n in range(CYCLES):
            if not Path(f"/proc/{pid}").exists():
                failure = f"Asterisk (pid {pid}) is gone before cycle {n + 1}"
                break
            t0 = time.monotonic()
            refused, unloaded = unload_patiently(ast, pid)
            refusals += refused
            unload_times.append(time.monotonic() - t0)
            if not unloaded:
                failure = f"cycle {n + 1}: unload refused {refused} times in {UNLOAD_WAIT:.0f} s, or Asterisk died"
                break
            # Unloaded for a moment: traffic meets Asterisk without the module.
            time.sleep(rng.uniform(0, 0.1))
            t0 = time.monotonic()
            out = ast.cli("module load res_mwi_hub.so")
            load_times.append(time.monotonic() - t0)
            if "Loaded res_mwi_hub.so" not in out:
                failure = f"cycle {n + 1}: load said {out.strip()!r}"
                break
            status = ast.module_status()
            if status != "Running":
                failure = f"cycle {n + 1}: after load, module show says {status!r}"
                break
            cycles += 1
            time.sleep(EXPIRES + 1.0 if n % LONG_HOLD_EVERY == LONG_HOLD_EVERY - 1 else rng.uniform(0, 0.4))
            if cycles % 50 == 0:
                print(f"  {cycles} cycles, {refusals} refused unloads, {time.monotonic() - started:.0f} s",
                      flush=True)
    except (AssertionError, subprocess.TimeoutExpired) as e:
        failure = f"cycle {cycles + 1}: {e}"
    finally:
        stop.set()
        for t in ami_threads:
            t.join(timeout=60)
        notify_exits = [t.stop() for t in notifies]

    # Settle: the module loaded, the subscription's last dialog answered; then the server goes
    # (later SUBSCRIBEs fail, and change no counts) so its log is complete before it is read.
    alive = Path(f"/proc/{pid}").exists()
    if alive and ast.module_status() != "Running":
        ast.cli("module load res_mwi_hub.so")
    time.sleep(EXPIRES + 2.0)
    vm_exit = vm.stop()

    crashes = 0
    crash_notes = []
    ended = ast.exits_of(pid)
    if ended or not alive or ast.pid() != pid:
        crashes += 1
        crash_notes.append(f"Asterisk pid {pid}: exits {ended}, now pid {ast.pid()}"
                           + (crash_hint(ended[0]) if ended else ""))
    crash_notes += [f"later exit {e}" for e in ast.exits()[exits_before:] if e[0] != pid]
    new_cores = core_files() - cores_before
    if new_cores:
        crashes = max(crashes, 1)
        crash_notes.append(f"core files: {sorted(new_cores)}")

    if SABOTAGE and crashes == 0:
        print("SOAK_SABOTAGE: " + ast.cli(f"mwi delete mailbox {NOTIFY_ACCOUNTS[0]}@remote").strip()
              + " / " + ast.cli(f"mwi publish {AMI_MAILBOXES[0]} 999999 0 0").strip(), flush=True)

    ami_refused = Counter()
    for t in ami_threads:
        ami_refused.update(t.refused)
    # Not checked (None) when Asterisk died: its store is read through its CLI.
    lost = mismatches = None
    report = []
    if crashes == 0:
        lost = mismatches = 0
        for t in ami_threads:
            l, m, text = check_mailbox(ast, t.mailbox, t.last_acked, range(1, t.sent + 1),
                                       lambda new: (old_for(new), 0))
            lost, mismatches = lost + l, mismatches + m
            report.append(text)
        for traffic in notifies:
            sent, ok, _ = traffic.outcomes()
            l, m, text = check_mailbox(ast, traffic.mailbox, max(ok, default=0), set(sent), lambda new: (2, 0))
            lost, mismatches = lost + l, mismatches + m
            report.append(text)
        vm_sent, vm_ok, _ = vm_server_outcomes(vm)
        l, m, text = check_mailbox(ast, SUBSCRIPTION_MAILBOX, max(vm_ok, default=0), set(vm_sent),
                                   lambda new: (1, 0))
        lost, mismatches = lost + l, mismatches + m
        report.append(text)
        try:
            ast.assert_survived(pid)
        except AssertionError as e:
            crashes += 1
            crash_notes.append(str(e))

    duration = time.monotonic() - started
    notify_sent = notify_ok = 0
    notify_refused = Counter()
    for traffic in notifies:
        sent, ok, refused = traffic.outcomes()
        notify_sent, notify_ok = notify_sent + len(sent), notify_ok + len(ok)
        notify_refused.update(refused)
    subscribes, vm_notifies, vm_answers = vm_server_traffic(vm)
    our_errors = log.our_errors()
    print("\nmailboxes:")
    for line in report:
        print("  " + line)
    print(f"""
soak summary
  cycles (unload + load)   {cycles} of {CYCLES}{'' if failure is None else '  FAILED: ' + failure}
  unloads refused          {refusals}
  unload / load (CLI) time mean {mean(unload_times):.3f} / {mean(load_times):.3f} s, max {max(unload_times, default=0):.3f} / {max(load_times, default=0):.3f} s
  AMI MWIUpdate            sent {sum(t.sent for t in ami_threads)}, acked {sum(t.acked for t in ami_threads)}, \
refused {sum(ami_refused.values())}, unknown {sum(t.unknown for t in ami_threads)}, \
connections {sum(t.connects for t in ami_threads)}
  AMI refusals by answer   {dict(ami_refused.most_common(4))}
  NOTIFYs (vmtrunk, TCP)   sent {notify_sent}, 200 {notify_ok}, other {notify_sent - notify_ok} \
(refused {dict(notify_refused)}, rest unanswered); sipp exits {notify_exits}
  remote voicemail server  SUBSCRIBEs {sum(subscribes.values())} ({dict(subscribes)}), NOTIFYs sent \
{vm_notifies}, answered {dict(sorted(vm_answers.items()))}; sipp exit {vm_exit}
  module ERROR log lines   {len(our_errors)}{'' if not our_errors else ': ' + repr(our_errors[:3])}
  crashes                  {crashes}{'' if not crash_notes else '  ' + '; '.join(crash_notes)}
  lost                     {'not checked' if lost is None else lost}
  mismatches               {'not checked' if mismatches is None else mismatches}
  duration                 {duration:.0f} s""", flush=True)
    ok = failure is None and crashes == 0 and lost == 0 and mismatches == 0
    print("soak: PASS" if ok else "soak: FAIL")
    ast.stop()
    SUBS_CONF.write_text("")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
