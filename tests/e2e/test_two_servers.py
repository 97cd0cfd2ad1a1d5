"""Two Asterisk servers exchanging MWI with res_pjsip_outbound_publish and
res_pjsip_publish_asterisk, each running res_mwi_hub.

Server A is the sandbox Asterisk of every other test (EID 02:00:00:00:00:0a, SIP 5060, AMI
5038); server B a second Asterisk in the same sandbox (tests/sandbox/etc-b: EID
02:00:00:00:00:0b, SIP 5070, AMI 5039), started for this file only. They publish over UDP:
Asterisk ignores every SIP message until it is fully booted, and res_pjsip_publish_asterisk
asks its peers for their states (a refresh) while it loads, before that. Over UDP the
requests and their answers are retransmitted until the restarted server takes them; over
TCP nothing is resent, so the refresh's answer and the states the peer sends back are lost
(and the restarted server's outbound-publish waits about 30 s for the lost answer before it
sends anything else). Order does not suffer: an outbound-publish has one PUBLISH in flight at a time.
A's side of the exchange (A_EXCHANGE) is written into pjsip_two_servers.conf for the time of
these tests and emptied after, so no other test sees PUBLISHes to a B that is not running.

PUBLISHes are counted in each server's full log, from `pjsip set logger on` output. Each count
is read after a marker state has crossed both ways: each server's outbound-publish sends its
PUBLISHes one after the other (the next once the last is answered), in the order the states
were published, so anything an update or an echo of it sends is in the log before the marker.
"""
import itertools
import json
import re
import time

import pytest

from conftest import SANDBOX, WAIT, Ami, Asterisk, LogWatch, Phone, send_notify, stored_counts

A_EID = "02:00:00:00:00:0a"
B_EID = "02:00:00:00:00:0b"
OWN = " (this server)"
B_SIP = "127.0.0.1:5070"
B_AMI_PORT = 5039

# Server A's side of the exchange: the mirror image of etc-b/pjsip.conf's [server-a] objects.
A_EXCHANGE = """
; Server B's PUBLISHes: identified by their From user (server-b), addressed to the
; inbound-publication named by their Request-URI user (server-b).
[server-b]
type = endpoint
context = default
disallow = all
allow = ulaw
transport = transport-udp

[server-b]
type = inbound-publication
endpoint = server-b
event_asterisk-mwi = server-b

[server-b]
type = asterisk-publication
mailbox_state = yes
mailboxstate_publish = server-b

[server-b]
type = outbound-publish
server_uri = sip:server-a@127.0.0.1:5070;transport=udp
from_uri = sip:server-a@127.0.0.1:5060
event = asterisk-mwi
transport = transport-udp
@mailbox_state_filter = @twoserver$

; Phones watching mailboxes that server B's trunk feeds (sipp on 127.0.0.3:5080, 5086).
[phone2200]
type = endpoint
context = default
disallow = all
allow = ulaw
aors = phone2200
mailboxes = 2200@twoserver

[phone2200]
type = aor
max_contacts = 1

[phone2201]
type = endpoint
context = default
disallow = all
allow = ulaw
aors = phone2201
mailboxes = 2201@twoserver

[phone2201]
type = aor
max_contacts = 1
"""
A_EXCHANGE_FILE = SANDBOX / "etc/asterisk/pjsip_two_servers.conf"


class Servers:
    """Servers A and B, their AMI sessions and a watch on each one's log since start."""

    def __init__(self, a, b):
        self.a, self.b = a, b
        self.ami_a, self.ami_b = Ami(), Ami(port=B_AMI_PORT)
        self.markers = itertools.count()

    def watches(self):
        return LogWatch(self.a.full_log), LogWatch(self.b.full_log)

    def settle(self, log_a, log_b):
        """Returns once a state updated on A after everything so far has reached B, and one
        updated on B has reached A: every PUBLISH sent before them is in the logs by then."""
        n = next(self.markers)
        for ami, log, name in ((self.ami_a, log_b, f"marker-a{n}@twoserver"),
                               (self.ami_b, log_a, f"marker-b{n}@twoserver")):
            # Through MWIUpdate, so the marker takes the same path (store, publish queue) as
            # the states under test and cannot overtake them.
            assert ami.action("MWIUpdate", Mailbox=name, NewMessages=1, OldMessages=0)["Response"] == "Success"
            wait_until(lambda: [p for p in publishes(log.text(), "Received") if p.get("uniqueid") == name],
                       f"the PUBLISH of {name}")

    def close(self):
        self.ami_a.close()
        self.ami_b.close()


def wait_until(condition, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what} in {timeout} s")
        time.sleep(0.1)


PJSIP_LOGGED_REQUEST = re.compile(
    r"<--- (Received|Transmitting) SIP request \(\d+ bytes\) (?:from|to) \S+ --->\n"
    r"(PUBLISH .*?)(?=\n\[\d{4}-\d\d-\d\d |\Z)", re.S)


