"""Incoming unsolicited MWI: message-summary NOTIFYs from PJSIP endpoints, sent by sipp.

Endpoints (tests/sandbox/etc/pjsip.conf): vmtrunk (127.0.0.2) has
incoming_mwi_mailbox=${ACCOUNT}@remote, so each NOTIFY goes to <account user>@remote;
vmfixed (127.0.0.4) has 3000@default; vmauth (127.0.0.5) must authenticate; vmnomap
(127.0.0.6) has no mapping. Results are checked as an admin sees them: AMI MessageWaiting
events, `mwi show state`, `mwi show mailbox` and the NOTIFYs phones receive.
"""
import itertools
import threading
import time

import pytest

from conftest import WAIT, LogWatch, Phone, message_waiting, mwi_state, newest_arrival, send_notify, sipp, stored_counts

_users = itertools.count(2000)


def fresh_user():
    """A mailbox no other test touched: <user>@remote."""
    return str(next(_users) + int(time.time()) % 1000 * 100)


# Every body in the notes' list of the built-in parser's failures, with what RFC 3842 says.
RFC_BODIES = [
    # (name, body lines, expected (new, old, urgent))
    ("status only", ["Messages-Waiting: yes"], (1, 0, 0)),
    ("status, blank line, extension header", ["Messages-Waiting: yes", "", "X-Note: none"], (1, 0, 0)),
    ("space before colon", ["Messages-Waiting: yes", "Voice-Message : 3/1"], (3, 1, 0)),
    ("spaces around slash", ["Messages-Waiting: yes", "Voice-Message: 3 / 1"], (3, 1, 0)),
    ("bare CR line ends", ["Messages-Waiting: yes\rVoice-Message: 2/1 (1/0)\r"], (2, 1, 1)),
    ("fax only", ["Messages-Waiting: yes", "Fax-Message: 2/0"], (1, 0, 0)),
    ("urgent counts", ["Messages-Waiting: yes", "Voice-Message: 5/2 (3/1)"], (5, 2, 3)),
    ("case and whitespace", ["messages-waiting:YES", "VOICE-MESSAGE:\t7/0 ( 1 / 0 )"], (7, 0, 1)),
    ("lines after the blank line are not counts",
     ["Messages-Waiting: yes", "Voice-Message: 4/0", "", "Voice-Message: 9/9"], (4, 0, 0)),
    ("Messages-Waiting no", ["Messages-Waiting: no"], (0, 0, 0)),
    ("counts above 2^31-1 saturate", ["Messages-Waiting: yes", "Voice-Message: 2147483648/4294967295"],
     (2147483647, 2147483647, 0)),
    ("Message-Account names the mailbox",
     ["Messages-Waiting: yes", "Message-Account: sip:{user}@vm.example", "Voice-Message: 6/0"], (6, 0, 0)),
]


@pytest.mark.parametrize("name,lines,expected", RFC_BODIES, ids=[b[0] for b in RFC_BODIES])
def test_rfc_bodies_publish_the_right_counts(hub, ami, name, lines, expected):
    user = fresh_user()
    lines = [l.replace("{user}", user) for l in lines]
    # With a Message-Account the Request-URI user must not matter.
    ruri = "9999" if any("Message-Account" in l for l in lines) else user
    mailbox = f"{user}@remote"
    status = send_notify(lines, user=ruri)
    assert status == (200, "OK"), (name, status)
    ev = ami.wait_event(message_waiting(mailbox))
    assert (int(ev["New"]), int(ev["Old"])) == expected[:2], ev
    assert mwi_state(hub, mailbox) == expected
    assert stored_counts(hub, mailbox) == expected
    show = hub.cli(f"mwi show mailbox {mailbox}")
    assert "NOTIFY from endpoint vmtrunk" in show, show


