"""The MWI state commands against the real MWI core: publish, show, list, bad input."""
import pytest

from conftest import message_waiting, sipp


def test_publish_reaches_ami_and_cache_with_urgent(hub, ami):
    out = hub.cli("mwi publish 1000@default 3 1 2")
    assert "Published MWI for 1000@default: new 3, old 1, urgent 2." in out, out
    ev = ami.wait_event(message_waiting("1000@default"))
    assert ev["New"] == "3" and ev["Old"] == "1", ev
    show = hub.cli("mwi show state 1000@default")
    assert "New:     3" in show and "Old:     1" in show and "Urgent:  2" in show, show
    assert "(this server)" in show


def test_list_shows_states_from_other_publishers(hub):
    # A NOTIFY from endpoint vmfixed (incoming_mwi_mailbox=3000@default) publishes 3000@default.
    res = sipp("vm_notify.xml", "-s", "3000", calls=1, source="127.0.0.4")
    assert res.returncode == 0, res.stdout + res.stderr
    hub.cli("mwi publish 1001@default 1 0")
    out = hub.cli("mwi list states")
    lines = {l.split()[0]: l.split() for l in out.splitlines()[1:-1]}
    assert "3000@default" in lines, out
    assert lines["3000@default"][1:3] == ["1", "2"], out
    assert "1001@default" in lines
    assert out.splitlines()[-1] == f"{len(lines)} MWI states."
    some = hub.cli("mwi list states like ^300")
    assert "3000@default" in some and "1001@default" not in some, some
    assert some.splitlines()[-1].startswith("1 of ")


def test_delete_clears_the_cache_entry(hub_test_build):
    ast = hub_test_build
    ast.cli("mwi publish 4000@default 1 1")
    assert "New:     1" in ast.cli("mwi show state 4000@default")
    assert "deleted 4000@default" in ast.cli("mwi test delete-state 4000@default")
    assert "No MWI state is cached for '4000@default'" in ast.cli("mwi show state 4000@default")


def test_tab_completion_of_mailbox_ids(hub):
    hub.cli("mwi publish 5551@complete 1 0")
    hub.cli("mwi publish 5552@complete 1 0")
    out = hub.cli("_command matchesarray \"mwi show state 555\" \"555\"")
    assert "5551@complete" in out and "5552@complete" in out, out


BAD_PUBLISH = [
    ("mwi publish 1000@default -1 0", "Invalid new count '-1': it is negative"),
    ("mwi publish 1000@default 1 -5", "Invalid old count '-5': it is negative"),
    ("mwi publish 1000@default abc 0", "Invalid new count 'abc': it is not a whole decimal number"),
    ("mwi publish 1000@default 1 0 x", "Invalid urgent count 'x'"),
    ("mwi publish 1000@default 4294967296 0", "larger than 4294967295"),
    ("mwi publish 1000@default 99999999999999999999 0", "larger than 4294967295"),
    ("mwi publish 1000@default 2147483648 0", "larger than 2147483647"),
    ("mwi publish 1000@default 1", "Usage: mwi publish"),
    ("mwi publish 1000@default", "Usage: mwi publish"),
    ("mwi publish 1000 1 0", "must have the form mailbox@context"),
    ("mwi publish 1000@ 1 0", "context part after '@' is empty"),
    ("mwi publish \"10 00@default\" 1 0", "forbidden character (byte 0x20"),
    ("mwi publish \"1000\t@default\" 1 0", "forbidden character (byte 0x09"),
    ("mwi publish 1000@default\x01 1 0", "forbidden character (byte 0x01"),
    ("mwi publish " + "9" * 100 + "@default 1 0", "longer than 79 characters"),
]


@pytest.mark.parametrize("command,error", BAD_PUBLISH, ids=[c for c, _ in BAD_PUBLISH])
def test_bad_publish_is_refused_and_publishes_nothing(hub, ami, command, error):
    hub.cli("mwi publish 1000@default 7 7 7")
    ami.wait_event(message_waiting("1000@default"))
    before = hub.cli("mwi list states")
    out = hub.cli(command)
    assert error in out, out
    assert "Published" not in out
    assert hub.cli("mwi list states") == before
    # Nothing published before the marker that follows.
    hub.cli("mwi publish 1000@default 8 8 8")
    marker = message_waiting("1000@default")
    events = [m for m in ami.events_until(lambda m: marker(m) and m["New"] == "8")
              if m.get("Event") == "MessageWaiting"]
    assert len(events) == 1, events
