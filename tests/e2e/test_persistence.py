"""Stored counts survive restarts, SIGKILL and unload/load; res_mwi_external's records are
imported; the voicemail-provider role."""
import os
import re
import signal
import subprocess
import threading
import time

from conftest import SANDBOX, WAIT, Ami, LogWatch, message_waiting


def stored(ast, like):
    """{id: (new, old, urgent)} from `mwi list like`."""
    out = ast.cli(f"mwi list like {like}", timeout=120)
    rows = {}
    for line in out.splitlines()[1:-1]:
        f = line.split()
        rows[f[0]] = (int(f[1]), int(f[2]), int(f[3]))
    return rows


def test_restart_keeps_counts_and_republishes_them(hub, ami, phone):
    assert ami.action("MWIUpdate", Mailbox="1000@default", NewMessages="6", OldMessages="2")["Response"] == "Success"
    assert ami.action("MWIUpdate", Mailbox="6000@restart", NewMessages="1", UrgentMessages="1")["Response"] == "Success"
    phone.wait_for_notify("Voice-Message: 6/2")
    seen = len(phone.notify_bodies())
    ami.close()
    hub.restart()   # res_mwi_hub loads at boot (modules.conf)
    assert hub.module_status() == "Running"
    assert stored(hub, "^(1000@default|6000@restart)$") == {"1000@default": (6, 2, 0), "6000@restart": (1, 0, 1)}
    # Republished at load: a watched mailbox (phone1000's) during load, the others by the
    # background republish moments later; the phone is told.
    assert "New:     6" in hub.cli("mwi show state 1000@default")
    hub.wait_cli("mwi show state 6000@restart", "Urgent:  1")
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and len(phone.notify_bodies()) <= seen:
        time.sleep(0.2)
    after = phone.notify_bodies()[seen:]
    assert after and "Voice-Message: 6/2" in after[-1], after
    # MessageWaiting goes out when the module publishes (here on a reload of the image).
    client = Ami()
    try:
        hub.unload()
        hub.load()
        assert client.wait_event(message_waiting("6000@restart"))["New"] == "1"
    finally:
        client.close()


def astdb_put(key, value):
    sql = "INSERT OR REPLACE INTO astdb (key, value) VALUES ('%s', '%s')" % (key, value.replace("'", "''"))
    subprocess.run(["chroot", str(SANDBOX), "sqlite3", "/var/lib/asterisk/astdb.sqlite3", sql], check=True)


def test_import_of_res_mwi_external_records(asterisk):
    ast = asterisk
    ast.control("reset-state")       # stops Asterisk, forgets our store
    astdb_put("/mwi_external/mailboxes/7000@default", '{"msgs_new":"3","msgs_old":"1"}')
    astdb_put("/mwi_external/mailboxes/7001", '{"msgs_new":"0","msgs_old":"9"}')
    astdb_put("/mwi_external/mailboxes/7002@default", '{"msgs_new":"4294967295","msgs_old":"0"}')
    log = LogWatch()
    ast.start()
    assert stored(ast, "^700") == {"7000@default": (3, 1, 0), "7001": (0, 9, 0)}
    assert "imported from res_mwi_external" in ast.cli("mwi show mailbox 7000@default")
    # Published by the background republish once Asterisk is fully booted.
    ast.wait_cli("mwi show state 7000@default", "New:     3")
    ast.wait_cli("mwi show state 7001", "Old:     9")
    log.wait_for(r"WARNING.*7002@default.*not imported")
    # Once only: a deleted mailbox does not come back at the next start.
    ast.cli("mwi delete mailbox 7000@default")
    ast.restart()
    assert stored(ast, "^700") == {"7001": (0, 9, 0)}