def publishes(log_text, direction):
    """The JSON bodies of the PUBLISHes a server's log shows it `direction` ("Received" or
    "Transmitting"), in order, each once (a retransmission has its original's Via branch);
    {} for one without a body (an expiry refresh)."""
    found = {}
    for m in PJSIP_LOGGED_REQUEST.finditer(log_text.replace("\r\n", "\n")):
        if m.group(1) != direction:
            continue
        head, _, body = m.group(2).partition("\n\n")
        branch = re.search(r"^Via:.*?;branch=([^;\s]+)", head, re.M | re.I).group(1)
        found.setdefault(branch, json.loads(body) if body.strip() else {})
    return list(found.values())


def publishes_of(log, direction, mailbox):
    return [p for p in publishes(log.text(), direction) if p.get("uniqueid") == mailbox]


def states_shown(server, mailbox):
    """{eid: (new, old)} of the state of `mailbox` cached on `server` ({} if none), per `mwi
    list states`, which shows the EID of the server that published it ("... (this server)" for
    the server's own). Asterisk keeps one state per mailbox, whichever server's came last."""
    out = server.cli(f"mwi list states like ^{re.escape(mailbox)}$")
    return {m.group(3).strip(): (int(m.group(1)), int(m.group(2)))
            for m in re.finditer(rf"^{re.escape(mailbox)}\s+(\d+)\s+(\d+)\s+\d+\s+(.+)$", out, re.M)}


def wait_state(server, mailbox, expected, timeout=WAIT):
    """Waits until `server` holds exactly the states `expected` ({eid: (new, old)}) of `mailbox`."""
    deadline = time.monotonic() + timeout
    while (got := states_shown(server, mailbox)) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{mailbox} on {server.instance or 'a'}: states {got}, expected {expected}")
        time.sleep(0.1)


def reload_pjsip(server):
    """Applies pjsip.conf, outbound-publishes included (res_pjsip's reload leaves them alone)."""
    for module in ("res_pjsip.so", "res_pjsip_outbound_publish.so"):
        out = server.cli(f"module reload {module}")
        assert "reloaded successfully" in out, out


@pytest.fixture(scope="module")
def servers(asterisk):
    """Server A (with res_mwi_hub) wired to a freshly started server B, both logging SIP."""
    a = asterisk
    if a.pid() is None:
        a.start()
    a.ensure_loaded()
    b = Asterisk("b")
    b.control("reset-state")
    b_exits_before = len(b.exits())
    # A first: a PUBLISH that finds its peer unconfigured is challenged ("No matching
    # endpoint"), and the outbound-publish, having no credentials, then stalls; one to a
    # server that is down just fails, and B's refresh at its start brings A's states over.
    A_EXCHANGE_FILE.write_text(A_EXCHANGE)
    reload_pjsip(a)
    assert "PJSIP Logging enabled" in a.cli("pjsip set logger on")
    b.start()
    assert b.module_status() == "Running"
    assert "PJSIP Logging enabled" in b.cli("pjsip set logger on")
    s = Servers(a, b)
    yield s
    s.close()
    b.stop()
    A_EXCHANGE_FILE.write_text("; emptied after the two-server tests\n")
    reload_pjsip(a)
    a.cli("pjsip set logger off")
    crashed = [(p, st) for p, st in b.exits()[b_exits_before:] if st > 128 and st != 128 + 9]
    assert not crashed, f"server B crashed: {crashed}"


@pytest.fixture
def phone_b(servers, request):
    p = Phone(request.param, port=5082, server=B_SIP)
    yield p
    p.close()


def update(ami, mailbox, new, old):
    r = ami.action("MWIUpdate", Mailbox=mailbox, NewMessages=new, OldMessages=old)
    assert r["Response"] == "Success", r


@pytest.mark.parametrize("phone_b", ["phone2100"], indirect=True)
def test_update_on_a_lights_phone_on_b_once_without_echo(servers, phone_b):
    log_a, log_b = servers.watches()
    update(servers.ami_a, "2100@twoserver", new=3, old=1)
    phone_b.wait_for_notify("Messages-Waiting: yes", "Voice-Message: 3/1")
    # B holds A's state as A's, and not in its own store.
    wait_state(servers.b, "2100@twoserver", {A_EID: (3, 1)})
    assert stored_counts(servers.b, "2100@twoserver") is None
    servers.settle(log_a, log_b)
    assert len(publishes_of(log_a, "Transmitting", "2100@twoserver")) == 1
    assert publishes_of(log_b, "Received", "2100@twoserver") == [
        {"type": "mailboxstate", "uniqueid": "2100@twoserver", "old": 1, "new": 3, "eid": A_EID}]
    # No echo: B sends nothing back for it, A receives nothing for it.
    assert publishes_of(log_b, "Transmitting", "2100@twoserver") == []
    assert publishes_of(log_a, "Received", "2100@twoserver") == []
    assert states_shown(servers.a, "2100@twoserver") == {A_EID + OWN: (3, 1)}