MALFORMED = [
    ("negative count", ["Messages-Waiting: yes", "Voice-Message: -1/0"], "negative"),
    ("count above 2^32-1", ["Messages-Waiting: yes", "Voice-Message: 4294967296/0"], "larger than"),
    ("no Messages-Waiting", ["Voice-Message: 3/1"], "no Messages-Waiting"),
    ("bad yes/no", ["Messages-Waiting: maybe"], "yes or no"),
    ("not a header", ["Messages-Waiting: yes", "Voice-Message 3/1"], "not a 'Name: value' header"),
    ("old count missing", ["Messages-Waiting: yes", "Voice-Message: 3"], "new/old"),
    ("control character", ["Messages-Waiting: yes", "Voice-Message: 3/1\x01"], "control"),
    ("second Voice-Message", ["Messages-Waiting: yes", "Voice-Message: 1/0", "Voice-Message: 2/0"], "second"),
    ("Message-Account not a URI", ["Messages-Waiting: yes", "Message-Account: 1001"], "absolute URI"),
    ("Message-Account too long", ["Messages-Waiting: yes", "Message-Account: sip:" + "1" * 600 + "@h"],
     "longer than"),
    ("body too large", ["Messages-Waiting: yes"] + ["X-Pad: " + "p" * 990] * 9, "larger than 8192"),
]


