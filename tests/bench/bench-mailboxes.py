#!/usr/bin/python3
"""External-mailbox benchmark (`make bench`): res_mwi_hub's AMI store on the sandbox Asterisk.

    bench-mailboxes.py MODULE_SO BASELINE_SO [EXTERNAL_DIR]

MODULE_SO is the shipped res_mwi_hub build (target/release/libres_mwi_hub.so); BASELINE_SO is
tests/bench/baseline/res_mwi_hub_bench_baseline.c built as a module (`mwi baseline
publish-loop`); EXTERNAL_DIR holds res_mwi_external.so and res_mwi_external_ami.so, the C modules
res_mwi_hub replaces, built from Debian's asterisk source package by
tests/bench/build-res_mwi_external.sh (bench only). The sandbox Asterisk is reset (empty store)
and started with MODULE_SO loaded at boot; at the end it is reset again (empty store, astdb's
mwi_external records removed, their modules taken out of the modules directory) and stopped.

What it measures, in this run, on this machine (Asterisk is left to go idle before every step,
so the asynchronous work of one step is not billed to the next):
  1. MWIUpdate over AMI, 1 pipelined client (events off; actions sent without waiting, responses
     read by another thread), 20,000 mailboxes: creates/s, updates/s (counts changed), no-op
     updates/s (same counts), each "fully processed": for creates and updates, until every
     MessageWaiting event for those mailboxes arrived on a separate events-on AMI session; for
     no-ops, until every response arrived (then no MessageWaiting may come). Asterisk CPU per
     update: utime+stime delta of the asterisk process (/proc/PID/stat) over that time / updates;
     also until Asterisk is idle again (asynchronous work, e.g. res_mwi_devstate's device states).
  2. The same with 4 clients and 80,000 more mailboxes (100,000 stored at the end).
  3. The bare stasis publish baseline, in the same Asterisk after 1 and after 2: the C module's
     `mwi baseline publish-loop 100000 1000` (after a 10,000 warm-up), CPU per publish of its
     thread and of the whole process until every MessageWaiting arrived; our CPU per update is
     also given divided by it ("x base").
  4. With 10,000, 100,000 and 1,000,000 stored mailboxes (rows written with sqlite3 into the
     module's store while Asterisk is stopped): wall time of `asterisk.sh start` to FullyBooted
     (at most BOOT_TIMEOUT s) against an empty store, the republish time the module logs,
     VmRSS per stored mailbox (after boot, once idle, minus the same for an empty store, / N),
     a batch of updates on existing mailboxes, `mwi list like` of 1% of the ids (asterisk -rx).
     Beside them, what Asterisk itself costs for BARE_CREATE MWI states: the C baseline
     publishing that many new mailboxes in a freshly booted Asterisk with the events-on session
     (time, CPU, VmRSS), timed over the AMI runs' ranges (0 -> 20k, 20k -> 100k), three ways:
     through per-mailbox states (ast_mwi_publish_by_mailbox), on the all-mailboxes topic (as
     res_mwi_hub publishes mailboxes no module watches), and the latter with res_mwi_devstate
     not loaded; creates are set against Asterisk's own cost of creating the same states. And
     NODEVSTATE_STORE stored mailboxes booted with res_mwi_devstate not loaded (what an admin who
     uses no MWI device states gets).
  5. Acknowledged updates lost on SIGKILL: one pipelined client streams MWIUpdate (every update
     a higher NewMessages for one of KILL_MAILBOXES mailboxes); Asterisk is SIGKILLed right after
     the last of KILL_UPDATES is acknowledged ("end"), and in another stream of 2 x KILL_UPDATES
     once KILL_UPDATES are ("mid"); after a restart, MWIGet tells how many acknowledged updates
     the store no longer holds (stored NewMessages below the acknowledged one).
  6. With EXTERNAL_DIR, the same for res_mwi_external + res_mwi_external_ami, in the same
     Asterisk with res_mwi_hub not loaded (noload in modules.conf): steps 1 and 2 (creates,
     updates and no-op updates at 1 and 4 clients; they publish every update, so their no-ops
     are fully processed when every MessageWaiting arrived), boot and VmRSS per mailbox with EXTERNAL_STORE mailboxes stored
     (rows written with sqlite3 into astdb, family mwi_external, while Asterisk is stopped; they
     publish every stored mailbox while loading, so FullyBooted means published), and 5. Then a
     side-by-side table, ours / theirs, against the issue's targets (met/missed, informational).

Timing is reported, never asserted (shared machines), and so is a store size that does not boot
within BOOT_TIMEOUT. The exit status is 1 only when something functionally fails: an update
answered Error, a missing or extra MessageWaiting event, a wrong stored, listed or published
count, a module that does not load, an ERROR line from res_mwi_hub in the Asterisk log. It waits
for running `pytest` processes (another user of the same sandbox) before it starts, and stops
with status 75, leaving the sandbox alone, if one starts meanwhile: run it again then.

Environment: SANDBOX (default /var/cache/res_mwi_hub/sandbox), STORE_SIZES (default
"10000 100000 1000000"), UPDATE_BATCH (20000), BOOT_TIMEOUT (150 s), BARE_CREATE (100000;
0 skips it), NODEVSTATE_STORE (100000; 0 skips it), QUIESCE_MAX (240 s), PYTEST_WAIT (1800 s),
KILL_UPDATES (20000; 0 skips 5), KILL_MAILBOXES (1000), EXTERNAL_STORE (100000),
EXTERNAL_BOOT_TIMEOUT (400 s: res_mwi_external's boot cap).
"""
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from options_probe import OptionsProbe  # noqa: E402

# One SIP client for the whole run, sending an OPTIONS every 50 ms (0.5 s to answer): each step
# reports how many got no answer while it ran (0 is the target: res_pjsip drops requests only
# while Asterisk is overloaded). Requests sent while Asterisk is down are not counted.
PROBE = None


def probe_lost(since, until):
    """'lost/sent' of the probe's OPTIONS sent between two time.monotonic() values."""
    if PROBE is None:
        return "-"
    sent, lost = PROBE.report(since, until - PROBE.deadline)
    return f"{len(lost)}/{sent}"

SANDBOX = Path(os.environ.get("SANDBOX", "/var/cache/res_mwi_hub/sandbox"))
CONTROL = ROOT / "tests" / "sandbox" / "asterisk.sh"
MODDIR = "/usr/lib/x86_64-linux-gnu/asterisk/modules"
BASE_NAME = "res_mwi_hub_bench_baseline.so"
STORE = "/var/lib/asterisk/res_mwi_hub.sqlite3"           # inside the chroot
FULL_LOG = SANDBOX / "var/log/asterisk/full"
AMI_ADDR = ("127.0.0.1", 5038)
AMI_USER, AMI_SECRET = "mwihub", "mwihub-test"
CLK_TCK = os.sysconf("SC_CLK_TCK")

STORE_SIZES = [int(x) for x in os.environ.get("STORE_SIZES", "10000 100000 1000000").split()]
UPDATE_BATCH = int(os.environ.get("UPDATE_BATCH", "20000"))
PYTEST_WAIT = float(os.environ.get("PYTEST_WAIT", "1800"))
BOOT_TIMEOUT = float(os.environ.get("BOOT_TIMEOUT", "150"))
QUIESCE_MAX = float(os.environ.get("QUIESCE_MAX", "240"))
BARE_CREATE = int(os.environ.get("BARE_CREATE", "100000"))
NODEVSTATE_STORE = int(os.environ.get("NODEVSTATE_STORE", "100000"))
SENTINEL = b"sentinel@mwibench"
EX_TEMPFAIL = 75

KILL_UPDATES = int(os.environ.get("KILL_UPDATES", "20000"))
KILL_MAILBOXES = int(os.environ.get("KILL_MAILBOXES", "1000"))
EXTERNAL_STORE = int(os.environ.get("EXTERNAL_STORE", "100000"))
# res_mwi_external loads its store into a sorted list, quadratic: 90-150 s with 100,000 here.
EXTERNAL_BOOT_TIMEOUT = float(os.environ.get("EXTERNAL_BOOT_TIMEOUT", "400"))
# res_mwi_external's store: astdb, sorcery family mwi_external (inside the chroot).
ASTDB = "/var/lib/asterisk/astdb.sqlite3"
EXTERNAL_NAMES = ("res_mwi_external.so", "res_mwi_external_ami.so")


class Failure(Exception):
    """Something functionally wrong: the run cannot go on."""


class Disturbed(Exception):
    """A pytest run started on the sandbox meanwhile."""


def say(text=""):
    print(text, flush=True)


# --- other users of the sandbox ---------------------------------------------------------------

def pytest_running():
    res = subprocess.run(["pgrep", "-f", "pytest"], capture_output=True, text=True)
    pids = [int(p) for p in res.stdout.split() if p.strip().isdigit() and int(p) != os.getpid()]
    return pids