def test_notify_on_b_lights_phone_on_a_once_without_echo(servers):
    phone_a = Phone("phone2200", port=5080)
    try:
        log_a, log_b = servers.watches()
        status = send_notify(["Messages-Waiting: yes", "Message-Account: sip:2200@vm.example",
                              "Voice-Message: 2/5"], user="2200", server=B_SIP)
        assert status == (200, "OK"), status
        phone_a.wait_for_notify("Messages-Waiting: yes", "Voice-Message: 2/5")
        # B stored it (its trunk's NOTIFY); A holds B's state as B's, not in its store.
        assert stored_counts(servers.b, "2200@twoserver") == (2, 5, 0)
        wait_state(servers.a, "2200@twoserver", {B_EID: (2, 5)})
        assert states_shown(servers.b, "2200@twoserver") == {B_EID + OWN: (2, 5)}
        assert stored_counts(servers.a, "2200@twoserver") is None
        assert "2200@twoserver" not in servers.a.cli("mwi list all")
        servers.settle(log_a, log_b)
        assert publishes_of(log_a, "Received", "2200@twoserver") == [
            {"type": "mailboxstate", "uniqueid": "2200@twoserver", "old": 5, "new": 2, "eid": B_EID}]
        assert len(publishes_of(log_b, "Transmitting", "2200@twoserver")) == 1
        assert publishes_of(log_a, "Transmitting", "2200@twoserver") == []
        assert publishes_of(log_b, "Received", "2200@twoserver") == []
    finally:
        phone_a.close()


@pytest.mark.parametrize("phone_b", ["phone2400"], indirect=True)
def test_b_restarted_gets_a_states_again(servers, phone_b):
    log_a, _ = servers.watches()
    update(servers.ami_a, "2400@twoserver", new=4, old=2)
    phone_b.wait_for_notify("Voice-Message: 4/2")
    servers.b.stop()
    wait_until(lambda: servers.b.pid() is None, "server B stopped")
    seen_before = len(phone_b.notify_bodies())
    servers.ami_b.close()
    servers.b.control("start")
    assert "PJSIP Logging enabled" in servers.b.cli("pjsip set logger on")
    servers.ami_b = Ami(port=B_AMI_PORT)
    # B's cache started empty: the state is back because B asked A for everything.
    wait_until(lambda: [p for p in publishes(log_a.text(), "Received") if p.get("type") == "refresh"],
               "B's refresh request at A")
    wait_state(servers.b, "2400@twoserver", {A_EID: (4, 2)})
    wait_until(lambda: [b for b in phone_b.notify_bodies()[seen_before:] if "voice-message: 4/2" in b.lower()],
               "a NOTIFY with 4/2 to B's phone after B's restart")
    assert stored_counts(servers.b, "2400@twoserver") is None
    _, log_b = servers.watches()
    servers.settle(log_a, log_b)
    # A's answer to the refresh is not sent back.
    assert publishes_of(log_a, "Received", "2400@twoserver") == []


@pytest.mark.parametrize("phone_b", ["phone2300"], indirect=True)
def test_delete_on_a_turns_lamp_on_b_off(servers, phone_b):
    log_a, log_b = servers.watches()
    update(servers.ami_a, "2300@twoserver", new=6, old=1)
    phone_b.wait_for_notify("Messages-Waiting: yes", "Voice-Message: 6/1")
    r = servers.ami_a.action("MWIDelete", Mailbox="2300@twoserver")
    assert r["Response"] == "Success", r
    phone_b.wait_for_notify("Messages-Waiting: no", "Voice-Message: 0/0")
    # A forgot it (store and cache); B keeps A's last state, 0/0: deletes are not forwarded.
    assert stored_counts(servers.a, "2300@twoserver") is None
    wait_state(servers.a, "2300@twoserver", {})
    wait_state(servers.b, "2300@twoserver", {A_EID: (0, 0)})
    servers.settle(log_a, log_b)
    assert [(p["new"], p["old"]) for p in publishes_of(log_b, "Received", "2300@twoserver")] == [(6, 1), (0, 0)]
    assert publishes_of(log_a, "Received", "2300@twoserver") == []


def test_delete_on_b_turns_lamp_on_a_off(servers):
    """The other way round, for a mailbox B's trunk fed: B's delete reaches A as 0/0."""
    phone_a = Phone("phone2201", port=5086)
    try:
        log_a, log_b = servers.watches()
        status = send_notify(["Messages-Waiting: yes", "Message-Account: sip:2201@vm.example",
                              "Voice-Message: 7/0"], user="2201", server=B_SIP)
        assert status == (200, "OK"), status
        phone_a.wait_for_notify("Messages-Waiting: yes", "Voice-Message: 7/0")
        r = servers.ami_b.action("MWIDelete", Mailbox="2201@twoserver")
        assert r["Response"] == "Success", r
        phone_a.wait_for_notify("Messages-Waiting: no", "Voice-Message: 0/0")
        assert stored_counts(servers.b, "2201@twoserver") is None
        wait_state(servers.b, "2201@twoserver", {})
        wait_state(servers.a, "2201@twoserver", {B_EID: (0, 0)})
        servers.settle(log_a, log_b)
        assert [(p["new"], p["old"]) for p in publishes_of(log_a, "Received", "2201@twoserver")] == [(7, 0), (0, 0)]
        assert publishes_of(log_b, "Received", "2201@twoserver") == []
    finally:
        phone_a.close()
