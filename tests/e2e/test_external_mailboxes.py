"""External mailboxes: res_mwi_external_ami's wire format, store semantics, bad input, lamps."""
import re

import pytest

from conftest import SANDBOX, Phone, message_waiting


def pairs(msg):
    return [(k, v) for k, v in msg["_pairs"]]


def mwiget(ami, mailbox, action_id=None):
    """Response, MWIGet events and the MWIGetComplete event of one MWIGet, as pairs."""
    fields = {"Mailbox": mailbox}
    if action_id:
        fields["ActionID"] = action_id
        aid = ami.send("MWIGet", **fields)
    else:
        aid = None
        ami.sock.sendall(f"Action: MWIGet\r\nMailbox: {mailbox}\r\n\r\n".encode())
    response, events = None, []
    while True:
        msg = ami.read_message()
        if "Response" in msg and response is None and (aid is None or msg.get("ActionID") == aid):
            response = msg
        elif msg.get("Event") == "MWIGet":
            events.append(msg)
        elif msg.get("Event") == "MWIGetComplete":
            return response, events, msg
        else:
            ami.pending.append(msg)


def update(ami, mailbox, new=None, old=None, urgent=None, **extra):
    fields = {"Mailbox": mailbox}
    if new is not None:
        fields["NewMessages"] = new
    if old is not None:
        fields["OldMessages"] = old
    if urgent is not None:
        fields["UrgentMessages"] = urgent
    fields.update(extra)
    return ami.action("MWIUpdate", **fields)


def test_wire_format_of_res_mwi_external_ami(hub, ami):
    r = update(ami, "1000@default", new=3, old=1, ActionID="u1")
    assert pairs(r) == [("Response", "Success"), ("ActionID", "u1")]
    update(ami, "1001@default", new=0, old=7)

    response, events, complete = mwiget(ami, "1000@default", "g1")
    assert pairs(response) == [("Response", "Success"), ("ActionID", "g1"), ("EventList", "start"),
                               ("Message", "Mailboxes will follow")]
    assert [pairs(e) for e in events] == [[("Event", "MWIGet"), ("Mailbox", "1000@default"),
                                           ("OldMessages", "1"), ("NewMessages", "3"),
                                           ("UrgentMessages", "0"), ("ActionID", "g1")]]
    assert pairs(complete) == [("Event", "MWIGetComplete"), ("ActionID", "g1"), ("EventList", "Complete"),
                               ("ListItems", "1")]

    response, events, complete = mwiget(ami, "/^100[01]@default$/", "g2")
    assert [e["Mailbox"] for e in events] == ["1000@default", "1001@default"]
    assert complete["ListItems"] == "2"

    # Without ActionID, no ActionID anywhere (as res_mwi_external_ami).
    response, events, complete = mwiget(ami, "1001@default")
    assert "ActionID" not in response and "ActionID" not in events[0] and "ActionID" not in complete
    assert (events[0]["OldMessages"], events[0]["NewMessages"]) == ("7", "0")

    # Unknown id: an empty list, not an error.
    response, events, complete = mwiget(ami, "nobody@default", "g3")
    assert response["Response"] == "Success" and events == [] and complete["ListItems"] == "0"

    r = ami.action("MWIDelete", Mailbox="1000@default", ActionID="d1")
    assert pairs(r) == [("Response", "Success"), ("ActionID", "d1")]
    r = ami.action("MWIDelete", Mailbox="/^1001@/")
    assert r["Response"] == "Success"
    left = [e["Mailbox"] for e in mwiget(ami, "/^100[01]@default$/")[1]]
    assert left == [], left


def test_delete_of_nothing_is_an_error(hub, ami):
    r = ami.action("MWIDelete", Mailbox="ghost@default")
    assert r["Response"] == "Error" and r["Message"] == "No mailbox matches: ghost@default"
    r = ami.action("MWIDelete", Mailbox="/^ghost/")
    assert r["Response"] == "Error"


def test_noop_update_publishes_nothing(hub, ami):
    update(ami, "2000@noop", new=2, old=0)
    ami.wait_event(message_waiting("2000@noop"))
    for _ in range(5):
        assert update(ami, "2000@noop", new=2, old=0)["Response"] == "Success"
    # A change after the no-ops: its event is the first one for the mailbox.
    update(ami, "2000@noop", new=3, old=0)
    mine = message_waiting("2000@noop")
    seen = [m["New"] for m in ami.events_until(lambda m: mine(m) and m["New"] == "3") if mine(m)]
    assert seen == ["3"], seen


