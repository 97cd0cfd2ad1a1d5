"""End-to-end harness: a real Asterisk 22 in the sandbox chroot, driven as an admin would.

The CLI goes through `asterisk -rx` (its exit status says nothing: output is checked), AMI
through TCP on 127.0.0.1:5038, SIP through sipp. MODULE and TEST_MODULE (environment) are the
shipped build and the test-hooks build of res_mwi_hub.so.
"""
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = Path(os.environ.get("SANDBOX", "/var/cache/res_mwi_hub/sandbox"))
CONTROL = ROOT / "tests" / "sandbox" / "asterisk.sh"
MODULE = os.environ.get("MODULE", str(ROOT / "target/release/libres_mwi_hub.so"))
TEST_MODULE = os.environ.get("TEST_MODULE", str(ROOT / "target/test-hooks/release/libres_mwi_hub.so"))
FULL_LOG = SANDBOX / "var/log/asterisk/full"
SIPP_DIR = Path(__file__).resolve().parent / "sipp"
# asterisk.sh starts Asterisk in the sandbox root with -g; the kernel's core_pattern is read
# once so a crash report can say where a core went when it is not a file there.
CORE_DIR = SANDBOX
# Every wait below is a deadline sized for a loaded machine (CI runners, both cores busy):
# it returns as soon as its condition holds, so an idle machine does not pay for it.
WAIT = 30.0


class Asterisk:
    """The sandbox Asterisk process and its CLI; instance="b" is the two-server tests' second
    Asterisk in the same sandbox (its own configuration, ports, EID, state and logs)."""

    def __init__(self, instance=None):
        self.instance = instance
        suffix = f"-{instance}" if instance else ""
        self.full_log = SANDBOX / f"var/log/asterisk{suffix}/full"
        self.asterisk = ["/usr/sbin/asterisk"] + (["-C", f"/etc/asterisk{suffix}/asterisk.conf"] if instance else [])

    def control(self, *args):
        env = dict(os.environ, INSTANCE=self.instance or "")
        return subprocess.run([str(CONTROL), *args], check=True, capture_output=True, text=True, env=env).stdout

    def cli(self, command, timeout=30):
        res = subprocess.run(["chroot", str(SANDBOX), *self.asterisk, "-rx", command],
                             capture_output=True, text=True, timeout=timeout)
        return res.stdout + res.stderr

    def wait_cli(self, command, needle, timeout=WAIT):
        """Output of `command` once it contains `needle` (background work may lag); fails the
        test, showing the last output, when it never does within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.cli(command)
            if needle in out:
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"{command!r} never printed {needle!r} in {timeout} s; last output:\n{out}")
            time.sleep(0.1)

    def pid(self):
        try:
            return int(self.control("pid").strip())
        except subprocess.CalledProcessError:
            return None

    def alive(self):
        return self.pid() is not None and "System uptime" in self.cli("core show uptime")

    def exits(self):
        """Every Asterisk exit asterisk.sh recorded: [(pid, status)], status 128+N for signal N."""
        return [(pid, int(what)) for pid, what in self._exit_log() if what != "started"]

    def exits_of(self, pid):
        """The exit statuses of the Asterisk that is (or was last) process `pid`: only what
        was recorded after its start, since pids get reused over a long run of the suite."""
        ended = []
        for p, what in self._exit_log():
            if p == pid:
                ended = [] if what == "started" else ended + [int(what)]
        return ended

    def wait_exit(self, pid, timeout):
        """exits_of(pid) once the shell that waits for Asterisk has recorded its end (or [],
        after `timeout`)."""
        deadline = time.monotonic() + timeout
        while not self.exits_of(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.exits_of(pid)

    def _exit_log(self):
        """asterisk.sh's records: [(pid, "started" or the exit status as text)]."""
        return [(int(pid), what) for pid, what in (line.split()[:2] for line in self.control("exits").splitlines()
                                                   if line.strip())]

    def assert_survived(self, pid):
        """Asterisk is still process `pid` and answering: it neither crashed, exited nor was
        restarted since `pid` was read. Judged by the process, never by the log: a crash
        writes nothing there."""
        ended = self.exits_of(pid)
        assert not ended, f"Asterisk (pid {pid}) exited with status {ended[0]}" + crash_hint(ended[0])
        assert self.pid() == pid, f"Asterisk is now pid {self.pid()}, not {pid}: it was restarted"
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state not in ("Z", "X"), f"Asterisk (pid {pid}) is dead (state {state})"
        assert "System uptime" in self.cli("core show uptime"), "Asterisk does not answer its CLI"

    def install(self, so):
        self.control("install", so)

    def start(self):
        self.control("configure")
        self.control("start")

    def stop(self):
        self.control("stop")

    def restart(self):
        self.stop()
        self.start()

    def maps(self):
        return Path(f"/proc/{self.pid()}/maps").read_text()

    def module_status(self):
        out = self.cli("module show like res_mwi_hub")
        m = re.search(r"^res_mwi_hub\.so\s.*?\s(Running|Not Running)\s", out, re.M)
        return m.group(1) if m else None

    def load(self):
        out = self.cli("module load res_mwi_hub.so")
        assert "Loaded res_mwi_hub.so" in out, out
        assert self.module_status() == "Running"

    def unload(self):
        out = self.cli("module unload res_mwi_hub.so")
        assert "Unloaded res_mwi_hub.so" in out, out

    def unload_patiently(self, timeout=WAIT, pause=0.02):
        """Unloads as an admin does under traffic: unload is refused while a call of ours (CLI,
        AMI or a NOTIFY) is still running after a short wait, so try again. Returns how many
        attempts were refused; fails the test if none succeeded within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        refused = 0
        while True:
            out = self.cli("module unload res_mwi_hub.so")
            if "Unloaded res_mwi_hub.so" in out:
                return refused
            refused += 1
            if time.monotonic() > deadline:
                raise AssertionError(f"unload refused {refused} times in {timeout} s; last: {out}")
            time.sleep(pause)

    def ensure_loaded(self):
        if self.module_status() != "Running":
            self.load()

    def ensure_unloaded(self):
        if self.module_status() == "Running":
            self.unload()

    def use_image(self, so):
        """Unload, install `so` as res_mwi_hub.so, load it."""
        self.ensure_unloaded()
        self.install(so)
        self.load()


def crash_hint(status):
    if status <= 128:
        return ""
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    return f" (signal {status - 128}; core_pattern {pattern!r}, cores: {[str(c) for c in core_files()]})"


def core_files():
    """Core files in Asterisk's working directory, with their modification times."""
    return {(str(c), c.stat().st_mtime_ns) for c in CORE_DIR.glob("core*") if c.is_file()}


