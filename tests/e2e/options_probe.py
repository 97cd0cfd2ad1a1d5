"""A SIP client that tells whether Asterisk keeps answering: an OPTIONS every 50 ms over UDP,
with no retransmission, so a request res_pjsip dropped (it drops every new request while a
taskprocessor is over its high-water mark) stays unanswered. An answer counts within a deadline
of 5 s: on a loaded machine (CI's, with both cores busy) an answer can come half a second late
without anything being dropped; the answers later than `slow` (0.5 s) are reported apart. Used
by the overload tests and by `make bench`."""
import re
import socket
import threading
import time
import uuid


class OptionsProbe:
    """Sends an OPTIONS every `interval` s from `source` and records which got no answer within
    `deadline` s. It never retransmits, so a dropped request stays unanswered."""

    def __init__(self, source="127.0.0.4", interval=0.05, deadline=5.0, slow=0.5):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(0.1)
        self.source, self.port = self.sock.getsockname()
        self.interval, self.deadline, self.slow = interval, deadline, slow
        self.sent = {}      # call-id -> send time
        self.answered = {}  # call-id -> first answer time
        self.stop_flag = threading.Event()
        self.threads = [threading.Thread(target=self._send), threading.Thread(target=self._receive)]
        self.started = None

    def _request(self, n, call_id):
        return (f"OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n"
                f"Via: SIP/2.0/UDP {self.source}:{self.port};branch=z9hG4bK-probe-{n}-{call_id[:8]};rport\r\n"
                f"Max-Forwards: 70\r\n"
                f"From: <sip:probe@{self.source}>;tag=probe{n}\r\n"
                f"To: <sip:127.0.0.1:5060>\r\n"
                f"Call-ID: {call_id}\r\n"
                f"CSeq: 1 OPTIONS\r\n"
                f"Content-Length: 0\r\n\r\n").encode()

    def _send(self):
        n = 0
        next_at = time.monotonic()
        while not self.stop_flag.is_set():
            call_id = f"probe-{n}-{uuid.uuid4().hex}@{self.source}"
            self.sent[call_id] = time.monotonic()
            try:
                self.sock.sendto(self._request(n, call_id), ("127.0.0.1", 5060))
            except OSError:
                pass
            n += 1
            next_at += self.interval
            time.sleep(max(0.0, next_at - time.monotonic()))

    def _receive(self):
        while not (self.stop_flag.is_set() and time.monotonic() > self.stopped_at + self.deadline):
            try:
                data = self.sock.recv(65536)
            except OSError:  # timeout, or an ICMP error while Asterisk is down
                continue
            m = re.search(rb"^Call-ID:\s*(\S+)", data, re.M | re.I)
            if m:
                self.answered.setdefault(m.group(1).decode(), time.monotonic())

    def start(self):
        self.started = time.monotonic()
        for t in self.threads:
            t.start()
        return self

    def run_for(self, seconds):
        time.sleep(seconds)
        return self.stop()

    def stop(self):
        self.stopped_at = time.monotonic()
        self.stop_flag.set()
        for t in self.threads:
            t.join(timeout=10)
        self.sock.close()
        return self.report()

    def report(self, since=None, until=None):
        """(sent, [seconds after start of each unanswered request]), for the requests sent
        between `since` and `until` (time.monotonic() values; default: all)."""
        sent = {cid: t for cid, t in list(self.sent.items())
                if (since is None or t >= since) and (until is None or t <= until)}
        answered = dict(self.answered)
        lost = sorted(round(t - self.started, 2) for cid, t in sent.items()
                      if not (cid in answered and answered[cid] - t <= self.deadline))
        return len(sent), lost

    def slow_answers(self):
        """Seconds after start of each request answered within the deadline but later than `slow`."""
        answered = dict(self.answered)
        return sorted(round(t - self.started, 2) for cid, t in list(self.sent.items())
                      if cid in answered and self.slow < answered[cid] - t <= self.deadline)