def test_delete_publishes_zero_and_clears_the_cache(hub, ami):
    update(ami, "2001@del", new=4, old=2, urgent=1)
    ami.wait_event(message_waiting("2001@del"))
    assert "Urgent:  1" in hub.cli("mwi show state 2001@del")
    assert ami.action("MWIDelete", Mailbox="2001@del")["Response"] == "Success"
    ev = ami.wait_event(message_waiting("2001@del"))
    assert (ev["New"], ev["Old"]) == ("0", "0")
    assert "No MWI state is cached for '2001@del'" in hub.cli("mwi show state 2001@del")
    assert "No external mailbox" in hub.cli("mwi show mailbox 2001@del")


def test_urgent_reaches_stasis_and_mwiget(hub, ami):
    update(ami, "2002@urgent", new=5, old=1, urgent=4)
    show = hub.cli("mwi show state 2002@urgent")
    assert "New:     5" in show and "Urgent:  4" in show, show
    events = mwiget(ami, "2002@urgent")[1]
    assert events[0]["UrgentMessages"] == "4"


def test_ids_are_verbatim(hub, ami):
    update(ami, "3000", new=1)
    update(ami, "3000@default", new=2)
    assert "New:     1" in hub.cli("mwi show state 3000")
    assert "New:     2" in hub.cli("mwi show state 3000@default")
    shown = hub.cli("mwi show mailbox 3000")
    assert "Source:  AMI" in shown and "Updated: " in shown


def test_cli_commands(hub, ami):
    out = hub.cli("mwi update mailbox 4000@cli 3 1 2")
    assert "created and published" in out, out
    assert ami.wait_event(message_waiting("4000@cli"))["New"] == "3"
    assert "unchanged; nothing published" in hub.cli("mwi update mailbox 4000@cli 3 1 2")
    hub.cli("mwi update mailbox 4001@cli 1")
    shown = hub.cli("mwi show mailbox 4000@cli")
    assert "Urgent:  2" in shown and "Source:  CLI" in shown
    listing = hub.cli("mwi list like ^400")
    assert "4000@cli" in listing and "4001@cli" in listing and "2 of " in listing
    assert re.fullmatch(r"\d+ external mailboxes\.", hub.cli("mwi list all").splitlines()[-1])
    assert "Deleted 2 external mailboxes matching '^400'" in hub.cli("mwi delete like ^400")
    assert "No external mailbox '4000@cli'" in hub.cli("mwi delete mailbox 4000@cli")
    hub.cli("mwi update mailbox 4002@cli 1")
    assert "Deleted all" in hub.cli("mwi delete all")
    assert hub.cli("mwi list all").splitlines()[-1] == "0 external mailboxes."


BAD_AMI = [
    ("MWIUpdate", {"Mailbox": "5000@bad", "NewMessages": "-1"}, "Invalid NewMessages: -1"),
    ("MWIUpdate", {"Mailbox": "5000@bad", "OldMessages": "abc"}, "Invalid OldMessages: abc"),
    ("MWIUpdate", {"Mailbox": "5000@bad", "NewMessages": "4294967296"}, "Invalid NewMessages: 4294967296"),
    ("MWIUpdate", {"Mailbox": "5000@bad", "NewMessages": "2147483648"}, "larger than 2147483647"),
    ("MWIUpdate", {"Mailbox": "5000@bad", "UrgentMessages": "1.5"}, "Invalid UrgentMessages: 1.5"),
    ("MWIUpdate", {"NewMessages": "1"}, "Missing mailbox parameter in request"),
    ("MWIUpdate", {"Mailbox": "50 00@bad", "NewMessages": "1"}, "Invalid mailbox '50 00@bad'"),
    ("MWIUpdate", {"Mailbox": "5000\t@bad", "NewMessages": "1"}, "forbidden character"),
    ("MWIUpdate", {"Mailbox": "5000\x01@bad", "NewMessages": "1"}, "forbidden character"),
    ("MWIUpdate", {"Mailbox": "5000\rEvent: Fake@bad", "NewMessages": "1"}, "forbidden character"),
    ("MWIUpdate", {"Mailbox": "9" * 161, "NewMessages": "1"}, "at most 160 are allowed"),
    ("MWIUpdate", {"Mailbox": "/^5/", "NewMessages": "1"}, "a regex cannot be updated"),
    ("MWIDelete", {"Mailbox": "//"}, "Mailbox regex is empty"),
    ("MWIDelete", {"Mailbox": "/^5000"}, "Mailbox regex format invalid in: /^5000"),
    ("MWIDelete", {}, "Missing mailbox parameter in request"),
    ("MWIGet", {"Mailbox": "/(/"}, "Mailbox regex format invalid in: /(/"),
    ("MWIGet", {}, "Missing mailbox parameter in request"),
]