def test_sigkill_loses_no_acknowledged_update(hub):
    ast = hub
    client = Ami(events="off")
    acked = {}
    stop = threading.Event()

    def send():
        i = 0
        try:
            while not stop.is_set() and i < 300000:
                batch = "".join(
                    f"Action: MWIUpdate\r\nActionID: {n}\r\nMailbox: crash{n}@kill\r\nNewMessages: {n % 1000 + 1}\r\n\r\n"
                    for n in range(i, i + 200))
                client.sock.sendall(batch.encode())
                i += 200
        except OSError:
            pass

    sender = threading.Thread(target=send)
    sender.start()
    pid = ast.pid()
    # Killed once 5,000 updates are acknowledged (however long that takes on a busy machine)
    # with thousands more in flight.
    deadline = time.monotonic() + WAIT
    killed = False
    try:
        while True:
            if not killed and (len(acked) >= 5000 or time.monotonic() > deadline):
                os.kill(pid, signal.SIGKILL)
                killed = True
            msg = client.read_message()
            if msg.get("Response") == "Success" and msg.get("ActionID", "").isdigit():
                acked[int(msg["ActionID"])] = None
    except (ConnectionError, OSError):
        pass
    finally:
        stop.set()
        sender.join(timeout=10)
        client.sock.close()
    assert len(acked) >= 5000, f"only {len(acked)} updates acknowledged before the kill"
    assert ast.wait_exit(pid, WAIT) == [128 + signal.SIGKILL], ast.exits()
    ast.start()
    rows = stored(ast, "@kill$")
    lost = [n for n in acked if rows.get(f"crash{n}@kill", (None,))[0] != n % 1000 + 1]
    print(f"\nacknowledged {len(acked)}, stored {len(rows)}, lost {len(lost)}")
    assert lost == [], f"{len(lost)} acknowledged updates lost, e.g. {lost[:5]}"
    ast.cli("mwi delete like @kill$")


def test_unload_load_while_updates_flow(hub):
    ast = hub
    stop = threading.Event()
    last_ok = {}
    counts = {"ok": 0, "refused": 0}
    errors = []

    def updates():
        # Asterisk itself closes an AMI session whose action it found registered but whose
        # module is no longer running (a race with unload that every module has): reconnect.
        n = 0
        while not stop.is_set():
            try:
                client = Ami(events="off")
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))
                return
            try:
                while not stop.is_set():
                    n += 1
                    box = f"flow{n % 50}@reload"
                    r = client.action("MWIUpdate", Mailbox=box, NewMessages=str(n), OldMessages="1")
                    if r["Response"] == "Success":
                        last_ok[box] = n
                        counts["ok"] += 1
                    else:
                        counts["refused"] += 1
            except ConnectionError:
                counts["reconnects"] = counts.get("reconnects", 0) + 1
            finally:
                client.sock.close()

    t = threading.Thread(target=updates)
    t.start()
    pid = ast.pid()
    try:
        time.sleep(0.5)
        for _ in range(20):
            ast.unload_patiently()
            time.sleep(0.05)
            ast.load()
            time.sleep(0.1)
    finally:
        stop.set()
        t.join(timeout=30)
    print(f"\n{counts}")
    assert errors == []
    ast.assert_survived(pid)
    assert counts["ok"] > 200 and counts["refused"] > 0, counts
    rows = stored(ast, "@reload$")
    assert {k: v[0] for k, v in rows.items()} == last_ok
    ast.cli("mwi delete like @reload$")


def test_voicemail_provider_role(asterisk):
    ast = asterisk
    modules = SANDBOX / "etc/asterisk/modules.conf"
    conf = SANDBOX / "etc/asterisk/res_mwi_hub.conf"
    try:
        ast.stop()
        ast.control("configure")
        # Both voicemail modules: either takes the role when it loads.
        modules.write_text(modules.read_text() + "noload = app_voicemail.so\nnoload = app_voicemail_odbc.so\n")
        ast.control("start")
        ast.ensure_loaded()
        # At boot the role is taken once Asterisk is fully booted (app_voicemail had its turn).
        ast.wait_cli("mwi show status", "Voicemail provider:  res_mwi_hub")
        client = Ami()
        try:
            assert client.action("MWIUpdate", Mailbox="1000@default", NewMessages="3", OldMessages="1",
                                 UrgentMessages="2")["Response"] == "Success"
            ev = client.wait_event(message_waiting("1000@default"))
            assert ev["Waiting"] == "1", ev
            r = client.action("MailboxCount", Mailbox="1000@default")
            assert (r["UrgMessages"], r["NewMessages"], r["OldMessages"]) == ("2", "3", "1"), r
            r = client.action("MailboxCount", Mailbox="1000")   # no context: @default, as app_voicemail
            assert r["NewMessages"] == "3", r
            r = client.action("MailboxStatus", Mailbox="1000@default")
            assert r["Waiting"] != "0", r
            # Given up on reload when configured so.
            conf.write_text("[general]\nvoicemail_provider = no\n")
            assert "reloaded successfully" in ast.cli("module reload res_mwi_hub.so")
            r = client.action("MailboxCount", Mailbox="1000@default")
            assert r.get("NewMessages", "0") == "0", r
            conf.write_text("[general]\nvoicemail_provider = auto\n")
            ast.cli("module reload res_mwi_hub.so")
            r = client.action("MailboxCount", Mailbox="1000@default")
            assert r["NewMessages"] == "3", r
        finally:
            client.close()
    finally:
        conf.unlink(missing_ok=True)
        ast.restart()   # configure: the standard modules.conf again
