"""Outbound MWI subscriptions (type = mwi-subscription in pjsip.conf), against sipp playing the
remote voicemail server (vm_server.py, sipp/vm_server_*.xml). Each test writes its objects into
the sandbox's pjsip_mwi_subscriptions.conf (included by pjsip.conf) and applies them with
`module reload res_mwi_hub.so` (or `pjsip reload`), as an admin would."""
import re
import socket
import ssl
import threading
import time

import pytest

from conftest import SANDBOX, WAIT, LogWatch, Phone, counts_shown, mwi_state, stored_counts
from vm_server import VoicemailServer, make_cert, mwi

SUBS_CONF = SANDBOX / "etc/asterisk/pjsip_mwi_subscriptions.conf"


def subscription(name, port, user="4321", via="tcp", scheme="sip", retry_interval=1, **options):
    """The text of one object: server sipp on 127.0.0.1:<port> (`via` the URI's transport), no
    initial delay, a `retry_interval` s backoff base; `options` are further `name = value` lines."""
    params = "" if via == "udp" else f"\\;transport={via}"
    lines = [f"[{name}]", "type = mwi-subscription", f"server_uri = {scheme}:{user}@127.0.0.1:{port}{params}",
             "max_random_initial_delay = 0", f"retry_interval = {retry_interval}"]
    lines += [f"{k} = {v}" for k, v in options.items()]
    return "\n".join(lines) + "\n"