@pytest.mark.parametrize("action,fields,error", BAD_AMI, ids=[f"{a}-{e}" for a, _, e in BAD_AMI])
def test_bad_ami_input_changes_nothing(hub, ami, action, fields, error):
    update(ami, "5000@bad", new=1, old=1)
    before = hub.cli("mwi list all")
    r = ami.action(action, **fields)
    assert r["Response"] == "Error", r
    assert error in r["Message"], r
    assert hub.cli("mwi list all") == before
    # Published before the marker that follows: at most the 1/1 set above, nothing else.
    update(ami, "5000@bad", new=2, old=1)
    marker = message_waiting("5000@bad")
    events = [(m["Mailbox"], m["New"], m["Old"]) for m in
              ami.events_until(lambda m: marker(m) and m["New"] == "2") if m.get("Event") == "MessageWaiting"]
    assert [e for e in events[:-1] if e != ("5000@bad", "1", "1")] == [], events


BAD_CLI = [
    ("mwi update mailbox 5001@bad -1", "negative"),
    ("mwi update mailbox 5001@bad 1 x", "not a whole decimal number"),
    ("mwi update mailbox 5001@bad 4294967296", "larger than"),
    ("mwi update mailbox \"50 01@bad\" 1", "forbidden character"),
    ("mwi update mailbox 5001@bad\x01 1", "forbidden character"),
    ("mwi update mailbox " + "9" * 161 + " 1", "at most 160 are allowed"),
    ("mwi list like (", "Invalid regular expression"),
    ("mwi delete like (", "Invalid regular expression"),
    ("mwi delete like \"\"", "is empty"),
]


@pytest.mark.parametrize("command,error", BAD_CLI, ids=[c[:40] for c, _ in BAD_CLI])
def test_bad_cli_input_changes_nothing(hub, command, error):
    hub.cli("mwi update mailbox 5001@bad 2 2")
    before = hub.cli("mwi list all")
    out = hub.cli(command)
    assert error in out, out
    assert hub.cli("mwi list all") == before


def test_lamp_follows_update_and_delete(hub, ami, phone):
    assert update(ami, "1000@default", new=3, old=1)["Response"] == "Success"
    phone.wait_for_notify("Messages-Waiting: yes", "Voice-Message: 3/1")
    assert ami.action("MWIDelete", Mailbox="1000@default")["Response"] == "Success"
    phone.wait_for_notify("Messages-Waiting: no")


LATE_PHONE = """
[phone4000]
type = endpoint
context = default
disallow = all
allow = ulaw
aors = phone4000
mailboxes = 4000@late

[phone4000]
type = aor
max_contacts = 1
"""


def test_mailbox_watched_only_after_its_update(hub, ami):
    """A mailbox no module watches is published on the all-mailboxes topic alone (Asterisk keeps
    no per-mailbox state for it). When a phone endpoint with that mailbox appears later,
    res_pjsip_mwi starts watching it: the phone gets the stored counts, then every change."""
    conf = SANDBOX / "etc/asterisk/pjsip.conf"
    original = conf.read_text()
    assert update(ami, "4000@late", new=2, old=1)["Response"] == "Success"
    assert ami.wait_event(message_waiting("4000@late"))["New"] == "2"
    assert "New:     2" in hub.cli("mwi show state 4000@late")
    try:
        conf.write_text(original + LATE_PHONE)
        hub.cli("module reload res_pjsip.so")
        hub.cli("module reload res_pjsip_mwi.so")
        phone = Phone("phone4000", port=5070)
        try:
            phone.wait_for_notify("Messages-Waiting: yes", "Voice-Message: 2/1")
            assert update(ami, "4000@late", new=5, old=1)["Response"] == "Success"
            phone.wait_for_notify("Voice-Message: 5/1")
            assert ami.action("MWIDelete", Mailbox="4000@late")["Response"] == "Success"
            phone.wait_for_notify("Messages-Waiting: no")
            assert "No MWI state is cached for '4000@late'" in hub.cli("mwi show state 4000@late")
        finally:
            phone.close()
    finally:
        conf.write_text(original)
        hub.cli("module reload res_pjsip.so")
        ast_del = hub.cli("mwi delete mailbox 4000@late")
        assert "Deleted" in ast_del or "No external mailbox" in ast_del
