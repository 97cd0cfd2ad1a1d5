"""`mwi show status`: the one screen an admin checks first, each line against what it reports on."""
import re
import time

from conftest import SANDBOX, WAIT, send_notify

SUBS_CONF = SANDBOX / "etc/asterisk/pjsip_mwi_subscriptions.conf"
STORE = SANDBOX / "var/lib/asterisk/res_mwi_hub.sqlite3"


def status_fields(ast):
    """The status screen as {label: value}, its first line under "_title"."""
    out = ast.cli("mwi show status")
    lines = out.splitlines()
    fields = dict(re.findall(r"^([A-Z][A-Za-z ]+):\s+(.*)$", out, re.M))
    fields["_title"] = lines[0] if lines else ""
    return fields


def notify_counts(ast):
    m = re.fullmatch(r"(\d+) taken, (\d+) refused since load", status_fields(ast)["Incoming NOTIFYs"])
    assert m, status_fields(ast)
    return int(m.group(1)), int(m.group(2))


def size_text(n):
    """What the module prints for a size of n bytes."""
    if n < 1024:
        return f"{n} bytes"
    if n < 1_048_576:
        return f"{n / 1024:.1f} KiB"
    return f"{n / 1_048_576:.1f} MiB"


def module_running(ast, name):
    return re.search(rf"^{re.escape(name)}\s.*\sRunning", ast.cli(f"module show like {name}"), re.M) is not None


def test_status_shows_versions_store_and_counts(hub):
    hub.cli("mwi delete like ^statustest")
    for i in range(3):
        out = hub.cli(f"mwi update mailbox statustest{i}@status 1 0 0")
        assert "(created and published)" in out, out
    fields = status_fields(hub)
    version = re.search(r"Asterisk (\S+) built", hub.cli("core show version"))
    assert version, hub.cli("core show version")
    assert re.fullmatch(rf"res_mwi_hub \S+ on Asterisk {re.escape(version.group(1))}", fields["_title"]), fields
    # The store line names the real file and its size (database plus write-ahead log).
    path, size = re.fullmatch(r"(\S+) \((.*)\)", fields["Store"]).groups()
    assert path == "/var/lib/asterisk/res_mwi_hub.sqlite3", fields
    wal = STORE.with_name(STORE.name + "-wal")
    assert size == size_text(STORE.stat().st_size + (wal.stat().st_size if wal.exists() else 0)), fields
    listed = re.search(r"^(\d+) external mailbox", hub.cli("mwi list all"), re.M)
    assert listed, hub.cli("mwi list all")
    stored, watched = re.fullmatch(r"(\d+) stored, (\d+) watched", fields["External mailboxes"]).groups()
    assert int(stored) == int(listed.group(1)) and int(stored) >= 3, fields
    # res_pjsip_mwi watches every phone's `mailboxes=` (the sandbox has four such phones).
    assert int(watched) >= 4, fields
    assert re.fullmatch(r"\d+ waiting", fields["Publish queue"]), fields
    provider = "another module (app_voicemail)" if module_running(hub, "app_voicemail.so") else "res_mwi_hub"
    hub.wait_cli("mwi show status", f"Voicemail provider:  {provider}\n")  # taken after FullyBooted
    if module_running(hub, "res_ari.so"):
        # At boot the routes come a moment after FullyBooted (the module's boot thread).
        hub.wait_cli("mwi show status", "ARI:                 /ari/mailboxes served by res_mwi_hub")
    else:
        assert fields["ARI"] == "res_ari not running", fields
    hub.cli("mwi delete like ^statustest")


def test_status_counts_notifies_taken_and_refused(hub):
    taken, refused = notify_counts(hub)
    user = f"77{time.monotonic_ns() % 10**8}"
    assert send_notify(["Messages-Waiting: yes", "Voice-Message: 2/1"], user=user)[0] == 200
    assert send_notify(["Messages-Waiting: maybe"], user=user)[0] == 400
    assert send_notify(["Voice-Message: 3/1"], user=user)[0] == 400
    assert notify_counts(hub) == (taken + 1, refused + 2)
    hub.cli(f"mwi delete mailbox {user}@remote")


def test_status_lists_subscriptions_by_state(hub):
    try:
        # A long initial delay keeps both in Waiting: a state that cannot move under the test.
        SUBS_CONF.write_text("".join(
            f"[status-sub-{i}]\ntype = mwi-subscription\nserver_uri = sip:{i}@127.0.0.1:15999\\;transport=tcp\n"
            f"max_random_initial_delay = 3600\n\n" for i in range(2)))
        assert "reloaded successfully" in hub.cli("module reload res_mwi_hub.so")
        deadline = time.monotonic() + WAIT
        while status_fields(hub)["Subscriptions"] != "2: 2 Waiting":
            assert time.monotonic() < deadline, status_fields(hub)
            time.sleep(0.2)
    finally:
        SUBS_CONF.write_text("")
        hub.cli("module reload res_mwi_hub.so")
    deadline = time.monotonic() + WAIT
    while status_fields(hub)["Subscriptions"] != "none configured":
        assert time.monotonic() < deadline, status_fields(hub)
        time.sleep(0.2)


def test_config_help_lists_every_setting(hub):
    """Asterisk shows our XML documentation: res_mwi_hub.conf's settings beside pjsip.conf's type."""
    out = hub.cli("config show help res_mwi_hub")
    for needle in ("general", "mwi-subscription"):
        assert needle in out, (needle, out)
    general = hub.cli("config show help res_mwi_hub general")
    for option in ("voicemail_provider", "fsync", "import_res_mwi_external"):
        assert option in general, (option, general)
    detail = hub.cli("config show help res_mwi_hub general voicemail_provider")
    assert "app_voicemail" in detail and "auto" in detail, detail


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_manager_show_command_shows_our_docs(hub):
    """Each AMI action's help comes from our XML docs (Syntax, Provided By res_mwi_hub), not the
    core docs that name res_mwi_external_ami for MWIGet, MWIUpdate and MWIDelete."""
    for action, parameter in (("MWIGet", "Mailbox"), ("MWIUpdate", "UrgentMessages"),
                              ("MWIDelete", "Mailbox"), ("MWIShowSubscriptions", "ActionID")):
        out = ANSI.sub("", hub.cli(f"manager show command {action}"))
        provided = re.search(r"\[Provided By\]\s*(\S+)", out)
        assert provided and provided.group(1) == "res_mwi_hub", out
        assert "[Syntax]" in out and f"Action: {action}" in out, out
        assert re.search(rf"^\[?{parameter}:?\]? <value>", out, re.M), (parameter, out)
        assert "res_mwi_external" not in out.split("[Description]")[0], out