class Guard:
    """Watches for pytest while the benchmark runs."""

    def __init__(self):
        self.disturbed = None
        self.stop = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self.stop.wait(1.0):
            pids = pytest_running()
            if pids and self.disturbed is None:
                self.disturbed = pids

    def check(self):
        if self.disturbed:
            raise Disturbed(f"pytest started (pids {self.disturbed}) while the benchmark ran")


GUARD = None


def check():
    if GUARD:
        GUARD.check()


def wait_no_pytest():
    deadline = time.monotonic() + PYTEST_WAIT
    told = False
    while pytest_running():
        if not told:
            say("bench-mailboxes: waiting for the running pytest to finish (it uses the same sandbox)...")
            told = True
        if time.monotonic() > deadline:
            raise Disturbed(f"pytest still running after {PYTEST_WAIT:.0f} s")
        time.sleep(2)


# --- sandbox control --------------------------------------------------------------------------

def control(*args, check_rc=True, timeout=300):
    res = subprocess.run([str(CONTROL), *args], capture_output=True, text=True, timeout=timeout)
    if check_rc and res.returncode != 0:
        raise Failure(f"asterisk.sh {' '.join(args)} failed ({res.returncode}): {res.stdout}{res.stderr}")
    return res


def cli(command, timeout=300):
    res = subprocess.run(["chroot", str(SANDBOX), "/usr/sbin/asterisk", "-rx", command],
                         capture_output=True, text=True, timeout=timeout)
    return res.stdout + res.stderr


def sql(query, readonly=False, timeout=600, db=STORE):
    args = ["chroot", str(SANDBOX), "sqlite3"] + (["-readonly"] if readonly else []) + [db, query]
    res = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if res.returncode != 0:
        raise Failure(f"sqlite3 {query!r} failed: {res.stderr.strip()}")
    return res.stdout.strip()


def asterisk_pid():
    res = control("pid", check_rc=False)
    return int(res.stdout.strip()) if res.returncode == 0 and res.stdout.strip().isdigit() else None


def cpu_ticks(pid):
    """utime + stime of the whole process (every thread), in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_ticks_or_none(pid):
    """cpu_ticks, or None once the process is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return None
        return cpu_ticks(pid)
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


def cpu_seconds(pid):
    return cpu_ticks(pid) / CLK_TCK


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise Failure(f"no VmRSS for pid {pid}")


def log_size():
    return FULL_LOG.stat().st_size if FULL_LOG.exists() else 0


def log_since(offset):
    if not FULL_LOG.exists():
        return ""
    with open(FULL_LOG, "rb") as f:
        size = f.seek(0, 2)
        f.seek(offset if offset <= size else 0)
        return f.read().decode("utf-8", "replace")


def remove_modules(*names):
    """Takes module images out of the modules directory (autoload must not find them)."""
    for name in names:
        for file in (name, f".{name}.tmp"):
            try:
                os.unlink(f"{SANDBOX}{MODDIR}/{file}")
            except FileNotFoundError:
                pass


def remove_baseline():
    remove_modules(BASE_NAME)


DURATION_RE = re.compile(r"([0-9.]+)(ns|µs|us|ms|s)$")


def parse_duration(text):
    """Rust's Debug form of a Duration ("1.5s", "12.3ms", "45.6µs") in seconds."""
    m = DURATION_RE.match(text)
    if not m:
        return None
    scale = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
    return float(m.group(1)) * scale


