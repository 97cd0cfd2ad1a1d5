"""A remote voicemail server for the outbound MWI subscription tests: sipp as UAS (one of the
sipp/vm_server_*.xml scenarios) on 127.0.0.1:<port>, recording every message it sends and
receives (-trace_msg) and its <log> actions (-trace_logs), which this module parses.

    vm = VoicemailServer()
    vm.start("vm_server_auth.xml", port=15070, transport="t1",
             keys={"user": "vmuser", "password": "secret", "expires": 60},
             bodies=[mwi(3, 1), mwi(4, 1)])
    ...configure the subscriber to sip:1001@127.0.0.1:15070;transport=tcp...
    refreshes = vm.wait_for(lambda reqs: len([r for r in reqs if r.method == "SUBSCRIBE"]) >= 5)
    gaps = [b.t - a.t for a, b in zip(refreshes, refreshes[1:])]
    vm.stop()

Timestamps are the wall-clock times sipp writes above each traced message (microseconds):
differences between them are what tests should use (refresh intervals, backoff gaps).
Ports: never 5060/5061 (the sandbox Asterisk), 5038 or 8088; tests use 15060 and up.
"""
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from conftest import SIPP_DIR, WAIT

# Keys every scenario reads, with the values used when a test gives none. sipp refuses a
# scenario naming a -key it was not given, so every key a scenario names is passed.
BASE_KEYS = {"expires": 60, "min_expires": 120}
SCENARIO_KEYS = {
    "vm_server_auth.xml": {"user": "vmuser", "password": "vmsecret", "realm": "vm.test",
                           "challenge_refresh": 0, "notify_refresh": 0},
    "vm_server_fail_then_ok.xml": {"fails": 3, "code": 503,
                                   "retry_after": 0},
    "vm_server_min_expires.xml": {},
    "vm_server_refresh_481.xml": {},
    "vm_server_silent.xml": {},
    "vm_server_terminate.xml": {"state": "terminated;reason=deactivated", "terminate_after": 1000},
    "vm_server_bad_body.xml": {},
    "vm_server_notify_first.xml": {},
}
BODY_FIELDS = 6  # injection fields per body: body k is fields 6k .. 6k+5


def mwi(new, old, urgent_new=0, urgent_old=0, waiting=None):
    """The lines of a simple-message-summary body."""
    if waiting is None:
        waiting = "yes" if new else "no"
    return [f"Messages-Waiting: {waiting}", f"Voice-Message: {new}/{old} ({urgent_new}/{urgent_old})"]


def sipp_supports_tls():
    """Whether this host's sipp can do TLS (-t l1). Debian's sip-tester 3.6.1 is built without
    OpenSSL ("To use a TLS transport you must compile SIPp with OpenSSL"): tests over TLS
    should skip when this is False."""
    res = subprocess.run(["sipp", "-sn", "uas", "-t", "l1", "-i", "127.0.0.1", "-p", "0", "-m", "1",
                          "-timeout", "1s", "-nostdin", "-bg"], capture_output=True, text=True, timeout=30)
    return "compile SIPp with OpenSSL" not in res.stdout + res.stderr