class Outbound:
    """The sandbox Asterisk with res_mwi_hub loaded, configured with subscriptions."""

    def __init__(self, ast):
        self.ast = ast
        self.servers = []

    def server(self, scenario, port, transport="t1", **kw):
        vm = VoicemailServer()
        vm.start(scenario, port=port, transport=transport, **kw)
        self.servers.append(vm)
        return vm

    def configure(self, *objects, how="module reload res_mwi_hub.so"):
        SUBS_CONF.write_text("".join(objects))
        out = self.ast.cli(how)
        if how.startswith("module reload"):
            assert "reloaded successfully" in out, out
        return out

    def show(self, name):
        """`mwi show subscription <name>` as a dict of its fields (None: no such subscription)."""
        out = self.ast.cli(f"mwi show subscription {name}")
        if "no MWI subscription" in out:
            return None
        fields = dict(re.findall(r"^([A-Z][A-Za-z ]+): (.*)$", out, re.M))
        fields["_text"] = out
        return fields

    def wait_state(self, name, state, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while True:
            shown = self.show(name)
            if shown and shown.get("State") == state:
                return shown
            if time.monotonic() > deadline:
                raise AssertionError(f"subscription {name} never reached {state} in {timeout} s:\n"
                                     + (shown["_text"] if shown else "(not shown)"))
            time.sleep(0.1)

    def close(self):
        SUBS_CONF.write_text("")
        if self.ast.module_status() == "Running":
            self.ast.cli("module reload res_mwi_hub.so")
        for vm in self.servers:
            vm.stop()


@pytest.fixture
def outbound(hub):
    o = Outbound(hub)
    yield o
    o.close()


def wait_stored(ast, counts, mailbox="4321@SIP_Remote"):
    """Waits until the store holds `counts` (new, old, urgent) for `mailbox`; fails showing it."""
    deadline = time.monotonic() + WAIT
    while stored_counts(ast, mailbox) != counts:
        assert time.monotonic() < deadline, ast.cli(f"mwi show mailbox {mailbox}")
        time.sleep(0.1)


def unidentified_requests(log, port):
    """res_pjsip's log lines of requests from the server at `port` it could not identify
    ("No matching endpoint found", what fail2ban bans for)."""
    return [l for l in log.text().splitlines() if f"127.0.0.1:{port}'" in l and "failed for" in l]


def gaps(requests):
    return [b.t - a.t for a, b in zip(requests, requests[1:])]


def new_dialogs(requests):
    """The first SUBSCRIBE of each dialog, in order."""
    seen, firsts = set(), []
    for r in requests:
        if r.call_id not in seen:
            seen.add(r.call_id)
            firsts.append(r)
    return firsts


def test_digest_auth_and_the_granted_expiry_rules_every_refresh(outbound):
    """401 challenge, authenticated SUBSCRIBE, 200 granting 60 s of the 3600 asked: every refresh
    comes before the granted 60 s run out (and not much earlier), for 3 refreshes; the counts of
    the NOTIFY are stored and cached (urgent included) and light a phone's lamp (res_pjsip_mwi's
    NOTIFY body to phones always says (0/0) for urgent: an Asterisk limitation)."""
    phone = None
    try:
        vm = outbound.server("vm_server_auth.xml", 15070, keys={"expires": 60},
                             bodies=[mwi(3, 1, 1, 0)], calls=None)
        outbound.configure(subscription("vm-auth", 15070, outbound_auth="vm-server-auth"))
        reqs = vm.wait_for(lambda r: len(r) >= 5 and r, timeout=60 * 3 + WAIT, what="3 refreshes")
        subs = [r for r in reqs if r.method == "SUBSCRIBE"]
        assert not subs[0].has_auth and subs[1].has_auth, [(r.cseq, r.has_auth) for r in subs]
        assert all(r.expires == 3600 for r in subs), [r.expires for r in subs]
        assert len({r.call_id for r in subs}) == 1, "refreshes must stay in the dialog"
        refreshes = subs[1:]
        for gap in gaps(refreshes)[:3]:
            assert 40 < gap < 60, f"refresh gaps {gaps(refreshes)}: each must come before the granted 60 s"
        shown = outbound.show("vm-auth")
        assert shown["State"] in ("Active", "Refreshing"), shown["_text"]
        assert shown["Granted expires"] == "60 s", shown["_text"]
        assert counts_shown(outbound.ast.cli("mwi show mailbox 4321@SIP_Remote")) == (3, 1, 1)
        assert mwi_state(outbound.ast, "4321@SIP_Remote") == (3, 1, 1)
        # Registered after the counts came: res_pjsip_mwi's NOTIFY at registration is built from
        # the state when the contact appears and sent later, so one racing our publish is stale.
        phone = Phone(endpoint="phone4321", port=5072)
        phone.wait_for_notify("Voice-Message: 3/1")
    finally:
        if phone:
            phone.close()


def test_counts_survive_a_restart_and_are_republished_before_the_first_notify(outbound):
    vm = outbound.server("vm_server_fail_then_ok.xml", 15071, keys={"fails": 0}, bodies=[mwi(7, 2, 1, 0)],
                         calls=None)
    outbound.configure(subscription("vm-restart", 15071))
    outbound.wait_state("vm-restart", "Active")
    wait_stored(outbound.ast, (7, 2, 1))
    vm.stop()
    # After the restart the server never answers: whatever the phones see comes from the store.
    silent = outbound.server("vm_server_silent.xml", 15071, calls=None)
    outbound.ast.stop()
    outbound.ast.start()
    SUBS_CONF.write_text(subscription("vm-restart", 15071))
    outbound.ast.cli("module reload res_mwi_hub.so")
    silent.wait_for(lambda r: r, what="a SUBSCRIBE after the restart")
    assert mwi_state(outbound.ast, "4321@SIP_Remote") == (7, 2, 1)
    assert not [m for m in silent.messages() if m.direction == "sent"], "the server must not have answered"


def test_503_three_times_backs_off_then_recovers_without_a_reload(outbound):
    vm = outbound.server("vm_server_fail_then_ok.xml", 15072, keys={"fails": 3, "code": 503}, calls=None)
    outbound.configure(subscription("vm-503", 15072))
    outbound.wait_state("vm-503", "Active", timeout=WAIT + 10)
    firsts = new_dialogs(vm.subscribes())
    assert len(firsts) == 4, [r.call_id for r in firsts]
    g = gaps(firsts)
    # retry_interval 1 s doubling, with up to 20% jitter: [1, 1.2), [2, 2.4), [4, 4.8); the upper
    # bounds leave room for a loaded machine.
    assert 0.9 < g[0] < 2.5 and 1.9 < g[1] < 4.0 and 3.9 < g[2] < 7.0, g
    assert g[0] < g[1] < g[2], g


def test_retry_after_is_honoured(outbound):
    vm = outbound.server("vm_server_fail_then_ok.xml", 15073, keys={"fails": 1, "code": 503, "retry_after": 4},
                         calls=None)
    outbound.configure(subscription("vm-retry-after", 15073))
    outbound.wait_state("vm-retry-after", "Active", timeout=WAIT + 10)
    g = gaps(new_dialogs(vm.subscribes()))
    assert len(g) == 1 and g[0] >= 3.9, g


def test_wrong_credentials_are_reported_and_never_retried_in_a_tight_loop(outbound):
    log = LogWatch()
    vm = outbound.server("vm_server_auth.xml", 15074, calls=None)
    outbound.configure(subscription("vm-wrong", 15074, outbound_auth="vm-server-wrong-auth",
                                    forbidden_retry_interval=2, max_retries=2))
    shown = outbound.wait_state("vm-wrong", "GivenUp", timeout=WAIT + 10)
    assert "403" in shown["Last response"], shown["_text"]
    log.wait_for(r"MWI subscription 'vm-wrong'.*GivenUp")
    firsts = new_dialogs(vm.subscribes())
    assert len(firsts) == 3, [r.call_id for r in firsts]  # the first try and max_retries retries
    assert all(gap >= 1.9 for gap in gaps(firsts)), gaps(firsts)
    time.sleep(3)
    assert len(new_dialogs(vm.subscribes())) == 3, "given up means no more attempts"
    # An admin's resubscribe starts it again.
    assert "subscribing again now" in outbound.ast.cli("mwi resubscribe vm-wrong")
    # The server refuses each try because the digest does not verify (sipp logs that as a
    # failure of its scenario, which is what this test wants).
    vm.wait_for(lambda r: len(new_dialogs([x for x in r if x.method == "SUBSCRIBE"])) == 4,
                expected_failure="digest verification failed")
    assert all("digest verification failed" in f for f in vm.failures()), vm.failures()


def test_423_resubscribes_with_min_expires(outbound):
    vm = outbound.server("vm_server_min_expires.xml", 15075, keys={"min_expires": 120}, calls=None)
    outbound.configure(subscription("vm-423", 15075, expiration=30))
    outbound.wait_state("vm-423", "Active")
    subs = vm.subscribes()
    assert [r.expires for r in subs[:2]] == [30, 120], [r.expires for r in subs]


def test_481_on_refresh_starts_a_new_subscription_at_once(outbound):
    vm = outbound.server("vm_server_refresh_481.xml", 15076, keys={"expires": 6}, calls=None)
    # A 10 s backoff base: "at once" cannot be mistaken for a retry.
    outbound.configure(subscription("vm-481", 15076, retry_interval=10))
    firsts = vm.wait_for(lambda r: len(new_dialogs([x for x in r if x.method == "SUBSCRIBE"])) >= 2
                         and new_dialogs([x for x in r if x.method == "SUBSCRIBE"]), what="a second dialog")
    refresh = [r for r in vm.subscribes() if r.call_id == firsts[0].call_id][1]
    assert firsts[1].t - refresh.t < 3, "the new subscription must follow the 481 at once"
    outbound.wait_state("vm-481", "Active")


def test_no_answer_times_out_and_retries(outbound):
    vm = outbound.server("vm_server_silent.xml", 15077, calls=None)
    outbound.configure(subscription("vm-silent", 15077))
    # pjsip's transaction timeout (Timer F) is 32 s.
    shown = outbound.wait_state("vm-silent", "Retrying", timeout=32 + WAIT)
    assert shown["Last response"] == "timeout", shown["_text"]
    vm.wait_for(lambda r: len(new_dialogs(r)) >= 2, what="a retry after the timeout")


@pytest.mark.parametrize("state,expect", [
    ("terminated;reason=deactivated", "now"),
    ("terminated;reason=timeout", "now"),
    ("terminated;reason=probation;retry-after=3", "after 3"),
    ("terminated;reason=giveup", "backoff"),
    ("terminated", "backoff"),
    ("terminated;reason=whatever", "backoff"),
    ("terminated;reason=rejected", "stop"),
    ("terminated;reason=noresource", "stop"),
])
def test_server_termination_follows_rfc6665(outbound, state, expect):
    port = 15078
    vm = outbound.server("vm_server_terminate.xml", port, keys={"state": state, "terminate_after": 500},
                         calls=None)
    # A 5 s backoff base tells "now" (under 3 s), "after retry-after" and "backoff" apart.
    outbound.configure(subscription("vm-term", port, retry_interval=5))
    if expect == "stop":
        shown = outbound.wait_state("vm-term", "Rejected")
        time.sleep(3)
        assert len(new_dialogs(vm.subscribes())) == 1, "rejected/noresource: no new subscription"
        return
    firsts = vm.wait_for(lambda r: len(new_dialogs(r)) >= 2 and new_dialogs(r), timeout=WAIT + 10,
                         what="a new subscription")
    notify = [m for m in vm.messages() if m.direction == "sent" and m.method == "NOTIFY"
              and (m.header("Subscription-State") or "").startswith("terminated")][0]
    gap = firsts[1].t - notify.t
    if expect == "now":
        assert gap < 3, gap
    elif expect == "after 3":
        assert 2.9 <= gap < 4.9, gap
    else:
        assert gap >= 4.9, gap
    outbound.wait_state("vm-term", "Active")


def test_malformed_body_publishes_nothing_and_keeps_the_subscription(outbound):
    log = LogWatch()
    vm = outbound.server("vm_server_bad_body.xml", 15079,
                         bodies=[["Messages-Waiting: perhaps", "Voice-Message: 9/9"], mwi(5, 0)], calls=None)
    outbound.configure(subscription("vm-bad-body", 15079))
    wait_stored(outbound.ast, (5, 0, 0))
    answers = [m.status for m in vm.responses("received")]
    assert answers[:2] == [200, 200], answers
    assert outbound.show("vm-bad-body")["State"] == "Active"
    assert len(new_dialogs(vm.subscribes())) == 1
    # The server's NOTIFYs are requests in our dialog: res_pjsip must not take them for
    # unidentified requests (its "No matching endpoint found" is what fail2ban bans for).
    assert not unidentified_requests(log, 15079)


def test_over_udp(outbound):
    vm = outbound.server("vm_server_fail_then_ok.xml", 15080, transport="u1", keys={"fails": 0},
                         bodies=[mwi(2, 0)], calls=None)
    outbound.configure(subscription("vm-udp", 15080, via="udp"))
    outbound.wait_state("vm-udp", "Active")
    assert vm.subscribes()[0].message.transport == "UDP"
    wait_stored(outbound.ast, (2, 0, 0))


class TlsFront:
    """TLS in front of a TCP sipp (Debian's sipp is built without TLS): accepts TLS on `port`
    with a certificate the test makes and relays each connection, byte for byte, to sipp."""

    def __init__(self, port, backend, workdir):
        cert, key = make_cert(workdir)
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", port))
        self.backend = backend
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                raw, _ = self.sock.accept()
            except OSError:
                return
            try:
                conn = self.ctx.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            self.connections += 1
            back = socket.create_connection(("127.0.0.1", self.backend))
            for a, b in ((conn, back), (back, conn)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def test_over_tls(outbound, tmp_path):
    vm = outbound.server("vm_server_fail_then_ok.xml", 15081, keys={"fails": 0}, bodies=[mwi(6, 1)], calls=None)
    front = TlsFront(15082, 15081, tmp_path)
    try:
        outbound.configure(subscription("vm-tls", 15082, via="tls"))
        outbound.wait_state("vm-tls", "Active")
        assert front.connections >= 1, "the SUBSCRIBE must have come over TLS"
        wait_stored(outbound.ast, (6, 1, 0))
    finally:
        front.close()


def test_pjsip_reload_touches_only_added_removed_and_changed_objects(outbound):
    servers = {n: outbound.server("vm_server_fail_then_ok.xml", p, keys={"fails": 0}, calls=None)
               for n, p in (("same", 15083), ("gone", 15084), ("changed", 15085), ("new", 15086))}
    outbound.configure(subscription("vm-same", 15083, user="5001"), subscription("vm-gone", 15084, user="5002"),
                       subscription("vm-changed", 15085, user="5003"))
    for name in ("vm-same", "vm-gone", "vm-changed"):
        outbound.wait_state(name, "Active")
    before = {n: len(vm.requests()) for n, vm in servers.items()}
    outbound.configure(subscription("vm-same", 15083, user="5001"),
                       subscription("vm-changed", 15085, user="5003", expiration=1800),
                       subscription("vm-new", 15086, user="5004"), how="pjsip reload")
    outbound.wait_state("vm-new", "Active")
    servers["gone"].wait_for(lambda r: any(x.expires == 0 for x in r[before["gone"]:]), what="an unsubscribe")
    changed = servers["changed"].wait_for(
        lambda r: [x for x in r[before["changed"]:] if x.method == "SUBSCRIBE"][1:] and r[before["changed"]:],
        what="unsubscribe and a new subscription")
    assert changed[0].expires == 0 and any(x.expires == 1800 for x in changed), [x.expires for x in changed]
    assert outbound.show("vm-gone") is None
    time.sleep(1)
    assert len(servers["same"].requests()) == before["same"], "an unchanged object must send nothing"


def test_bad_objects_are_refused_with_clear_errors_and_the_good_ones_run(outbound):
    log = LogWatch()
    vm = outbound.server("vm_server_fail_then_ok.xml", 15087, keys={"fails": 0}, calls=None)
    outbound.configure(
        "[vm-no-uri]\ntype = mwi-subscription\nmailbox = 1@SIP_Remote\n",
        subscription("vm-bad-mailbox", 15087, mailbox="no-context"),
        subscription("vm-bad-auth", 15087, outbound_auth="no-such-auth"),
        subscription("vm-bad-transport", 15087, transport="no-such-transport"),
        subscription("vm-bad-endpoint", 15087, endpoint="no-such-endpoint"),
        subscription("vm-bad-option", 15087, expirations="60"),
        subscription("vm-good", 15087))
    for obj, option in (("vm-no-uri", "server_uri"), ("vm-bad-mailbox", "mailbox"),
                        ("vm-bad-auth", "outbound_auth"), ("vm-bad-transport", "transport"),
                        ("vm-bad-endpoint", "endpoint")):
        log.wait_for(rf"mwi-subscription '{obj}': option '{option}'")
    # An unknown option is refused by sorcery itself, naming it.
    log.wait_for(r"expirations")
    outbound.wait_state("vm-good", "Active")
    table = outbound.ast.cli("mwi show subscriptions")
    assert "1 subscription\n" in table and "vm-good" in table, table


def test_twenty_unload_load_cycles_with_fifty_subscriptions(outbound):
    """Each unload unsubscribes all 50 (Expires: 0), each load subscribes them again, while the
    server answers and sends NOTIFYs; Asterisk survives and nothing of ours stays mapped."""
    ast = outbound.ast
    pid = ast.pid()
    vm = outbound.server("vm_server_fail_then_ok.xml", 15088, keys={"fails": 0, "expires": 30}, calls=None)
    outbound.configure(*[subscription(f"vm-cycle-{i}", 15088, user=f"6{i:03d}") for i in range(50)])
    vm.wait_for(lambda r: len({x.call_id for x in r}) >= 50, what="50 subscriptions")
    for cycle in range(20):
        count = len(vm.requests())
        ast.unload_patiently()
        assert "res_mwi_hub.so" not in ast.maps()
        unsubscribes = [x for x in vm.requests()[count:] if x.expires == 0]
        assert len({x.call_id for x in unsubscribes}) == 50, f"cycle {cycle}: {len(unsubscribes)} unsubscribes"
        count = len(vm.requests())
        ast.load()
        vm.wait_for(lambda r: len({x.call_id for x in r[count:] if x.expires}) >= 50,
                    what=f"cycle {cycle}: 50 new subscriptions")
    ast.assert_survived(pid)


def test_a_notify_before_the_200_is_taken(outbound):
    """A NOTIFY sent before the 200 is in no dialog res_pjsip's distributor can find: without
    our endpoint identifier it is logged as unidentified (and a security event), though taken."""
    log = LogWatch()
    vm = outbound.server("vm_server_notify_first.xml", 15089, bodies=[mwi(8, 3)], calls=None)
    outbound.configure(subscription("vm-early", 15089))
    outbound.wait_state("vm-early", "Active")
    wait_stored(outbound.ast, (8, 3, 0))
    sent = [m for m in vm.messages() if m.direction == "sent"]
    assert sent[0].method == "NOTIFY" and sent[1].status == 200, [m.first_line for m in sent[:2]]
    assert [m.status for m in vm.responses("received")][:1] == [200]
    assert not unidentified_requests(log, 15089)


def test_ami_lists_subscriptions_and_raises_an_event_on_every_change(outbound, ami):
    vm = outbound.server("vm_server_fail_then_ok.xml", 15090, keys={"fails": 1, "code": 503}, calls=None)
    outbound.configure(subscription("vm-ami", 15090))
    outbound.wait_state("vm-ami", "Active", timeout=WAIT + 5)
    changes = []
    while True:
        ev = ami.wait_event(lambda m: m.get("Event") == "MWISubscriptionStatus" and m.get("ObjectName") == "vm-ami")
        assert ev.get("Mailbox") == "4321@SIP_Remote" and ev.get("ServerURI", "").startswith("sip:4321@"), ev
        changes.append((ev.get("PreviousState"), ev.get("State")))
        if ev.get("State") == "Active":
            break
    assert changes == [("Waiting", "Subscribing"), ("Subscribing", "Retrying"), ("Retrying", "Subscribing"),
                       ("Subscribing", "Active")], changes
    action_id = ami.send("MWIShowSubscriptions")
    items = []
    while True:
        msg = ami.read_message()
        if msg.get("ActionID") != action_id:
            continue
        if msg.get("Event") == "MWISubscriptionEntry":
            items.append(msg)
        elif msg.get("Event") == "MWISubscriptionsComplete":
            assert msg.get("ListItems") == "1", msg
            break
        else:
            assert msg.get("Response") == "Success", msg
    assert [(i["ObjectName"], i["State"], i["LastResponse"], i["Failures"]) for i in items] == \
        [("vm-ami", "Active", "200", "0")], items


def test_type_is_documented_and_chan_sip_lines_convert(outbound, tmp_path):
    help_text = outbound.ast.cli("config show help res_mwi_hub mwi-subscription")
    for option in ("server_uri", "outbound_auth", "forbidden_retry_interval", "max_random_initial_delay"):
        assert option in help_text, help_text
    sip_conf = SANDBOX / "tmp/res_mwi_hub_sip.conf"
    sip_conf.write_text("[general]\nmwiexpiry = 1800\nmwi => 1234:secret@vm.example.com/1234\n")
    out = outbound.ast.cli("mwi convert sip.conf /tmp/res_mwi_hub_sip.conf")
    for line in ("type = mwi-subscription", "server_uri = sip:1234@vm.example.com", "mailbox = 1234@SIP_Remote",
                 "expiration = 1800", "password = secret", "; 1 mwi-subscription object(s)"):
        assert line in out, out
    assert "Error" in outbound.ast.cli("mwi convert sip.conf /tmp/no-such-sip.conf")


def test_outbound_proxy_routes_the_subscription(outbound):
    """With outbound_proxy the SUBSCRIBE goes to the proxy (sipp here, which also answers it)
    with a Route header, whatever host the server_uri names."""
    vm = outbound.server("vm_server_fail_then_ok.xml", 15091, keys={"fails": 0}, bodies=[mwi(4, 4)], calls=None)
    # 127.0.0.9 has nothing listening: only the route set can bring the request to sipp.
    outbound.configure(
        "[vm-proxied]\ntype = mwi-subscription\nserver_uri = sip:4321@127.0.0.9:15092\\;transport=tcp\n"
        "outbound_proxy = sip:127.0.0.1:15091\\;transport=tcp\\;lr\nmax_random_initial_delay = 0\n")
    outbound.wait_state("vm-proxied", "Active")
    first = vm.subscribes()[0]
    assert first.message.first_line.startswith("SUBSCRIBE sip:4321@127.0.0.9:15092"), first.message.first_line
    assert "127.0.0.1:15091" in (first.message.header("Route") or ""), first.message.headers
    wait_stored(outbound.ast, (4, 4, 0))