class LogWatch:
    """The lines the Asterisk log (`log`: another instance's full log) gains from now on."""

    def __init__(self, log=FULL_LOG):
        self.log = log
        self.offset = log.stat().st_size if log.exists() else 0

    def text(self):
        with open(self.log, "rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.text()):
                return self.text()
            time.sleep(0.05)
        raise AssertionError(f"log never matched {pattern!r}; got:\n{self.text()[-3000:]}")

    def our_errors(self):
        """ERROR lines written by res_mwi_hub (our sources log as src/...) or naming it."""
        return [l for l in self.text().splitlines()
                if "ERROR[" in l and ("src/" in l or "res_mwi_hub" in l)]


class Ami:
    """A minimal AMI client, as any integration would write one."""

    def __init__(self, host="127.0.0.1", port=5038, user="mwihub", secret="mwihub-test", events="on"):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""
        self.pending = []
        self.next_id = 0
        banner = self._line()
        assert banner.startswith("Asterisk Call Manager"), banner
        resp = self.action("Login", Username=user, Secret=secret, Events=events)
        assert resp.get("Response") == "Success", resp

    def _line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("AMI connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def read_message(self):
        """One message as an ordered list of (key, value), returned as a dict with .pairs."""
        pairs = []
        while True:
            line = self._line()
            if line == "":
                if pairs:
                    break
                continue
            key, _, value = line.partition(":")
            pairs.append((key.strip(), value.strip()))
        msg = dict(pairs)
        msg["_pairs"] = pairs
        return msg

    def send(self, name, **fields):
        self.next_id += 1
        action_id = fields.pop("ActionID", f"t{self.next_id}")
        lines = [f"Action: {name}", f"ActionID: {action_id}"] + [f"{k}: {v}" for k, v in fields.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return action_id

    def action(self, name, **fields):
        action_id = self.send(name, **fields)
        while True:
            msg = self.read_message()
            if "Response" in msg and msg.get("ActionID") == action_id:
                return msg
            self.pending.append(msg)

    def wait_event(self, predicate, timeout=WAIT):
        deadline = time.monotonic() + timeout
        for i, msg in enumerate(self.pending):
            if "Event" in msg and predicate(msg):
                del self.pending[i]
                return msg
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching AMI event")
            self.sock.settimeout(left)
            try:
                msg = self.read_message()
            except socket.timeout:
                raise TimeoutError("no matching AMI event")
            finally:
                self.sock.settimeout(10)
            if "Event" in msg and predicate(msg):
                return msg
            self.pending.append(msg)

    def drain(self, seconds):
        """Every message arriving within `seconds`. Only for counting what arrives: that an
        event did not arrive is shown with `events_until` (a later event as a barrier)."""
        got = list(self.pending)
        self.pending = []
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            self.sock.settimeout(left)
            try:
                got.append(self.read_message())
            except socket.timeout:
                return got
            finally:
                self.sock.settimeout(10)

    def events_until(self, predicate, timeout=WAIT):
        """Every event up to and including the first matching `predicate`. The bus delivers in
        publish order, so publishing a marker after an action and reading up to it shows
        everything the action published, however slowly the machine runs."""
        got = []
        while True:
            msg = self.wait_event(lambda m: True, timeout=timeout)
            got.append(msg)
            if predicate(msg):
                return got

    def close(self):
        try:
            self.sock.sendall(b"Action: Logoff\r\n\r\n")
        except OSError:
            pass
        self.sock.close()


def message_waiting(mailbox):
    return lambda m: m.get("Event") == "MessageWaiting" and m.get("Mailbox") == mailbox


def sipp(scenario, *args, calls=1, rate=None, timeout=30, background=False, source="127.0.0.2", transport="udp"):
    """Run sipp from `source` (127.0.0.2 is endpoint vmtrunk, 127.0.0.4 vmfixed) against the
    sandbox's UDP transport, or with transport="tcp" over one TCP connection: the kernel may
    drop UDP datagrams under load (sipp resends them 500 ms later, out of order), so only
    over TCP is the request sent last the one received last."""
    cmd = ["sipp", "127.0.0.1:5060", "-sf", str(SIPP_DIR / scenario), "-i", source, "-p", "0",
           "-m", str(calls), "-nostdin", "-timeout", f"{timeout}s", "-trace_err",
           "-error_file", "/tmp/res_mwi_hub_sipp_err.log"]
    if transport == "tcp":
        cmd += ["-t", "t1"]
    else:
        assert transport == "udp", transport
    if rate:
        cmd += ["-r", str(rate)]
    cmd += list(args)
    if background:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 10)


class Phone:
    """A sipp phone registered as `endpoint` (phone1000: mailboxes=1000@default; phone1001 and
    phone1002: 1001@remote and 1002@remote) from 127.0.0.3:`port` with the Asterisk at
    `server`, recording every NOTIFY that Asterisk sends it."""

    def __init__(self, endpoint="phone1000", port=5062, server="127.0.0.1:5060"):
        self.log = Path(f"/tmp/res_mwi_hub_phone_messages_{endpoint}.log")
        self.log.unlink(missing_ok=True)
        # A phone left by an interrupted run would hold the port.
        subprocess.run(["pkill", "-9", "-f", f"phone_notify_uas.xml -i 127.0.0.3 -p {port}"], check=False)
        res = subprocess.run(
            ["sipp", server, "-sf", str(SIPP_DIR / "phone_register.xml"), "-i", "127.0.0.3",
             "-p", str(port), "-s", endpoint, "-m", "1", "-nostdin", "-timeout", "10s"],
            capture_output=True, text=True, timeout=20)
        assert res.returncode == 0, res.stdout + res.stderr
        self.uas = subprocess.Popen(
            ["sipp", "-sf", str(SIPP_DIR / "phone_notify_uas.xml"), "-i", "127.0.0.3", "-p", str(port),
             "-m", "100000", "-nostdin", "-trace_msg", "-message_file", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Listening once its port is bound (Asterisk resends a NOTIFY that found it closed).
        wanted = f"0300007F:{port:04X}"
        deadline = time.monotonic() + WAIT
        while wanted not in Path("/proc/net/udp").read_text():
            assert self.uas.poll() is None, f"phone sipp exited with {self.uas.returncode}"
            assert time.monotonic() < deadline, f"phone sipp never bound 127.0.0.3:{port}"
            time.sleep(0.05)

    def notify_bodies(self):
        """Bodies of the NOTIFYs received so far, oldest first."""
        if not self.log.exists():
            return []
        text = self.log.read_text(errors="replace")
        bodies = []
        for m in re.finditer(r"received .*?\n\n(NOTIFY sip:.*?)(?=\n-{20,}|\Z)", text, re.S):
            msg = m.group(1).replace("\r\n", "\n")
            head, _, body = msg.partition("\n\n")
            bodies.append(body.strip())
        return bodies

    def wait_for_notify(self, *needles, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for body in reversed(self.notify_bodies()):
                if all(n.lower() in body.lower() for n in needles):
                    return body
            time.sleep(0.1)
        raise AssertionError(f"no NOTIFY with {needles}; got {self.notify_bodies()[-3:]}")

    def close(self):
        self.uas.kill()
        self.uas.wait(timeout=10)


@pytest.fixture(autouse=True)
def no_crash():
    """Every test: Asterisk never died of a signal (other than SIGKILL, which tests and
    asterisk.sh stop send on purpose) and left no core file, whatever the test checked."""
    ast = Asterisk()
    exits_before = len(ast.exits())
    cores_before = core_files()
    yield
    crashed = [(p, s) for p, s in ast.exits()[exits_before:] if s > 128 and s != 128 + 9]
    assert not crashed, f"Asterisk crashed: {crashed}" + crash_hint(crashed[0][1])
    new_cores = core_files() - cores_before
    assert not new_cores, f"Asterisk left core files: {sorted(new_cores)}"


@pytest.fixture(scope="session")
def asterisk():
    """A freshly started sandbox Asterisk with the shipped module installed (not yet loaded)."""
    ast = Asterisk()
    ast.control("reset-state")
    ast.install(MODULE)
    ast.start()
    yield ast
    ast.stop()


@pytest.fixture
def hub(asterisk):
    """The sandbox Asterisk with the shipped res_mwi_hub loaded."""
    if asterisk.pid() is None:
        asterisk.start()
    asterisk.ensure_loaded()
    return asterisk


@pytest.fixture
def hub_test_build(asterisk):
    """The sandbox Asterisk running the test-hooks build; the shipped build is put back after."""
    if asterisk.pid() is None:
        asterisk.start()
    asterisk.use_image(TEST_MODULE)
    yield asterisk
    if asterisk.pid() is None:
        asterisk.start()
    asterisk.ensure_unloaded()
    asterisk.install(MODULE)
    asterisk.load()


@pytest.fixture
def ordering_hub(hub_test_build):
    """The test build for the NOTIFY ordering tests, its arrival-order check set as
    RES_MWI_HUB_ARRIVAL_CHECK says: `on` (the default, what ships) or `off`, to watch the
    ordering tests catch a module without it."""
    setting = os.environ.get("RES_MWI_HUB_ARRIVAL_CHECK", "on")
    out = hub_test_build.cli(f"mwi test arrival-check {setting}")
    assert f"arrival check {setting}" in out, out
    return hub_test_build


def newest_arrival(asterisk, mailbox):
    """(new, old, urgent) of the newest-received NOTIFY any worker handled for `mailbox`, as the
    test build records it on the side (`mwi test newest-arrival`); None if none was."""
    out = asterisk.cli(f"mwi test newest-arrival {mailbox}")
    if "no NOTIFY recorded" in out:
        return None
    m = re.search(r"^arrival \d+ new (\d+) old (\d+) urgent (\d+)$", out, re.M)
    assert m, out
    return tuple(int(g) for g in m.groups())


def stored_counts(asterisk, mailbox):
    """(new, old, urgent) stored for `mailbox`, per `mwi show mailbox`; None when none is."""
    out = asterisk.cli(f"mwi show mailbox {mailbox}")
    return None if "No external mailbox" in out else counts_shown(out)


@pytest.fixture
def phone(hub):
    p = Phone()
    yield p
    p.close()


@pytest.fixture
def ami(asterisk):
    client = Ami()
    yield client
    client.close()


NOTIFY_HEAD = """NOTIFY sip:{user}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=z9hG4bK-[pid]-[call_number]-mwihub
From: <sip:vmserver@[local_ip]:[local_port]>;tag=[pid]vm[call_number]
To: <sip:{user}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 NOTIFY
Contact: <sip:vmserver@[local_ip]:[local_port]>
Max-Forwards: 70
{headers}Content-Length: [len]
"""


def send_notify(lines, user="1001", source="127.0.0.2", event="message-summary",
                content_type="application/simple-message-summary", call_id=None, server="127.0.0.1:5060"):
    """Sends one NOTIFY whose body is `lines`, each ended by CRLF (sipp trims blank lines at the
    end), to the Asterisk at `server`; a line may hold bare CRs.
    The body goes through an injection file, so sipp sends its bytes exactly. The same
    `call_id` twice makes the second a retransmission of the first. Returns the answer as
    (status, reason)."""
    # Per process: two test runs on one machine (each with its own sandbox) must not share it.
    work = Path(f"/tmp/res_mwi_hub_notify-{os.getpid()}")
    work.mkdir(exist_ok=True)
    for line in lines:
        assert ";" not in line and "\n" not in line, line
    headers = ""
    if event is not None:
        headers += f"Event: {event}\n"
    if content_type is not None and lines:
        headers += f"Content-Type: {content_type}\n"
    head = NOTIFY_HEAD.format(user=user, headers=headers)
    # sipp drops a line whose keywords all expand to nothing: blank lines are written literally
    # (sipp keeps them unless they end the body).
    fields = [line for line in lines if line]
    body, k = "", 0
    for line in lines:
        if line:
            body += f"[field{k}]\n"
            k += 1
        else:
            body += "\n"
    call_id = call_id or f"mwihub-{time.monotonic_ns()}@{source}"
    message = f"<send retrans=\"500\">\n<![CDATA[\n{head}\n{body}]]>\n</send>\n"
    steps = message + "".join(f'<recv response="{code}" optional="true" next="answered"/>\n'
                              for code in (200, 400, 401, 403, 404, 415, 481, 489, 501))
    steps += '<recv response="500" next="answered"/>\n<label id="answered"/>\n'
    (work / "notify.xml").write_text(
        f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="notify">\n{steps}</scenario>\n')
    (work / "notify.csv").write_bytes(("SEQUENTIAL\n" + ";".join(fields) + "\n").encode("latin-1"))
    log = work / "messages.log"
    log.unlink(missing_ok=True)
    res = subprocess.run(
        ["sipp", server, "-sf", str(work / "notify.xml"), "-inf", str(work / "notify.csv"),
         "-i", source, "-p", "0", "-m", "1", "-nostdin", "-timeout", "10s", "-cid_str", call_id,
         "-trace_msg", "-message_file", str(log)],
        capture_output=True, text=True, timeout=30)
    answers = re.findall(r"^SIP/2\.0 (\d{3}) ([^\r\n]*)", log.read_text(errors="replace") if log.exists() else "",
                         re.M)
    assert len(answers) == 1, (answers, res.stdout + res.stderr)
    return int(answers[0][0]), answers[0][1]


def mwi_state(asterisk, mailbox):
    """(new, old, urgent) cached for `mailbox`, per `mwi show state`; None when none is cached."""
    out = asterisk.cli(f"mwi show state {mailbox}")
    return None if "No MWI state is cached" in out else counts_shown(out)


def counts_shown(out):
    """(new, old, urgent) from the New:/Old:/Urgent: lines of a CLI screen; all three must be there."""
    found = {k: int(v) for k, v in re.findall(r"^\s*(New|Old|Urgent):\s+(-?\d+)", out, re.M)}
    assert set(found) == {"New", "Old", "Urgent"}, out
    return found["New"], found["Old"], found["Urgent"]


def pytest_configure(config):
    config.addinivalue_line("markers", "res_mwi_hub_conf(text): res_mwi_hub.conf while the test's Asterisk runs "
                                       "(read by the fixtures that start one, e.g. test_disk_faults.faulty_disk)")