def make_cert(directory):
    """A self-signed certificate and key for 127.0.0.1 in `directory`: (cert path, key path)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "vm_server.crt", directory / "vm_server.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class SipMessage(NamedTuple):
    t: float            # wall-clock seconds (sipp's trace timestamp)
    direction: str      # "received" or "sent"
    transport: str      # "UDP", "TCP" or "TLS"
    first_line: str
    headers: list       # [(name, value)] in order
    body: str

    @property
    def method(self):
        """The request method, or None for a response."""
        return None if self.first_line.startswith("SIP/2.0") else self.first_line.split(" ", 1)[0]

    @property
    def status(self):
        """The response code, or None for a request."""
        m = re.match(r"SIP/2\.0 (\d{3})", self.first_line)
        return int(m.group(1)) if m else None

    def header(self, name):
        """The first value of header `name` (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class Request(NamedTuple):
    t: float
    method: str
    call_id: str
    cseq: int
    expires: int        # None when the request had no Expires header
    has_auth: bool      # it carried Authorization or Proxy-Authorization
    message: SipMessage


# "UDP message received [412] bytes :" and "UDP message sent (333 bytes):" under a dated rule.
_BLOCK = re.compile(r"^-{20,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\n(\w+) message (received|sent) "
                    r"(?:\[\d+\] bytes :|\(\d+ bytes\):)\n\n", re.M)


def parse_trace(text):
    """The complete messages in a sipp -trace_msg file, oldest first. A message still being
    written (fewer body bytes than its Content-Length) is left out."""
    found = []
    starts = list(_BLOCK.finditer(text))
    for i, m in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        raw = text[m.end():end]
        # sipp writes blocks for unexpected messages without a date line; cut them off.
        cut = re.search(r"\n-{20,}\n", raw)
        if cut:
            raw = raw[:cut.start()]
        head, sep, body = raw.partition("\r\n\r\n")
        if not sep:
            continue
        lines = head.split("\r\n")
        headers = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        length = next((v for k, v in headers if k.lower() in ("content-length", "l")), "0")
        try:
            length = int(length)
        except ValueError:
            length = 0
        if len(body.encode("latin-1", "replace")) < length:
            continue
        body = body[:length] if length else ""
        stamp = time.mktime(time.strptime(m.group(1).split(".")[0], "%Y-%m-%d %H:%M:%S"))
        stamp += float("0." + m.group(1).split(".")[1])
        found.append(SipMessage(stamp, m.group(3), m.group(2), lines[0], headers, body))
    return found


class VoicemailServer:
    """sipp playing the remote voicemail server, in the background."""

    def __init__(self, workdir=None):
        self.work = Path(workdir or tempfile.mkdtemp(prefix="res_mwi_hub_vm_server_"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.proc = None
        self.trace = self.work / "messages.log"
        self.logfile = self.work / "actions.log"
        self.errfile = self.work / "errors.log"
        self.outfile = self.work / "sipp.out"

    def start(self, scenario, port, transport="u1", keys=None, bodies=None, calls=1, ip="127.0.0.1",
              tls=None, timeout=None, inj=None, extra=()):
        """Runs `scenario` (a file name in sipp/ or a path) bound to ip:port. transport is sipp's
        -t: "u1" (UDP), "t1" (TCP) or "l1" (TLS; `tls` is (cert, key), see make_cert, made in
        the work directory when not given). `calls` is -m: sipp ends after that many dialogs
        (each new Call-ID is one); None for no limit (then stop() ends it). `bodies` is a
        list of NOTIFY bodies, each a list of lines (no ';', at most 6 lines): body 0 is the
        first NOTIFY of a dialog, body 1 the later ones (defaults: mwi(3, 1) and body 0).
        `inj` replaces the generated injection file. `timeout` is sipp's global -timeout in
        seconds. Returns once sipp listens."""
        assert self.proc is None, "already started"
        path = Path(scenario) if os.sep in str(scenario) else SIPP_DIR / scenario
        assert path.exists(), path
        self.scenario = path.name
        values = dict(BASE_KEYS)
        values.update(SCENARIO_KEYS.get(path.name, {}))
        values.update(keys or {})
        if inj is None:
            inj = self.work / "bodies.csv"
            bodies = list(bodies or [mwi(3, 1)])
            if len(bodies) == 1:
                bodies.append(bodies[0])
            fields = []
            for body in bodies:
                assert len(body) <= BODY_FIELDS, body
                for line in body:
                    assert ";" not in line and "\n" not in line and "\r" not in line, line
                fields += list(body) + [""] * (BODY_FIELDS - len(body))
            inj.write_bytes(("SEQUENTIAL\n" + ";".join(fields) + "\n").encode("latin-1"))
        for f in (self.trace, self.logfile, self.errfile):
            f.unlink(missing_ok=True)
        cmd = ["sipp", "-sf", str(path), "-i", ip, "-p", str(port), "-t", transport, "-nostdin",
               "-inf", str(inj), "-trace_msg", "-message_file", str(self.trace),
               "-trace_logs", "-log_file", str(self.logfile),
               "-trace_err", "-error_file", str(self.errfile),
               # An unexpected message aborts the dialog (and shows in the exit status), but no
               # BYE is sent for it: there is no INVITE dialog here.
               "-default_behaviors", "all,-bye"]
        if calls is not None:
            cmd += ["-m", str(calls)]
        if timeout is not None:
            cmd += ["-timeout", f"{timeout}s"]
        if transport.startswith("l"):
            cert, key = tls or make_cert(self.work)
            cmd += ["-tls_cert", str(cert), "-tls_key", str(key)]
        for k, v in values.items():
            cmd += ["-key", k, str(v)]
        cmd += list(extra)
        self.cmd = cmd
        self.port = port
        self.out = open(self.outfile, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.out, stderr=subprocess.STDOUT, cwd=self.work)
        self._wait_listening(ip, port, transport)
        return self

    def _wait_listening(self, ip, port, transport):
        table = "/proc/net/udp" if transport.startswith("u") else "/proc/net/tcp"
        addr = "".join(f"{int(b):02X}" for b in reversed(ip.split("."))) + f":{port:04X}"
        deadline = time.monotonic() + WAIT
        while True:
            rows = [l.split() for l in Path(table).read_text().splitlines()[1:]]
            if any(r[1] == addr and (table.endswith("udp") or r[3] == "0A") for r in rows):
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"sipp exited with {self.proc.returncode} before listening on "
                                     f"{ip}:{port}:\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"sipp never listened on {ip}:{port} ({transport})")
            time.sleep(0.05)

    def output(self):
        return self.outfile.read_text(errors="replace") if self.outfile.exists() else ""

    def messages(self):
        """Every complete message sipp sent or received so far, oldest first."""
        if not self.trace.exists():
            return []
        return parse_trace(self.trace.read_bytes().decode("latin-1"))  # CRLFs kept

    def requests(self, method=None):
        """The requests received so far (retransmissions included), oldest first, as Request
        records; only those of `method` when given."""
        found = []
        for m in self.messages():
            if m.direction != "received" or m.method is None:
                continue
            if method and m.method != method:
                continue
            cseq = m.header("CSeq") or "0"
            expires = m.header("Expires")
            found.append(Request(m.t, m.method, m.header("Call-ID") or m.header("i"),
                                 int(cseq.split()[0]), int(expires) if expires is not None else None,
                                 m.header("Authorization") is not None
                                 or m.header("Proxy-Authorization") is not None, m))
        return found

    def subscribes(self):
        return self.requests("SUBSCRIBE")

    def responses(self, direction="sent"):
        """The responses sipp sent (to SUBSCRIBEs) or, direction="received", got (to NOTIFYs)."""
        return [m for m in self.messages() if m.direction == direction and m.status is not None]

    def log_lines(self):
        """The lines the scenario's <log> actions wrote ("<clock_tick ms> text")."""
        return self.logfile.read_text(errors="replace").splitlines() if self.logfile.exists() else []

    def failures(self):
        return [l for l in self.log_lines() if "FAIL:" in l]

    def wait_for(self, predicate, timeout=WAIT, what="condition", expected_failure=None):
        """Polls the received requests until predicate(requests) is truthy and returns its
        value; raises AssertionError with the last messages when `timeout` passes, when the
        scenario logged a failure (other than ones containing `expected_failure`, for tests
        that mean to fail, such as wrong credentials), or when sipp exited without the
        condition holding."""
        deadline = time.monotonic() + timeout
        while True:
            reqs = self.requests()
            result = predicate(reqs)
            if result:
                return result
            problem = None
            failures = [f for f in self.failures()
                        if expected_failure is None or expected_failure not in f]
            if failures:
                problem = f"the scenario failed: {failures}"
            elif self.proc is not None and self.proc.poll() is not None:
                problem = f"sipp exited with {self.proc.returncode}"
            elif time.monotonic() > deadline:
                problem = f"not within {timeout} s"
            if problem:
                raise AssertionError(f"voicemail server: {what}: {problem}; last messages:\n"
                                     + self.describe())
            time.sleep(0.05)

    def describe(self, last=8):
        """The last messages, one summary line each, for failure reports."""
        lines = []
        for m in self.messages()[-last:]:
            lines.append(f"  {m.t:.3f} {m.direction:8} {m.first_line} | Call-ID {m.header('Call-ID')}"
                         f" | CSeq {m.header('CSeq')} | Expires {m.header('Expires')}"
                         f" | Subscription-State {m.header('Subscription-State')}")
        return "\n".join(lines) or "  (none)"

    def wait_exit(self, timeout=WAIT):
        """sipp's exit status once it ends by itself (0: every dialog completed as scripted)."""
        return self.proc.wait(timeout=timeout)

    @property
    def returncode(self):
        return None if self.proc is None else self.proc.poll()

    def stop(self):
        """Ends sipp (if it still runs) and returns its exit status. sipp catches SIGTERM and
        exits with its own status (0 when no dialog failed so far), so this does not show
        whether the scenario completed: wait_exit() does, for a scenario run with `calls`."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            # Not SIGUSR1: sipp would wait for its open dialogs (subscriptions) to end first.
            # sipp writes each traced message as it goes, so nothing is lost.
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.out.close()
        return self.proc.returncode