@pytest.mark.parametrize("name,lines,reason", MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_bodies_answer_400_and_publish_nothing(hub, name, lines, reason):
    user = fresh_user()
    status, text = send_notify(lines, user=user)
    assert status == 400 and reason in text, (name, status, text)
    assert mwi_state(hub, f"{user}@remote") is None
    assert f"{user}@remote" not in hub.cli("mwi list all")


def test_other_refusals(hub):
    # Event message-summary without a summary body.
    user = fresh_user()
    assert send_notify(["hello"], user=user, content_type="text/plain")[0] == 400
    # An account user that cannot be a mailbox id.
    assert send_notify(["Messages-Waiting: yes", "Message-Account: sip:a%40b@vm.example"], user=user)[0] == 400
    assert mwi_state(hub, f"{user}@remote") is None
    # A NOTIFY of another event package is not ours (Asterisk answers it; nothing published).
    status = send_notify(["Messages-Waiting: yes"], user=user, event="presence", content_type="text/plain")
    assert status[0] != 200
    assert mwi_state(hub, f"{user}@remote") is None


def test_message_account_lights_the_right_phone(hub):
    phone1 = Phone("phone1001", 5064)
    phone2 = Phone("phone1002", 5066)
    try:
        hub.cli("mwi delete mailbox 1001@remote")
        hub.cli("mwi delete mailbox 1002@remote")
        before2 = len(phone2.notify_bodies())
        assert send_notify(["Messages-Waiting: yes", "Message-Account: sip:1001@vm.example",
                            "Voice-Message: 3/1"], user="trunk") == (200, "OK")
        phone1.wait_for_notify("Messages-Waiting: yes", "Voice-Message: 3/1")
        assert send_notify(["Messages-Waiting: yes", "Message-Account: sip:1002@vm.example",
                            "Voice-Message: 2/0"], user="trunk") == (200, "OK")
        phone2.wait_for_notify("Messages-Waiting: yes", "Voice-Message: 2/0")
        assert mwi_state(hub, "1001@remote") == (3, 1, 0)
        assert mwi_state(hub, "1002@remote") == (2, 0, 0)
        # Each phone got only its own mailbox's counts: phone2's 2/0 came after 1001's 3/1 was
        # published, and a third NOTIFY for 1001 (4/1) reaching phone1 follows 1002's 2/0.
        assert not any("voice-message: 3/1" in b.lower() for b in phone2.notify_bodies()[before2:])
        assert send_notify(["Messages-Waiting: yes", "Message-Account: sip:1001@vm.example",
                            "Voice-Message: 4/1"], user="trunk") == (200, "OK")
        phone1.wait_for_notify("Voice-Message: 4/1")
        assert not any("voice-message: 2/0" in b.lower() for b in phone1.notify_bodies())
    finally:
        phone1.close()
        phone2.close()


def test_a_retransmission_is_answered_but_published_once(hub, ami):
    user = fresh_user()
    mailbox = f"{user}@remote"
    call_id = f"retrans-{user}@127.0.0.2"
    assert send_notify(["Messages-Waiting: yes", "Voice-Message: 4/0"], user=user, call_id=call_id) == (200, "OK")
    assert ami.wait_event(message_waiting(mailbox))["New"] == "4"
    # The same request again (same Call-ID and CSeq): answered again, not published again,
    # even though its body now differs (a retransmission is the same request).
    assert send_notify(["Messages-Waiting: yes", "Voice-Message: 5/0"], user=user, call_id=call_id) == (200, "OK")
    assert mwi_state(hub, mailbox) == (4, 0, 0)
    # A new request (new Call-ID) is published; before it, nothing was for this mailbox.
    assert send_notify(["Messages-Waiting: yes", "Voice-Message: 6/0"], user=user) == (200, "OK")
    seen = [m["New"] for m in ami.events_until(lambda m: message_waiting(mailbox)(m) and m["New"] == "6")
            if message_waiting(mailbox)(m)]
    assert seen == ["6"], seen
    # A refused request's retransmission gets the same status and reason.
    bad = f"retrans-bad-{user}@127.0.0.2"
    first = send_notify(["Messages-Waiting: maybe"], user=user, call_id=bad)
    assert first[0] == 400 and "yes or no" in first[1], first
    assert send_notify(["Messages-Waiting: maybe"], user=user, call_id=bad) == first


def test_unidentified_or_unauthenticated_sources_publish_nothing(hub, ami):
    user = fresh_user()
    body = ["Messages-Waiting: yes", "Voice-Message: 8/0"]
    # 127.0.0.9 matches no endpoint; vmauth (127.0.0.5) requires authentication.
    for source, refusal in (("127.0.0.9", 401), ("127.0.0.5", 401)):
        status, _ = send_notify(body, user=user, source=source)
        assert status == refusal, (source, status)
    assert mwi_state(hub, f"{user}@remote") is None
    # The first MessageWaiting for the mailbox is the one from vmtrunk that follows.
    assert send_notify(["Messages-Waiting: yes", "Voice-Message: 9/0"], user=user) == (200, "OK")
    mine = message_waiting(f"{user}@remote")
    seen = [m["New"] for m in ami.events_until(mine) if mine(m)]
    assert seen == ["9"], seen


def test_endpoint_without_mapping_is_answered_by_asterisk(hub):
    user = fresh_user()
    log = LogWatch()
    assert send_notify(["Messages-Waiting: yes", "Voice-Message: 1/0"], user=user, source="127.0.0.6")[0] == 404
    assert mwi_state(hub, f"{user}@remote") is None
    assert not log.our_errors()


# The ordering tests send over one TCP connection: what is sent last is received last, so only
# pjsip's workers (which run NOTIFYs of different Call-IDs in parallel) can make a state stale.
# They run on the test build, whose side record of the newest-received NOTIFY
# (`newest_arrival`) checks that premise, and whose arrival-order check can be switched off
# (RES_MWI_HUB_ARRIVAL_CHECK=off) to watch them fail.

class PublishedCounts(threading.Thread):
    """Reads, while a burst runs, the New count of every MessageWaiting event for `mailbox` (in
    publish order) until one carries `last`. Over TCP a NOTIFY received later carries a
    higher count, so newest-wins means these only ever grow: one step back is a stale state
    published, even if a later NOTIFY put it right again."""

    def __init__(self, ami, mailbox, last):
        super().__init__()
        self.ami, self.mailbox, self.last = ami, mailbox, last
        self.news, self.error = [], None
        self.start()

    def run(self):
        mine = message_waiting(self.mailbox)
        try:
            for m in self.ami.events_until(lambda m: mine(m) and m["New"] == str(self.last)):
                if mine(m) and int(m["New"]) > 0:   # 0/0: the delete before the burst
                    self.news.append(int(m["New"]))
        except Exception as e:  # noqa: BLE001 - reported by steps_back
            self.error = e

    def steps_back(self):
        self.join(timeout=WAIT)
        assert not self.is_alive() and self.error is None, f"never saw New {self.last}: {self.error!r}"
        return [(a, b) for a, b in zip(self.news, self.news[1:]) if b <= a]


def test_last_of_20000_notifies_wins(ordering_hub, ami):
    """20,000 NOTIFYs with increasing counts at 2,000/s over TCP: pjsip workers run them in
    parallel, yet every published state is newer than the one before, and the final state,
    and a NOTIFY to the phone, carry the last count sent."""
    hub = ordering_hub
    phone = Phone("phone1001", 5064)
    try:
        hub.cli("mwi delete mailbox 1001@remote")
        published = PublishedCounts(ami, "1001@remote", 20000)
        res = sipp("vm_notify.xml", "-s", "1001", calls=20000, rate=2000, timeout=120, transport="tcp")
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        assert published.steps_back() == []
        # Every NOTIFY is answered (sipp waited for all 20,000 200s) and the last sent was the
        # last received: the state must be its counts.
        assert newest_arrival(hub, "1001@remote") == (20000, 2, 0)
        assert stored_counts(hub, "1001@remote") == (20000, 2, 0)
        assert mwi_state(hub, "1001@remote") == (20000, 2, 0)
        # The phone gets the last count. Not necessarily as the last NOTIFY it receives: that leg
        # is UDP, where Asterisk's retransmission of an older NOTIFY can arrive after the newest
        # (seen on a clean-clone run), and unsolicited MWI NOTIFYs carry random CSeqs.
        phone.wait_for_notify("Voice-Message: 20000/2")
    finally:
        phone.close()


def test_last_of_a_burst_wins_every_time(ordering_hub, ami):
    """5,000 NOTIFYs over TCP as fast as sipp sends them, three times: every published state
    is newer than the one before, and the last count sent is the stored and published state
    after every burst."""
    hub = ordering_hub
    for run in range(3):
        hub.cli("mwi delete mailbox 1003@remote")
        published = PublishedCounts(ami, "1003@remote", 5000)
        res = sipp("vm_notify.xml", "-s", "1003", calls=5000, rate=20000, timeout=60, transport="tcp")
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        assert published.steps_back() == [], run
        assert newest_arrival(hub, "1003@remote") == (5000, 2, 0), run
        assert (stored_counts(hub, "1003@remote"), mwi_state(hub, "1003@remote")) == ((5000, 2, 0),) * 2, run


def test_udp_burst_ends_on_the_newest_arrival(ordering_hub):
    """Over UDP the NOTIFY received last need not be the one sent last (lost datagrams are
    resent later): what the module promises is that the newest received wins. 5,000 at full
    rate, three times: the final state is the newest-received NOTIFY's counts."""
    hub = ordering_hub
    for run in range(3):
        hub.cli("mwi delete mailbox 1004@remote")
        res = sipp("vm_notify.xml", "-s", "1004", calls=5000, rate=20000, timeout=60)
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        newest = newest_arrival(hub, "1004@remote")
        assert newest is not None and newest[1:] == (2, 0), newest
        assert (stored_counts(hub, "1004@remote"), mwi_state(hub, "1004@remote")) == (newest, newest), run


def test_state_received_before_a_restart_is_back_after_it(hub):
    assert send_notify(["Messages-Waiting: yes", "Message-Account: sip:1001@vm.example",
                        "Voice-Message: 7/3 (2/0)"], user="trunk") == (200, "OK")
    hub.restart()
    hub.ensure_loaded()
    assert mwi_state(hub, "1001@remote") == (7, 3, 2)
    phone = Phone("phone1001", 5064)
    try:
        # Registering makes res_pjsip_mwi send the phone its current state.
        # (res_pjsip_mwi writes no urgent counts into the NOTIFYs it sends phones.)
        phone.wait_for_notify("Messages-Waiting: yes", "Voice-Message: 7/3")
    finally:
        phone.close()


def test_unload_under_notify_traffic_hands_the_path_back_and_forth(hub, ami):
    """200 NOTIFYs/s from vmfixed while res_mwi_hub is unloaded and loaded again: no crash;
    unloaded, Asterisk's own handler answers (it refuses a status-only body with 404, we take
    it); loaded again, we answer."""
    ast = hub
    pid = ast.pid()
    log = LogWatch()
    ast.cli("mwi delete mailbox 3000@default")
    traffic = sipp("vm_notify.xml", "-s", "3000", calls=200 * 300, rate=200, timeout=330,
                   background=True, source="127.0.0.4")
    try:
        ast.wait_cli("mwi show mailbox 3000@default", "NOTIFY from endpoint vmfixed")
        for _ in range(20):
            ast.unload_patiently()
            assert ast.module_status() is None
            assert send_notify(["Messages-Waiting: yes"], user="3000", source="127.0.0.4")[0] == 404
            ast.load()
            assert send_notify(["Messages-Waiting: yes"], user="3000", source="127.0.0.4") == (200, "OK")
        # Our updates keep flowing after the last load: the traffic's count (its call number)
        # goes on growing in the store.
        before = stored_counts(ast, "3000@default")[0]
        deadline = time.monotonic() + WAIT
        while stored_counts(ast, "3000@default")[0] <= before:
            assert traffic.poll() is None, "the traffic ended before the test did"
            assert time.monotonic() < deadline, f"stored count stuck at {before}"
            time.sleep(0.1)
        assert "NOTIFY from endpoint vmfixed" in ast.cli("mwi show mailbox 3000@default")
    finally:
        traffic.kill()
        traffic.wait()
    ast.assert_survived(pid)
    assert not log.our_errors(), log.our_errors()