def run_capped(args, deadline):
    """Runs a command in its own process group; returns (rc, output), or (None, output) after
    killing that group when `deadline` (monotonic) passed first."""
    proc = subprocess.Popen([str(a) for a in args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    while True:
        try:
            out, _ = proc.communicate(timeout=0.05)
            return proc.returncode, out
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() > deadline:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, _ = proc.communicate()
            return None, out
        check()


def boot(cap):
    """Starts Asterisk and waits for FullyBooted, at most `cap` seconds. Returns a dict: boot
    (wall seconds, or None if it did not boot in time), pid, republished and republish (what the
    module logged, if it did)."""
    check()
    offset = log_size()
    t0 = time.monotonic()
    deadline = t0 + cap
    rc, out = run_capped([CONTROL, "start"], deadline)
    # asterisk.sh gives up after its own number of polls: keep waiting while Asterisk lives.
    while rc not in (0, None):
        if asterisk_pid() is None:
            raise Failure(f"Asterisk did not boot: {out}")
        rc, out = run_capped([CONTROL, "wait"], deadline)
    wall = time.monotonic() - t0 if rc == 0 else None
    # The module logs how many mailboxes it loaded (at load) and, from its background thread,
    # when it has put every mailbox with messages back on the bus.
    found = re.findall(r"res_mwi_hub: (\d+) external mailboxes loaded in (\S+);", log_since(offset))
    count = int(found[-1][0]) if found else None
    return {"boot": wall, "pid": asterisk_pid(), "republished": count, "republish": republish_time(offset),
            "offset": offset, "waited": time.monotonic() - t0}


def republish_time(offset):
    """Seconds the module's background republish took, once it has logged it (else None)."""
    found = re.findall(r"res_mwi_hub: republished (\d+) external mailboxes with messages in (\S+)", log_since(offset))
    return parse_duration(found[-1][1]) if found else None


def module_running(name="res_mwi_hub"):
    status = cli(f"module show like {name}")
    return re.search(rf"^{name}\.so\s.*\sRunning\s", status, re.M) is not None


def stop_asterisk():
    """asterisk.sh stop; if that hangs (a boot still loading modules), SIGKILL the Asterisk this
    benchmark started."""
    pid = asterisk_pid()
    rc, _ = run_capped([CONTROL, "stop"], time.monotonic() + 60)
    if rc is None and pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for _ in range(300):
        if asterisk_pid() is None:
            return
        time.sleep(0.1)
    raise Failure("Asterisk does not stop")


def quiesce(pid, max_wait):
    """Waits until Asterisk is idle (at most 2 clock ticks of CPU in 0.5 s). Returns the
    monotonic time its last busy window ended, or None if it was still busy after max_wait."""
    t0 = time.monotonic()
    last = cpu_ticks(pid)
    while True:
        time.sleep(0.5)
        check()
        now = cpu_ticks(pid)
        if now - last <= 2:
            return time.monotonic() - 0.5
        last = now
        if time.monotonic() - t0 > max_wait:
            return None


# --- AMI --------------------------------------------------------------------------------------

def ami_login(events):
    """A logged-in AMI socket and whatever was read past the login response."""
    sock = socket.create_connection(AMI_ADDR, timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    while b"\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise Failure("AMI closed the connection before its banner")
        buf += chunk
    banner, buf = buf.split(b"\r\n", 1)
    if not banner.startswith(b"Asterisk Call Manager"):
        raise Failure(f"unexpected AMI banner {banner!r}")
    sock.sendall(f"Action: Login\r\nActionID: login\r\nUsername: {AMI_USER}\r\nSecret: {AMI_SECRET}\r\n"
                 f"Events: {events}\r\n\r\n".encode())
    while True:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise Failure("AMI closed the connection during login")
            buf += chunk
        msg, buf = buf.split(b"\r\n\r\n", 1)
        if b"ActionID: login" in msg:
            if b"Response: Success" not in msg:
                raise Failure(f"AMI login refused: {msg!r}")
            return sock, buf


def parse_msg(raw):
    out = {}
    for line in raw.split(b"\r\n"):
        key, _, value = line.partition(b":")
        out.setdefault(key.strip().decode("utf-8", "replace"), value.strip().decode("utf-8", "replace"))
    return out


class Control:
    """A synchronous AMI session (events off): sentinel updates and MWIGet checks."""

    def __init__(self):
        self.sock, self.buf = ami_login("off")
        self.n = 0

    def _message(self):
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise Failure("AMI control session closed")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return parse_msg(raw)

    def action(self, name, **fields):
        self.n += 1
        aid = f"c{self.n}"
        lines = [f"Action: {name}", f"ActionID: {aid}"] + [f"{k}: {v}" for k, v in fields.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        msgs = []
        while True:
            msg = self._message()
            if msg.get("ActionID") != aid:
                continue
            msgs.append(msg)
            if "Response" in msg and name != "MWIGet":
                return msgs
            if msg.get("Response") == "Error" or msg.get("Event") == "MWIGetComplete":
                return msgs

    def close(self):
        try:
            self.sock.sendall(b"Action: Logoff\r\n\r\n")
            self.sock.close()
        except OSError:
            pass


class Watcher:
    """An events-on AMI session that tallies every MessageWaiting event: per mailbox, how many
    and the last New/Old."""

    def __init__(self):
        self.sock, self.buf = ami_login("on")
        self.cond = threading.Condition()
        self.seen = {}          # mailbox (bytes) -> [events, new, old]
        self.total = 0          # MessageWaiting events since reset, sentinel excluded
        self.target = None
        self.reached_at = None
        self.sentinel = None    # New of the last sentinel event
        self.error = None
        self.closing = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def reset(self, target=None):
        with self.cond:
            self.seen = {}
            self.total = 0
            self.target = target
            self.reached_at = None

    def _run(self):
        buf = self.buf
        sock = self.sock
        sock.settimeout(None)
        try:
            while True:
                data = sock.recv(1 << 20)
                if not data:
                    if not self.closing:
                        self.error = "the events session was closed by Asterisk"
                    break
                buf += data
                end = buf.rfind(b"\r\n\r\n")
                if end < 0:
                    continue
                part, buf = buf[:end], buf[end + 4:]
                events = []
                for msg in part.split(b"\r\n\r\n"):
                    if not msg.startswith(b"Event: MessageWaiting"):
                        continue
                    mb = new = old = None
                    for line in msg.split(b"\r\n"):
                        if line.startswith(b"Mailbox: "):
                            mb = line[9:]
                        elif line.startswith(b"New: "):
                            new = int(line[5:])
                        elif line.startswith(b"Old: "):
                            old = int(line[5:])
                    events.append((mb, new, old))
                if not events:
                    continue
                now = time.monotonic()
                with self.cond:
                    seen = self.seen
                    for mb, new, old in events:
                        if mb == SENTINEL:
                            self.sentinel = new
                            continue
                        self.total += 1
                        rec = seen.get(mb)
                        if rec is None:
                            seen[mb] = [1, new, old]
                        else:
                            rec[0] += 1
                            rec[1] = new
                            rec[2] = old
                    if self.target is not None and self.reached_at is None and self.total >= self.target:
                        self.reached_at = now
                    self.cond.notify_all()
        except OSError as e:
            if not self.closing:
                self.error = f"events session: {e}"
        with self.cond:
            self.cond.notify_all()

    def wait_target(self, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.reached_at is None:
                if self.error:
                    raise Failure(self.error)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"only {self.total} of {self.target} MessageWaiting events arrived "
                                  f"within {timeout:.0f} s")
                self.cond.wait(min(left, 1.0))
                check()
            return self.reached_at

    def wait_sentinel(self, value, timeout=120):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.sentinel != value:
                if self.error:
                    raise Failure(self.error)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise Failure(f"the sentinel MessageWaiting event (New {value}) never arrived")
                self.cond.wait(min(left, 1.0))
                check()

    def snapshot(self):
        with self.cond:
            return dict(self.seen), self.total

    def close(self):
        self.closing = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(timeout=5)


class Session:
    """What a benchmark step needs on one running Asterisk: a watcher, a control session, a
    sentinel to flush the event stream."""

    def __init__(self, pid):
        self.pid = pid
        self.watcher = Watcher()
        self.ctl = Control()
        self.sentinel_value = 0

    def flush(self):
        """Publishes the sentinel and waits for its event: every MessageWaiting published before
        has then been delivered to the watcher (one stasis subscription, one session queue)."""
        self.sentinel_value += 1
        r = self.ctl.action("MWIUpdate", Mailbox=SENTINEL.decode(), NewMessages=self.sentinel_value)[0]
        if r.get("Response") != "Success":
            raise Failure(f"sentinel MWIUpdate refused: {r}")
        self.watcher.wait_sentinel(self.sentinel_value)

    def close(self):
        self.ctl.close()
        self.watcher.close()


def payload(ids, counts):
    """Pipelined MWIUpdate actions: ids (bytes) with counts[i] = (new, old)."""
    parts = []
    for i, (mb, (new, old)) in enumerate(zip(ids, counts)):
        parts.append(b"Action: MWIUpdate\r\nActionID: %d\r\nMailbox: %s\r\nNewMessages: %d\r\nOldMessages: %d\r\n\r\n"
                     % (i, mb, new, old))
    return b"".join(parts)


def run_pipelined(batches):
    """batches: [(payload bytes, number of actions)], one per new events-off AMI client, all sent
    at once. Returns (t0, time the last response arrived, errors)."""
    clients = [ami_login("off") for _ in batches]
    go = threading.Event()
    done = [None] * len(batches)
    errors = []
    exc = []
    lock = threading.Lock()

    def sender(sock, data):
        go.wait()
        try:
            sock.sendall(data)
        except OSError as e:
            exc.append(f"send: {e}")

    def reader(k, sock, buf, n):
        sock.settimeout(None)
        got = 0
        try:
            while got < n:
                data = sock.recv(1 << 20)
                if not data:
                    exc.append(f"client {k}: AMI closed the connection after {got} of {n} responses")
                    return
                buf += data
                end = buf.rfind(b"\r\n\r\n")
                if end < 0:
                    continue
                part, buf = buf[:end + 4], buf[end + 4:]
                responses = part.count(b"Response: ")
                ok = part.count(b"Response: Success\r\n")
                if ok != responses:
                    with lock:
                        for raw in part.split(b"\r\n\r\n"):
                            if raw.startswith(b"Response: ") and not raw.startswith(b"Response: Success\r\n"):
                                errors.append(parse_msg(raw))
                got += responses
            done[k] = time.monotonic()
        except OSError as e:
            exc.append(f"client {k}: {e}")

    threads = []
    for k, ((sock, buf), (data, n)) in enumerate(zip(clients, batches)):
        threads.append(threading.Thread(target=reader, args=(k, sock, buf, n), daemon=True))
        threads.append(threading.Thread(target=sender, args=(sock, data), daemon=True))
    for t in threads:
        t.start()
    t0 = time.monotonic()
    go.set()
    deadline = t0 + 600
    for t in threads:
        while t.is_alive():
            t.join(timeout=1.0)
            check()
            if time.monotonic() > deadline:
                raise Failure("AMI clients did not get every response within 600 s")
    for sock, _ in clients:
        try:
            sock.sendall(b"Action: Logoff\r\n\r\n")
            sock.close()
        except OSError:
            pass
    if exc:
        raise Failure("; ".join(exc))
    return t0, max(done), errors


class Run:
    def __init__(self, module, baseline, external_dir=None):
        self.module = module
        self.baseline = baseline
        self.external_dir = external_dir
        self.external = False       # res_mwi_external + _ami loaded instead of res_mwi_hub
        self.failures = []
        self.res = {"baseline": {}, "stores": {}}
        self.log_offset = 0
        self.session = None
        self.pid = None
        self.baseline_in = None     # pid of the Asterisk that has the baseline module loaded

    @property
    def who(self):
        return "res_mwi_external" if self.external else "res_mwi_hub"

    @property
    def mine(self):
        """Where this phase's figures go: res, or res["ext"] for res_mwi_external's."""
        return self.res.setdefault("ext", {}) if self.external else self.res

    def fail(self, text):
        say(f"  FAILED: {text}")
        self.failures.append(text)

    # -- sessions and boots --------------------------------------------------------------------

    def open_session(self, pid):
        self.close_session()
        self.pid = pid
        self.session = Session(pid)

    def close_session(self):
        if self.session:
            self.session.close()
            self.session = None

    def settle(self, what):
        """Waits until Asterisk is idle; returns when (monotonic)."""
        at = quiesce(self.pid, QUIESCE_MAX)
        if at is None:
            say(f"  note: Asterisk still busy {QUIESCE_MAX:.0f} s after {what}; measuring anyway")
            return time.monotonic()
        return at

    def fill_store(self, rows):
        """Leaves exactly `rows` mailboxes s0000000@bench... (new i % 10, old i % 3) in the store
        of the module under test (Asterisk stopped), written with sqlite3 in id order: our
        table, or res_mwi_external's astdb records (sorcery's JSON object of strings)."""
        range_sql = "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < %d) " % max(rows - 1, 0)
        if self.external:
            sql("BEGIN; DELETE FROM astdb WHERE key LIKE '/mwi_external/%'; " + range_sql +
                "INSERT INTO astdb (key, value) SELECT printf('/mwi_external/mailboxes/s%%07d@bench', i), "
                "printf('{\"msgs_new\":\"%%d\",\"msgs_old\":\"%%d\"}', i %% 10, i %% 3) FROM c WHERE i < %d; "
                "COMMIT;" % rows, db=ASTDB)
            return int(sql("SELECT count(*) FROM astdb WHERE key LIKE '/mwi_external/mailboxes/%'",
                           readonly=True, db=ASTDB))
        sql("BEGIN; DELETE FROM mailboxes; " + range_sql +
            "INSERT INTO mailboxes (id, new, old, urgent, source, updated_at_ms) "
            "SELECT printf('s%%07d@bench', i), i %% 10, i %% 3, 0, 'ami', %d FROM c WHERE i < %d; COMMIT; "
            "PRAGMA wal_checkpoint(TRUNCATE);" % (int(time.time() * 1000), rows))
        return int(sql("SELECT count(*) FROM mailboxes", readonly=True))

    def start(self, devstate=True):
        """boot() with the modules of this phase: res_mwi_hub, or (self.external) res_mwi_external
        and res_mwi_external_ami with res_mwi_hub noload'ed; optionally res_mwi_devstate not
        loaded. modules.conf is changed for this boot only."""
        modules = SANDBOX / "etc/asterisk/modules.conf"
        saved = modules.read_text()
        text = saved
        if self.external:
            text = re.sub(r"^load = res_mwi_hub\.so$", "noload = res_mwi_hub.so", text, flags=re.M)
            text += "".join(f"\nload = {name}" for name in EXTERNAL_NAMES) + "\n"
        if not devstate:
            text += "\nnoload = res_mwi_devstate.so\n"
        modules.write_text(text)
        try:
            b = boot(EXTERNAL_BOOT_TIMEOUT if self.external else BOOT_TIMEOUT)
        finally:
            modules.write_text(saved)
        if b["boot"] is not None:
            self.pid = b["pid"]
            names = [n[:-3] for n in EXTERNAL_NAMES] if self.external else ["res_mwi_hub"]
            missing = [n for n in names if not module_running(n)]
            if missing:
                raise Failure(f"{', '.join(missing)} not running after boot")
        return b

    def boot_store(self, rows, devstate=True):
        """Stops Asterisk, leaves exactly `rows` mailboxes in the store (fill_store), boots (at
        most BOOT_TIMEOUT s). Returns the boot figures; rss is VmRSS once Asterisk is idle after
        booting."""
        self.close_session()
        stop_asterisk()
        t = time.monotonic()
        stored = self.fill_store(rows)
        if stored != rows:
            raise Failure(f"filling the store: {stored} rows instead of {rows}")
        fill = time.monotonic() - t
        b = self.start(devstate)
        b["fill"] = fill
        if b["boot"] is None:
            return b
        if b["republished"] != rows and not self.external:
            self.fail(f"{rows} stored: the module logged {b['republished']} republished mailboxes")
        t_booted = time.monotonic()
        idle = self.settle(f"booting with {rows} mailboxes")
        b["sip_lost"] = probe_lost(t_booted, time.monotonic())
        b["after_boot_busy"] = max(0.0, idle - t_booted)
        b["republish"] = republish_time(b["offset"])
        b["rss"] = rss_bytes(self.pid)
        self.open_session(self.pid)
        return b

    # -- one measured AMI batch ----------------------------------------------------------------

    def ami_step(self, label, id_lists, counts_lists, kind, republishing=False):
        """kind: create | update | noop. id_lists[k], counts_lists[k]: client k's mailboxes and
        counts, sent pipelined by client k. Asterisk is idle before; the figures run to "fully
        processed" (every MessageWaiting received, or for no-ops every response) and, for
        cpu_idle_us, on until Asterisk is idle again. republishing: the module's background
        republish still runs, so other mailboxes' events and a second, equal event for an
        updated mailbox (republished after its update) are expected. res_mwi_external publishes
        no-ops too: for it they are fully processed when every MessageWaiting arrived."""
        s = self.session
        n = sum(len(ids) for ids in id_lists)
        batches = [(payload(ids, counts), len(ids)) for ids, counts in zip(id_lists, counts_lists)]
        expect_events = kind != "noop" or self.external
        self.settle(f"{label}: before")
        probe_from = time.monotonic()
        s.watcher.reset(target=n if expect_events else None)
        cpu0 = cpu_seconds(s.pid)
        ct0 = os.times()
        t0, responses_at, errors = run_pipelined(batches)
        end = responses_at
        if expect_events:
            end = max(end, s.watcher.wait_target(timeout=max(120.0, n / 200)))
        cpu1 = cpu_seconds(s.pid)
        ct1 = os.times()
        wall = end - t0
        # Everything published before the sentinel has been delivered after it: count exactly.
        s.flush()
        seen, total = s.watcher.snapshot()
        idle = self.settle(label)
        sip_lost = probe_lost(probe_from, time.monotonic())
        cpu2 = cpu_seconds(s.pid)
        if errors:
            self.fail(f"{label}: {len(errors)} of {n} MWIUpdate answered Error, first: {errors[0]}")
        if expect_events:
            bad = []
            expected_ids = set()
            for ids, counts in zip(id_lists, counts_lists):
                for mb, (new, old) in zip(ids, counts):
                    expected_ids.add(mb)
                    rec = seen.get(mb)
                    events_ok = rec is not None and (rec[0] >= 1 if republishing else rec[0] == 1)
                    if not events_ok or (rec[1], rec[2]) != (new, old):
                        bad.append((mb.decode(), (new, old), rec))
            extra = [] if republishing else [mb for mb in seen if mb not in expected_ids]
            if bad:
                self.fail(f"{label}: {len(bad)} mailboxes without exactly one right MessageWaiting "
                          f"(id, expected (new, old), got [events, new, old]): {bad[:3]}")
            if extra:
                self.fail(f"{label}: {len(extra)} MessageWaiting events for other mailboxes: {extra[:3]}")
        elif total:
            self.fail(f"{label}: {total} MessageWaiting events for no-op updates "
                      f"(e.g. {list(seen.items())[:3]})")
        client_cpu = (ct1.user + ct1.system) - (ct0.user + ct0.system)
        return {"n": n, "wall": wall, "rate": n / wall, "cpu_us": (cpu1 - cpu0) / n * 1e6,
                "cpu_idle_us": (cpu2 - cpu0) / n * 1e6, "tail": max(0.0, idle - end),
                "ast_util": (cpu1 - cpu0) / wall, "client_util": client_cpu / wall, "sip_lost": sip_lost}

    def check_store(self, label, where, expected):
        """expected: {id (bytes): (new, old)}: exactly the rows of the store file `where` selects."""
        rows = sql(f"SELECT id, new, old, urgent, source FROM mailboxes WHERE {where}", readonly=True)
        got = {}
        for line in rows.splitlines():
            id_, new, old, urgent, source = line.split("|")
            got[id_.encode()] = (int(new), int(old), int(urgent), source)
        want = {k: (v[0], v[1], 0, "ami") for k, v in expected.items()}
        if got != want:
            diff = [(k.decode(), want.get(k), got.get(k)) for k in set(got) | set(want) if got.get(k) != want.get(k)]
            self.fail(f"{label}: the store differs from the acknowledged updates in {len(diff)} rows: {diff[:3]}")

    def check_mwiget(self, label, samples):
        for mb, (new, old) in samples:
            msgs = self.session.ctl.action("MWIGet", Mailbox=mb.decode())
            evs = [m for m in msgs if m.get("Event") == "MWIGet"]
            if len(evs) != 1 or (evs[0].get("NewMessages"), evs[0].get("OldMessages")) != (str(new), str(old)):
                self.fail(f"{label}: MWIGet {mb.decode()} answered {msgs}, expected new {new} old {old}")

    # -- the baseline module -------------------------------------------------------------------

    def load_baseline(self):
        if self.baseline_in == self.pid:
            return
        control("install", self.baseline, BASE_NAME)
        out = cli(f"module load {BASE_NAME}")
        # Loaded: off the modules directory at once, so no later boot autoloads it.
        remove_baseline()
        if not re.search(rf"^Loaded {re.escape(BASE_NAME)}", out, re.M):
            raise Failure(f"module load {BASE_NAME} failed: {out}")
        self.baseline_in = self.pid

    def baseline_loop(self, label, count, mailboxes, events=True, first=0, command="publish-loop"):
        """One `mwi baseline publish-loop`, Asterisk idle before; with events, until every
        MessageWaiting reached the watcher; then until Asterisk is idle."""
        self.settle(f"baseline {label}: before")
        if events:
            self.session.watcher.reset(target=count)
        cpu0 = cpu_seconds(self.pid)
        t0 = time.monotonic()
        text = cli(f"mwi baseline {command} {count} {mailboxes}" + (f" {first}" if first else ""), timeout=1800)
        m = re.search(r"published (\d+) failed (\d+) wall_ns (\d+) cpu_ns (\d+)", text)
        if not m or int(m.group(1)) != count or int(m.group(2)) != 0:
            raise Failure(f"baseline publish-loop {count} {mailboxes}: {text.strip()}")
        end = time.monotonic()
        if events:
            end = self.session.watcher.wait_target(timeout=max(120.0, count / 200))
        cpu1 = cpu_seconds(self.pid)
        if events:
            self.session.flush()
            _, total = self.session.watcher.snapshot()
            if total != count:
                self.fail(f"baseline {label}: {total} MessageWaiting events for {count} publishes")
        idle = self.settle(f"baseline {label}")
        cpu2 = cpu_seconds(self.pid)
        return {"n": count, "thread_cpu_us": int(m.group(4)) / count / 1e3, "loop_wall": int(m.group(3)) / 1e9,
                "proc_cpu_us": (cpu1 - cpu0) / count * 1e6, "cpu_idle_us": (cpu2 - cpu0) / count * 1e6,
                "rate": count / (end - t0), "idle_after": idle - t0}

    def phase_baseline(self, key, states):
        say(f"\n[baseline @{key}] bare stasis publish (C module): mwi baseline publish-loop 100000 1000, "
            f"{states:,} MWI states in Asterisk")
        first = self.baseline_in != self.pid
        self.load_baseline()
        if first:
            self.baseline_loop("warm-up", 10000, 1000)
        r = self.baseline_loop("measured", 100000, 1000)
        r["states"] = states
        self.res["baseline"][key] = r
        say(f"  publishing thread {r['thread_cpu_us']:.2f} us CPU/publish ({100000 / r['loop_wall']:,.0f}/s); fully processed "
            f"{r['rate']:,.0f}/s, Asterisk CPU {r['proc_cpu_us']:.1f} us/publish ({r['cpu_idle_us']:.1f} until idle)")

    # -- the phases ----------------------------------------------------------------------------

    def setup(self):
        for so in (self.module, self.baseline):
            if not os.path.isfile(so):
                raise Failure(f"no such module image: {so} (make build; make {os.path.relpath(self.baseline, ROOT)})")
        if self.external_dir:
            for name in EXTERNAL_NAMES:
                if not os.path.isfile(os.path.join(self.external_dir, name)):
                    raise Failure(f"no such module image: {self.external_dir}/{name} (tests/bench/build-res_mwi_external.sh)")
        self.log_offset = log_size()
        control("configure")
        stop_asterisk()
        control("reset-state")
        remove_baseline()
        remove_modules(*EXTERNAL_NAMES)
        control("install", self.module, "res_mwi_hub.so")
        b = self.start()
        if b["boot"] is None:
            raise Failure(f"Asterisk did not boot within {BOOT_TIMEOUT:.0f} s with an empty store")
        if b["republished"] != 0:
            raise Failure(f"res_mwi_hub did not load with an empty store (logged {b['republished']} republished)")
        self.res["boot_empty_first"] = b["boot"]
        self.settle("boot")
        self.res["rss_empty_first"] = rss_bytes(self.pid)
        self.res["version"] = cli("core show version").strip()
        self.open_session(self.pid)

    def phase_ami(self, key, clients, per_client):
        say(f"\n[{key}] {self.who}: MWIUpdate over AMI: {clients} pipelined client(s), {clients * per_client:,} mailboxes")
        prefix = f"m{clients}-"
        id_lists = [[b"%s%d-%06d@bench" % (prefix.encode(), k, i) for i in range(per_client)] for k in range(clients)]
        create = [[(1 + i % 5, i % 3) for i in range(per_client)] for _ in range(clients)]
        change = [[(10 + i % 5, i % 3) for i in range(per_client)] for _ in range(clients)]
        out = {}
        for kind, counts in (("create", create), ("update", change), ("noop", change)):
            r = self.ami_step(f"{self.who} {key} {kind}", id_lists, counts, kind)
            out[kind] = r
            say(f"  {kind:<7} {r['n']:>7,} in {r['wall']:6.2f} s: {r['rate']:>9,.0f}/s; Asterisk CPU {r['cpu_us']:6.1f} us/update "
                f"({r['cpu_idle_us']:.1f} until idle, busy {r['tail']:.1f} s more); Asterisk used {r['ast_util']:.2f} CPUs, "
                f"the Python clients {r['client_util']:.2f}; SIP OPTIONS unanswered {r['sip_lost']}")
        if not self.external:
            expected = {mb: c for ids, cs in zip(id_lists, change) for mb, c in zip(ids, cs)}
            self.check_store(key, f"id >= '{prefix}' AND id < '{prefix}~'", expected)
        self.check_mwiget(f"{self.who} {key}", [(id_lists[0][0], change[0][0]), (id_lists[-1][-1], change[-1][-1])])
        self.mine[key] = out

    BARE_VARIANTS = {
        # key: (CLI command, res_mwi_devstate loaded, what it is)
        "state": ("publish-loop", True, "ast_mwi_publish_by_mailbox (a per-mailbox state each)"),
        "all": ("publish-all-loop", True, "on the all-mailboxes topic (what res_mwi_hub does for unwatched mailboxes)"),
        "all_nodevstate": ("publish-all-loop", False, "on the all-mailboxes topic, res_mwi_devstate not loaded"),
    }

    def phase_bare_create(self, n, variant):
        """The C baseline publishes n new mailboxes into a freshly booted Asterisk, with one
        events-on AMI session as in the AMI runs: what Asterisk itself costs for n MWI states.
        Measured in the AMI runs' two ranges (0 -> 20k, then 20k -> n), so that our creates can
        be set against the bare cost of creating the same states ('x base')."""
        command, devstate, what = self.BARE_VARIANTS[variant]
        first_n = min(20000, n)
        say(f"\n[bare create: {variant}] C baseline, {n:,} new mailboxes {what}, fresh Asterisk, events-on session: "
            f"0 -> {first_n:,}, then {first_n:,} -> {n:,}")
        fresh = self.boot_store(0, devstate=devstate)
        if fresh["boot"] is None:
            raise Failure("Asterisk did not boot with an empty store")
        rss0 = rss_bytes(self.pid)
        self.load_baseline()
        segs = {"0-20k": self.baseline_loop(f"bare create {variant} 0-20k", first_n, first_n, command=command)}
        if n > first_n:
            segs["20k-100k"] = self.baseline_loop(f"bare create {variant} 20k-n", n - first_n, n - first_n,
                                                  first=first_n, command=command)
        rss1 = rss_bytes(self.pid)
        r = {"n": n, "segments": segs, "rss_per": (rss1 - rss0) / n, "what": what,
             "loop_wall": sum(g["loop_wall"] for g in segs.values()),
             "idle_after": sum(g["idle_after"] for g in segs.values()),
             "cpu_idle_us": sum(g["cpu_idle_us"] * g["n"] for g in segs.values()) / n}
        self.res.setdefault("bare", {})[variant] = r
        for name, g in segs.items():
            say(f"  {name}: {g['n']:,} creates, {g['rate']:,.0f}/s fully processed, Asterisk CPU {g['proc_cpu_us']:.0f} us/create "
                f"({g['cpu_idle_us']:.0f} until idle)")
        say(f"  publish loop {r['loop_wall']:.1f} s, Asterisk busy until {r['idle_after']:.1f} s, "
            f"{r['cpu_idle_us']:.0f} us CPU/mailbox, VmRSS +{r['rss_per']:,.0f} B/mailbox")

    def phase_stores(self):
        say(f"\n[store sizes] {', '.join(f'{n:,}' for n in STORE_SIZES)} stored mailboxes (rows written with sqlite3, then boot; "
            f"boot capped at {BOOT_TIMEOUT:.0f} s)")
        empty = self.boot_store(0)
        if empty["boot"] is None:
            raise Failure("Asterisk did not boot with an empty store")
        self.res["empty"] = empty
        say(f"  empty store: boot {empty['boot']:.2f} s, VmRSS {empty['rss'] / 2**20:.1f} MiB")
        rx = []
        for _ in range(3):
            t = time.monotonic()
            cli("core show version")
            rx.append(time.monotonic() - t)
        self.res["rx_overhead"] = statistics.median(rx)
        if BARE_CREATE:
            for variant in self.BARE_VARIANTS:
                self.phase_bare_create(BARE_CREATE, variant)
        for n in STORE_SIZES:
            self.measure_store(n, empty)
        if NODEVSTATE_STORE:
            # What an admin who does not use MWI device states gets (noload = res_mwi_devstate.so).
            self.measure_store(NODEVSTATE_STORE, empty, devstate=False)

    def measure_store(self, n, empty, devstate=True):
        if not devstate:
            # The empty-store baseline for RSS, booted the same way.
            empty = self.boot_store(0, devstate=False)
            if empty["boot"] is None:
                raise Failure("Asterisk did not boot with an empty store and no res_mwi_devstate")
        r = self.boot_store(n, devstate=devstate)
        key = n if devstate else f"{n} nodevstate"
        self.res["stores"][key] = r
        r["devstate"] = devstate
        if r["boot"] is None:
            self.store_timed_out(n, r, empty)
            return
        republishing = r["republish"] is None
        r["rss_per"] = (r["rss"] - empty["rss"]) / n
        # A batch of updates on existing mailboxes spread over the id space.
        batch = min(UPDATE_BATCH, n)
        step = n // batch
        idx = [k * step for k in range(batch)]
        ids = [b"s%07d@bench" % i for i in idx]
        counts = [(10 + i % 10, i % 3) for i in idx]
        up = self.ami_step(f"{key} stored: update", [ids], [counts], "update", republishing=republishing)
        r["update"] = up
        # Functional checks: stored values, MWIGet, the republished state of an untouched one.
        touched = set(idx)
        exp = (n, sum(i % 10 for i in range(n)) + 10 * batch, sum(i % 3 for i in range(n)))
        rows = sql("SELECT count(*), total(new), total(old) FROM mailboxes WHERE id GLOB 's[0-9]*@bench'",
                   readonly=True).split("|")
        got = (int(rows[0]), int(float(rows[1])), int(float(rows[2])))
        if got != exp:
            self.fail(f"{n} stored: the store holds count/new/old {got}, expected {exp}")
        samples = [(ids[0], counts[0]), (ids[-1], counts[-1])]
        for i in [i for i in (n - 1, n - 2, 1) if 0 <= i < n and i not in touched and not republishing][:1]:
            samples.append((b"s%07d@bench" % i, (i % 10, i % 3)))
            state = cli(f"mwi show state s{i:07d}@bench")
            if not re.search(rf"^New:\s+{i % 10}$", state, re.M):
                self.fail(f"{n} stored: republished state of s{i:07d}@bench is not New {i % 10}: {state.strip()}")
        self.check_mwiget(f"{n} stored", samples)
        # ~1% of the ids end in 00.
        walls = []
        for _ in range(3):
            t = time.monotonic()
            out = cli("mwi list like 00@bench")
            walls.append(time.monotonic() - t)
        r["list_like"] = statistics.median(walls)
        m = re.search(r"^(\d+) of (\d+) external mailboxes match '00@bench'\.$", out, re.M)
        if not m or int(m.group(1)) != n // 100 or int(m.group(2)) not in (n, n + 1):
            self.fail(f"{n} stored: mwi list like 00@bench: expected {n // 100} of {n} (+ the sentinel), got {out[-120:]!r}")
        label = f"{n:,}" if devstate else f"{n:,} without res_mwi_devstate"
        say(f"  {label}: boot {r['boot']:6.2f} s (module republish {fmt_s(r['republish'])}, busy {r['after_boot_busy']:.1f} s "
            f"more after FullyBooted), VmRSS +{r['rss_per']:,.0f} B/mailbox; {batch:,} updates {up['rate']:,.0f}/s at "
            f"{up['cpu_us']:.1f} us CPU/update ({up['cpu_idle_us']:.1f} until idle); mwi list like (1%) {r['list_like'] * 1000:.0f} ms")

    def store_timed_out(self, n, r, empty):
        pid = asterisk_pid()
        note = ""
        if pid:
            note = f"; VmRSS +{(rss_bytes(pid) - empty['rss']) / 2**20:,.0f} MiB by then"
        r["note"] = note
        republished = (f"the module had logged its republish of {r['republished']:,} in {fmt_s(r['republish'])}"
                       if r["republished"] is not None else "the module had not finished its republish")
        say(f"  {n:>9,}: NOT booted after {r['waited']:.0f} s ({republished}{note}); stopping it")
        stop_asterisk()

    # -- acknowledged updates lost on SIGKILL -----------------------------------------------------

    def kill_run(self, name, total, kill_at):
        """One pipelined client streams `total` MWIUpdate, update j setting mailbox
        k<name><j % KILL_MAILBOXES>@kill to NewMessages j + 1; SIGKILL once `kill_at` are
        acknowledged (Success); every response that still arrives was sent before the kill and
        counts as acknowledged. Then a restart and MWIGet of those mailboxes: an acknowledged
        update is lost when its mailbox now holds less than its NewMessages."""
        self.close_session()
        pid = self.pid
        ids = [b"k%s%04d@kill" % (name.encode(), j % KILL_MAILBOXES) for j in range(total)]
        data = payload(ids, [(j + 1, 0) for j in range(total)])
        sock, buf = ami_login("off")

        def send():
            try:
                sock.sendall(data)
            except OSError:
                pass        # Asterisk died under us: expected

        threading.Thread(target=send, daemon=True).start()
        acked, errors, killed = [], 0, None
        sock.settimeout(60)
        try:
            while True:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                *msgs, buf = (buf + chunk).split(b"\r\n\r\n")
                for raw in msgs:
                    m = re.search(rb"^ActionID: (\d+)", raw, re.M)
                    if m and raw.startswith(b"Response: Success"):
                        acked.append(int(m.group(1)))
                    elif m:
                        errors += 1
                if killed is None and len(acked) >= kill_at:
                    os.kill(pid, signal.SIGKILL)
                    killed = len(acked)
        except OSError:
            pass
        sock.close()
        if killed is None:
            raise Failure(f"SIGKILL {name}: only {len(acked)} of {total} updates acknowledged ({errors} errors)")
        while cpu_ticks_or_none(pid) is not None:
            time.sleep(0.05)
        b = self.start()
        if b["boot"] is None:
            raise Failure(f"SIGKILL {name}: Asterisk did not boot again")
        self.open_session(self.pid)
        msgs = self.session.ctl.action("MWIGet", Mailbox=f"/^k{name}[0-9]+@kill$/")
        stored = {m["Mailbox"].encode(): int(m["NewMessages"]) for m in msgs if m.get("Event") == "MWIGet"}
        lost = sum(1 for j in acked if stored.get(ids[j], 0) < j + 1)
        newest = {}
        for j in acked:
            newest[ids[j]] = j + 1
        r = {"sent": total, "acked": len(acked), "killed_at": killed, "lost": lost,
             "mailboxes_behind": sum(1 for mb, v in newest.items() if stored.get(mb, 0) < v),
             "unacked_kept": sum(1 for mb, v in stored.items() if v > newest.get(mb, 0)), "errors": errors}
        say(f"  {name:<4} {total:,} sent, SIGKILL after {killed:,} acknowledged, {len(acked):,} acknowledged in all: "
            f"{lost:,} acknowledged updates lost ({r['mailboxes_behind']} of {len(newest)} mailboxes behind their last ack; "
            f"{r['unacked_kept']} hold an update never acknowledged)")
        return r

    def phase_kill(self):
        if not KILL_UPDATES:
            return
        say(f"\n[SIGKILL] {self.who}: acknowledged MWIUpdates lost when Asterisk is SIGKILLed "
            f"({KILL_MAILBOXES:,} mailboxes, 1 pipelined client)")
        self.boot_store(0)
        out = {"end": self.kill_run("end", KILL_UPDATES, KILL_UPDATES),
               "mid": self.kill_run("mid", 2 * KILL_UPDATES, KILL_UPDATES)}
        self.mine["kill"] = out
        if not self.external:
            for name, r in out.items():
                if r["lost"]:
                    self.fail(f"SIGKILL {name}: {r['lost']} acknowledged updates lost")

    # -- res_mwi_external, side by side ----------------------------------------------------------

    def phase_external(self):
        """res_mwi_external + res_mwi_external_ami instead of res_mwi_hub, same Asterisk."""
        say(f"\n[res_mwi_external] the C modules instead of res_mwi_hub (noload), from {self.external_dir}")
        self.close_session()
        stop_asterisk()
        for name in EXTERNAL_NAMES:
            control("install", os.path.join(self.external_dir, name), name)
        self.external = True
        ext = self.mine
        ext["empty"] = self.boot_store(0)
        if ext["empty"]["boot"] is None:
            raise Failure("Asterisk did not boot with res_mwi_external and an empty astdb")
        say(f"  empty store: boot {ext['empty']['boot']:.2f} s, VmRSS {ext['empty']['rss'] / 2**20:.1f} MiB")
        self.phase_ami("1c", 1, 20000)
        self.phase_ami("4c", 4, 20000)
        n = EXTERNAL_STORE
        say(f"\n[res_mwi_external store] {n:,} mailboxes in astdb (written with sqlite3), then boot "
            f"(capped at {EXTERNAL_BOOT_TIMEOUT:.0f} s)")
        r = self.boot_store(n)
        ext["stores"] = {n: r}
        if r["boot"] is None:
            self.store_timed_out(n, r, ext["empty"])
        else:
            r["rss_per"] = (r["rss"] - ext["empty"]["rss"]) / n
            self.check_mwiget(f"res_mwi_external {n} stored", [(b"s%07d@bench" % i, (i % 10, i % 3)) for i in (0, n - 1)])
            say(f"  {n:,}: boot {r['boot']:.2f} s (every stored mailbox published while loading), busy "
                f"{r['after_boot_busy']:.1f} s more after FullyBooted, VmRSS +{r['rss_per']:,.0f} B/mailbox")
        self.phase_kill()

    def scan_log(self):
        text = log_since(self.log_offset)
        ours = [l for l in text.splitlines() if ("ERROR[" in l or "WARNING[" in l) and ("res_mwi_hub" in l or "src/" in l)]
        self.res["log"] = ours
        for l in ours:
            if "ERROR[" in l:
                self.fail(f"Asterisk log: {l}")
                break
        tp = {}
        for name in re.findall(r"Taskprocessor '([^']*)' queue reached", text):
            key = re.sub(r"-[0-9a-f]{8}$", "", name)
            tp[key] = tp.get(key, 0) + 1
        self.res["core_notes"] = {
            "taskprocessor": tp,
            "refcount": len(re.findall(r"Excessive refcount \d+ reached", text)),
        }

    def cleanup(self, touch_sandbox=True):
        self.close_session()
        remove_baseline()
        remove_modules(*EXTERNAL_NAMES)
        if touch_sandbox:
            stop_asterisk()
            control("reset-state", check_rc=False)


def fmt_s(secs):
    if secs is None:
        return "n/a"
    return f"{secs * 1000:.0f} ms" if secs < 10 else f"{secs:.1f} s"


# Targets on ours / theirs (res_mwi_external), per (phase, kind): (rate, CPU), each (op, limit) or None.
# Issue 12: creates and updates at 100,000 at least 2x their rate at no more than half their CPU;
# earlier items: updates at 20,000 the same, no-ops at least 5x cheaper in CPU.
AMI_TARGETS = {
    ("1c", "update"): ((">=", 2), ("<=", 0.5)),
    ("1c", "noop"): (None, ("<=", 0.2)),
    ("4c", "create"): ((">=", 2), ("<=", 0.5)),
    ("4c", "update"): ((">=", 2), ("<=", 0.5)),
    ("4c", "noop"): (None, ("<=", 0.2)),
}


def side_by_side(res):
    """The table of issue 12 item 5: ours, theirs (this run), ratio ours / theirs, target, verdict."""
    ext = res.get("ext")
    missing = "n/a (not run)" if ext is None else "n/a"
    ext = ext or {}
    rows = []

    def row(name, ours, theirs, fmt, target=None, theirs_at_least=False):
        """ours, theirs: numbers or None; target: (op, limit) on ours / theirs; theirs_at_least:
        theirs is a lower bound (it had not finished), so the ratio is an upper bound."""
        o = "n/a" if ours is None else fmt(ours)
        t = missing if theirs is None else ("> " if theirs_at_least else "") + fmt(theirs)
        ratio = ours / theirs if ours is not None and theirs else None
        verdict, limit = "", "-"
        if target:
            op, value = target
            limit = f"ratio {op} {value:g}"
            ok = ratio is not None and (ratio >= value if op == ">=" else ratio <= value)
            verdict = "n/a" if ratio is None or (theirs_at_least and not ok) else "met" if ok else "MISSED"
        shown = "n/a" if ratio is None else ("< " if theirs_at_least else "") + (f"{ratio:.2f}" if ratio >= 0.1 else f"{ratio:.3f}")
        rows.append((name, o, t, shown, limit, verdict))

    def rate(v):
        return f"{v:,.0f}/s"

    def micro(v):
        return f"{v:,.1f} us"

    for key, title in (("1c", "1 client, 0 -> 20k"), ("4c", "4 clients, 20k -> 100k")):
        for kind in ("create", "update", "noop"):
            o, t = res.get(key, {}).get(kind), ext.get(key, {}).get(kind)
            rate_target, cpu_target = AMI_TARGETS.get((key, kind), (None, None))
            row(f"{'no-op' if kind == 'noop' else kind}s, {title}", o and o["rate"], t and t["rate"], rate, rate_target)
            row(f"  CPU/{'no-op' if kind == 'noop' else kind}, {title}", o and o["cpu_us"], t and t["cpu_us"], micro, cpu_target)
    n = EXTERNAL_STORE
    ours, theirs = res.get("stores", {}).get(n, {}), ext.get("stores", {}).get(n, {})
    row(f"VmRSS/mailbox, {n:,} stored", ours.get("rss_per"), theirs.get("rss_per"), lambda v: f"{v:,.0f} B",
        ("<=", 0.5))
    # A boot that did not finish within BOOT_TIMEOUT: theirs is then at least the time waited.
    late = bool(theirs) and theirs.get("boot") is None
    theirs_boot = theirs.get("waited") if late else theirs.get("boot")
    published = ours["boot"] + ours["republish"] if ours.get("boot") and ours.get("republish") is not None else None
    for name, value in ((f"boot to FullyBooted, {n:,} stored", ours.get("boot")), ("  boot + every state published", published)):
        row(name, value, theirs_boot, lambda v: f"{v:.2f} s", ("<=", 0.1), late)
    for name, title in (("end", "after the last ack"), ("mid", "mid-stream")):
        o, t = res.get("kill", {}).get(name), ext.get("kill", {}).get(name)
        text = [f"{r['lost']:,} of {r['acked']:,}" if r else None for r in (o, t)]
        ratio = f"{o['lost'] / t['lost']:.2f}" if o and t and t["lost"] else "n/a"
        rows.append((f"acked lost, SIGKILL {title}", text[0] or "n/a", text[1] or missing, ratio,
                     "ours 0", "n/a" if o is None else "met" if o["lost"] == 0 else "MISSED"))
    say(f"\nres_mwi_hub vs res_mwi_external, side by side (this run, same sandbox; ratio = ours / theirs; "
        f"informational)")
    say(f"{'':<40}{'res_mwi_hub':>16}{'res_mwi_external':>18}{'ratio':>9}  {'target':<14}")
    for name, o, t, ratio, limit, verdict in rows:
        say(f"{name:<40}{o:>16}{t:>18}{ratio:>9}  {limit:<14}{verdict}")
    say("(rates: fully processed, every MessageWaiting out (our no-ops publish nothing: until every response; theirs "
        "publish every no-op); CPU: whole Asterisk process until then / updates; VmRSS once idle after boot, minus "
        "the same module's empty store, / N; boot: 'asterisk.sh start' to FullyBooted (res_mwi_external publishes every "
        "stored mailbox while loading, res_mwi_hub after FullyBooted: 'boot + published' adds its logged republish "
        "time); acked lost: acknowledged MWIUpdates whose mailbox holds less after the restart, of all acknowledged)")


def report(run):
    res = run.res
    bases = res["baseline"]
    say("\n" + "=" * 110)
    say("res_mwi_hub external mailboxes: benchmark report")
    say(f"{res.get('version', '?')}; {os.cpu_count()} CPUs")
    say("AMI clients: Python, events off, actions pipelined; one events-on session receives the MessageWaiting events.")
    say("CPU = utime+stime of the whole Asterisk process from the first action until fully processed, / updates;")
    say("'idle' = the same until Asterisk went idle again (async work such as res_mwi_devstate's device states).")
    say("Asterisk is idle before every step. 'x base' = our CPU/update / the C baseline's CPU per bare publish")
    say("(ast_mwi_publish_by_mailbox, fully processed, same events-on session), measured in this run at a similar")
    say("number of MWI states in Asterisk. For creates, 'x base' is against the C baseline creating new mailboxes")
    say("the way res_mwi_hub does for unwatched ones (on the all-mailboxes topic) over the same range of state")
    say("counts (0 -> 20k, 20k -> 100k; [bare create: all] below), when it ran.")
    for key, b in bases.items():
        say(f"  baseline @{key} ({b['states']:,} MWI states): {b['proc_cpu_us']:.1f} us CPU/publish ({b['cpu_idle_us']:.1f} until idle; "
            f"{b['thread_cpu_us']:.2f} in the publishing thread alone), {b['rate']:,.0f} publishes/s fully processed")
    ext = res.get("ext", {})
    say(f"\n{'AMI MWIUpdate':<26}{'res_mwi_hub':>12}{'CPU us':>9}{'(idle)':>9}{'x base':>8}   "
        f"{'res_mwi_external':>16}{'CPU us':>8}{'(idle)':>9}   (res_mwi_external: this run, same sandbox)")
    for key, title, bkey in (("1c", "1 client, 20,000 mailboxes", "20k"), ("4c", "4 clients, 80,000 more (20k -> 100k)", "100k")):
        r = res.get(key)
        if not r:
            continue
        say(title)
        b = bases.get(bkey)
        for kind, name in (("create", "creates/s"), ("update", "updates/s"), ("noop", "no-op updates/s")):
            o = r[kind]
            t = ext.get(key, {}).get(kind)
            theirs = f"{t['rate']:>16,.0f}{t['cpu_us']:>8.1f}{t['cpu_idle_us']:>9.1f}" if t else f"{'n/a':>16}"
            xb = f"{o['cpu_us'] / b['proc_cpu_us']:.2f}" if b else "-"
            seg = res.get("bare", {}).get("all", {}).get("segments", {}).get("0-20k" if key == "1c" else "20k-100k")
            if kind == "create":
                xb = f"{o['cpu_us'] / seg['proc_cpu_us']:.2f}" if seg else "-"
            say(f"  {name:<24}{o['rate']:>12,.0f}{o['cpu_us']:>9.1f}{o['cpu_idle_us']:>9.1f}{xb:>8}   {theirs}")
    stores = res.get("stores", {})
    empty = res.get("empty")
    if empty:
        say(f"\n{'Stored':<11}{'boot s':>8}{'republish':>11}{'busy after':>11}{'RSS B/mbx':>11}{'updates/s':>11}"
            f"{'CPU us':>8}{'(idle)':>8}{'x base':>8}{'list 1%':>9}{'SIP lost':>12}")
        say(f"{'empty':<11}{empty['boot']:>8.2f}")
        for key, r in stores.items():
            n = key if isinstance(key, int) else int(key.split()[0])
            name = f"{n:,}" + ("" if r.get("devstate", True) else " (2)")
            b = bases.get("20k" if n <= 50000 else "100k")
            if r["boot"] is None:
                say(f"{name:<11}{'> ' + format(r['waited'], '.0f'):>8}  did not reach FullyBooted within {BOOT_TIMEOUT:.0f} s{r.get('note', '')}")
                continue
            u = r["update"]
            xb = f"{u['cpu_us'] / b['proc_cpu_us']:.2f}" if b else "-"
            say(f"{name:<11}{r['boot']:>8.2f}{fmt_s(r['republish']):>11}{r['after_boot_busy']:>10.1f}s{r['rss_per']:>11,.0f}"
                f"{u['rate']:>11,.0f}{u['cpu_us']:>8.1f}{u['cpu_idle_us']:>8.1f}{xb:>8}{r['list_like'] * 1000:>7.0f}ms"
                f"{r.get('sip_lost', '-'):>12}")
        say(f"(boot: wall time of 'asterisk.sh start' until FullyBooted; republish: what the module logs at load; busy after: "
            f"Asterisk CPU-busy after FullyBooted; RSS: VmRSS once idle after boot minus the empty store's "
            f"({empty['rss'] / 2**20:.1f} MiB), / N; updates: {UPDATE_BATCH:,} (at most N) on existing mailboxes, 1 client; "
            f"x base against the baseline with the nearest number of states; list: 'mwi list like 00@bench' through asterisk -rx, which alone takes "
            f"~{res['rx_overhead'] * 1000:.0f} ms; (2): res_mwi_devstate not loaded, RSS against an empty store booted the same way; "
            f"republish 'n/a': not finished when measured, so the updates ran beside it; SIP lost: OPTIONS unanswered of those sent "
            f"from FullyBooted until Asterisk was idle, republish and its aftermath included; target 0)")
        if "rss_after_ami" in res:
            say(f"(the AMI runs' process, 100,000 mailboxes created over AMI: VmRSS "
                f"+{(res['rss_after_ami'] - res['rss_empty_first']) / 100000:,.0f} B/mailbox over its empty boot)")
        for variant, bc in res.get("bare", {}).items():
            say(f"Bare Asterisk cost of {bc['n']:,} new MWI states, the C baseline publishing {bc['what']} (fresh Asterisk, "
                f"one events-on AMI session): publish loop {bc['loop_wall']:.1f} s, Asterisk busy {bc['idle_after']:.1f} s in all, "
                f"{bc['cpu_idle_us']:,.0f} us CPU and VmRSS +{bc['rss_per']:,.0f} B per mailbox")
            same = stores.get(bc["n"]) if variant == "all" else stores.get(f"{bc['n']} nodevstate") if variant == "all_nodevstate" else None
            if same and same["boot"] is not None:
                say(f"  so res_mwi_hub's own share at {bc['n']:,}: VmRSS {same['rss_per'] - bc['rss_per']:+,.0f} B/mailbox "
                    f"(ours after boot minus bare); its republish took {fmt_s(same['republish'])} against the bare loop's "
                    f"{fmt_s(bc['loop_wall'])}")
    side_by_side(res)
    rows = []

    def target(name, ours, limit, ok):
        rows.append((name, ours, limit, "n/a" if ok is None else ("met" if ok else "MISSED")))

    r4 = res.get("4c")
    if r4:
        cr, cc = r4["create"]["rate"], r4["create"]["cpu_us"]
        for variant, title in (("state", "per-mailbox state"), ("all", "all-mailboxes topic"),
                               ("all_nodevstate", "all-mailboxes topic, no res_mwi_devstate")):
            seg = res.get("bare", {}).get(variant, {}).get("segments", {}).get("20k-100k")
            if seg:
                # Asterisk's own cost of creating the same states is the floor for any module.
                target(f"bare create, C, 20k -> 100k, {title}: CPU", f"{seg['proc_cpu_us']:.1f} us",
                       f"ours x{cc / seg['proc_cpu_us']:.2f}", None)
                target(f"bare create, C, 20k -> 100k, {title}: rate", f"{seg['rate']:,.0f}/s",
                       f"ours x{cr / seg['rate']:.2f}", None)
    s100 = stores.get(100000)
    if s100:
        ok = s100["boot"] is not None
        target("boot with 100k < 5 s", f"{s100['boot']:.2f} s" if ok else f"> {s100['waited']:.0f} s", "< 5 s",
               ok and s100["boot"] < 5)
    s100n = stores.get("100000 nodevstate")
    theirs = res.get("ext", {}).get("stores", {}).get(100000, {}).get("rss_per")
    if s100n and s100n["boot"] is not None:
        target("RSS/mailbox, res_mwi_devstate not loaded, <= 1/2 of res_mwi_external's with it, 100k",
               f"{s100n['rss_per']:,.0f} B", f"<= {theirs / 2:,.0f} B" if theirs else "n/a",
               s100n["rss_per"] <= theirs / 2 if theirs else None)
    s1m = stores.get(1000000)
    if s1m is not None:
        works = s1m["boot"] is not None and not any("1000000 stored" in f for f in run.failures)
        target("1M stored mailboxes work", f"boot {s1m['boot']:.1f} s" if s1m["boot"] else f"no boot in {s1m['waited']:.0f} s",
               "boots, updates, lists", works)
    if rows:
        say(f"\n{'Other figures and targets (res_mwi_hub; informational)':<84}{'ours':>18}{'target':>23}")
        for name, ours, limit, verdict in rows:
            say(f"{name:<84}{ours:>18}{limit:>23}  {verdict}")

    lines = res.get("log", [])
    say(f"\nres_mwi_hub ERROR/WARNING lines in the Asterisk log during the run: {len(lines)}")
    for l in lines[:10]:
        say(f"  {l}")
    notes = res.get("core_notes")
    if notes and (notes["taskprocessor"] or notes["refcount"]):
        say("Asterisk core messages during the run (not from res_mwi_hub): "
            + ", ".join(f"'{k}' queue high-water x{v}" for k, v in sorted(notes["taskprocessor"].items()))
            + (f"; 'Excessive refcount' FRACK x{notes['refcount']}" if notes["refcount"] else ""))
    if run.failures:
        say(f"\nFUNCTIONAL FAILURES ({len(run.failures)}):")
        for f in run.failures:
            say(f"  - {f}")
    else:
        say("\nEvery functional check passed (responses, MessageWaiting events, stored and published counts, MWIGet, list).")


def main():
    global GUARD
    if len(sys.argv) not in (3, 4):
        print(f"usage: {sys.argv[0]} MODULE_SO BASELINE_SO [EXTERNAL_DIR]", file=sys.stderr)
        return 2
    module, baseline, *external = (os.path.abspath(a) for a in sys.argv[1:])
    if os.geteuid() != 0:
        print("bench-mailboxes: needs root (chroot into the sandbox)", file=sys.stderr)
        return 2
    try:
        wait_no_pytest()
    except Disturbed as e:
        print(f"bench-mailboxes: {e}; sandbox left alone", file=sys.stderr)
        return EX_TEMPFAIL
    global PROBE
    GUARD = Guard()
    PROBE = OptionsProbe().start()
    run = Run(module, baseline, external[0] if external else None)
    started = time.monotonic()
    status = 0
    touch_sandbox = True
    try:
        run.setup()
        run.phase_ami("1c", 1, 20000)
        run.phase_baseline("20k", 20000 + 1001)
        run.phase_ami("4c", 4, 20000)
        run.res["rss_after_ami"] = rss_bytes(run.pid)
        run.phase_baseline("100k", 100000 + 1001)
        run.phase_stores()
        run.phase_kill()
        if run.external_dir:
            run.phase_external()
    except Disturbed as e:
        say(f"\nbench-mailboxes: DISTURBED: {e}. Stopped without touching the sandbox; re-run when it is idle.")
        touch_sandbox = False
        status = EX_TEMPFAIL
    except Failure as e:
        run.fail(str(e))
    finally:
        GUARD.stop.set()
        PROBE.stop()
        if touch_sandbox:
            run.scan_log()
        run.cleanup(touch_sandbox)
    if status == 0:
        report(run)
        say(f"\nTotal run time {time.monotonic() - started:.0f} s; sandbox reset (empty store) and stopped.")
        status = 1 if run.failures else 0
    return status


if __name__ == "__main__":
    sys.exit(main())
