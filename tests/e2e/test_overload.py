"""Do no harm: bulk MWI work never makes Asterisk drop SIP requests, and never holds up an
unload or a shutdown.

While any taskprocessor is over its high-water mark, res_pjsip drops every new incoming UDP
request. A SIP client (OptionsProbe) sends an OPTIONS every 50 ms over UDP, each with a 0.5 s
deadline and no retransmission: a request res_pjsip dropped is never answered.
"""
import re
import subprocess
import threading
import time

from conftest import SANDBOX, WAIT, Ami, LogWatch
from options_probe import OptionsProbe

STORED = 100_000
STORE = "/var/lib/asterisk/res_mwi_hub.sqlite3"
MODULES_CONF = SANDBOX / "etc/asterisk/modules.conf"
CONSOLE = SANDBOX / "var/log/asterisk/console.out"
# A 100,000-mailbox republish paced on a loaded 2-core machine; the wait ends when it is done.
REPUBLISH_DEADLINE = 600.0


def sql(query):
    res = subprocess.run(["chroot", str(SANDBOX), "sqlite3", STORE, query], capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def fill_store(ast):
    """Stops Asterisk and leaves STORED mailboxes with messages, ov000000@overload..., plus
    1000@default (which phone1000 watches) in the module's store, written directly. Returns how
    many stored mailboxes have messages (earlier tests' ones too): what a republish publishes."""
    ast.ensure_loaded()   # the store file exists with its schema
    ast.stop()
    now_ms = int(time.time() * 1000)
    sql("BEGIN; DELETE FROM mailboxes WHERE id LIKE '%%@overload' OR id = '1000@default'; "
        "WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < %d) "
        "INSERT INTO mailboxes (id, new, old, urgent, source, updated_at_ms) "
        "SELECT printf('ov%%06d@overload', i), i %% 9 + 1, i %% 3, 0, 'ami', %d FROM c; "
        "INSERT INTO mailboxes (id, new, old, urgent, source, updated_at_ms) VALUES ('1000@default', 7, 1, 0, 'ami', %d); "
        "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);" % (STORED - 1, now_ms, now_ms))
    assert sql("SELECT count(*) FROM mailboxes WHERE id LIKE '%@overload'") == str(STORED)
    return int(sql("SELECT count(*) FROM mailboxes WHERE new != 0 OR old != 0 OR urgent != 0"))


def boot_without_module(ast):
    """Boots the sandbox with res_mwi_hub not loaded at boot (an admin loads it later)."""
    ast.control("configure")
    text = MODULES_CONF.read_text()
    assert "load = res_mwi_hub.so" in text
    MODULES_CONF.write_text(text.replace("load = res_mwi_hub.so", "noload = res_mwi_hub.so"))
    ast.control("start")
    assert ast.module_status() is None


def clean_up(ast):
    """Forgets the test's mailboxes and boots the sandbox as the other tests expect it."""
    ast.stop()
    sql("DELETE FROM mailboxes WHERE id LIKE '%@overload' OR id = '1000@default'; PRAGMA wal_checkpoint(TRUNCATE);")
    ast.start()
    ast.ensure_loaded()


def wait_republished(ast, timeout=REPUBLISH_DEADLINE):
    """The `mwi show status` text once the republish at load is done."""
    return ast.wait_cli("mwi show status", "Republish at load:   done", timeout=timeout)


def overload_states_on_bus(ast):
    out = ast.cli("mwi list states like @overload$", timeout=120)
    m = re.search(r"^(\d+) of \d+ MWI states? match", out, re.M)
    assert m, out[-500:]
    return int(m.group(1))


def test_module_load_with_100000_stored_drops_no_sip_request(asterisk):
    ast = asterisk
    with_messages = fill_store(ast)
    try:
        boot_without_module(ast)
        log = LogWatch()
        probe = OptionsProbe().start()
        time.sleep(1.0)
        ast.load()
        loaded_at = time.monotonic() - probe.started
        # Watched first: phone1000's mailbox is on the bus as soon as the load returns, while the
        # background republish is still going.
        state = ast.cli("mwi show state 1000@default")
        status = ast.cli("mwi show status")
        sent, lost = probe.run_for(40.0)
        print(f"\nOPTIONS: {sent} sent, {len(lost)} unanswered {lost[:20]}, answered late "
              f"(over {probe.slow} s) {probe.slow_answers()[:20]} (load at {loaded_at:.1f} s)")
        print(status)
        assert re.search(r"New:\s+7\b", state) and re.search(r"Old:\s+1\b", state), state
        assert "Republish at load:   running" in status or "Republish at load:   waiting" in status, status
        assert sent >= 700, sent
        assert lost == [], f"{len(lost)} of {sent} OPTIONS unanswered, at {lost[:20]} s"
        done = wait_republished(ast)
        print(done)
        assert f"done: {with_messages} mailboxes with messages published" in done, done
        assert overload_states_on_bus(ast) == STORED
        # One NOTICE when pacing started holding back and one when it stopped, not one per batch.
        starts = len(re.findall(r"holding MWI publishing back", log.text()))
        ends = len(re.findall(r"MWI publishing no longer held back", log.text()))
        assert starts == ends and starts <= 5, (starts, ends)
    finally:
        clean_up(ast)


def test_bulk_ami_creates_drop_no_sip_request(hub):
    """50,000 creates from 4 clients, each pipelining its actions, while the probe runs: every
    update is acknowledged and published, and no SIP request goes unanswered."""
    ast = hub
    clients = 4
    per_client = 12_500
    events = Ami(events="on")
    writers = [Ami(events="off") for _ in range(clients)]
    results = [None] * clients

    def write(k):
        w = writers[k]
        payload = "".join(
            f"Action: MWIUpdate\r\nActionID: b{k}-{i}\r\nMailbox: bulk{k}-{i}@overload\r\n"
            f"NewMessages: {i % 9 + 1}\r\nOldMessages: 1\r\n\r\n" for i in range(per_client))
        sender = threading.Thread(target=w.sock.sendall, args=(payload.encode(),))
        sender.start()
        ok = 0
        while ok < per_client:
            m = w.read_message()
            if "Response" in m:
                if m["Response"] != "Success":
                    results[k] = m
                    return
                ok += 1
        sender.join()
        results[k] = ok

    try:
        probe = OptionsProbe().start()
        time.sleep(1.0)
        threads = [threading.Thread(target=write, args=(k,)) for k in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        # The probe goes on while Asterisk works through what the creates left queued.
        time.sleep(5.0)
        sent, lost = probe.stop()
        print(f"\nOPTIONS: {sent} sent, {len(lost)} unanswered {lost[:20]}, answered late "
              f"(over {probe.slow} s) {probe.slow_answers()[:20]}")
        assert results == [per_client] * clients, results
        assert lost == [], f"{len(lost)} of {sent} OPTIONS unanswered, at {lost[:20]} s"
        # Every acknowledged create is on the bus (the state read waits for our queue).
        assert overload_states_on_bus(ast) == clients * per_client
    finally:
        events.close()
        for w in writers:
            w.close()
        ast.cli("mwi delete like @overload$", timeout=600)


def test_unload_and_graceful_stop_during_a_republish(asterisk):
    """With 100,000 stored: `module unload` 0.2 s after the load succeeds at the first try;
    `core stop gracefully` during the republish at boot exits 0 without the fast-shutdown
    fallback; the next boot republishes everything."""
    ast = asterisk
    with_messages = fill_store(ast)
    try:
        boot_without_module(ast)
        log = LogWatch()
        ast.load()
        time.sleep(0.2)
        out = ast.cli("module unload res_mwi_hub.so")
        assert "Unloaded res_mwi_hub.so" in out, out
        assert "res_mwi_hub.so" not in ast.maps()
        # Stopped, not finished before the unload went on.
        assert re.search(rf"republish stopped by unload after \d+ of {with_messages}\b", log.text()), log.text()[-2000:]
        assert f"republished {with_messages} " not in log.text()
        # A normal boot (the module loads at boot and republishes in the background).
        ast.stop()
        ast.start()
        log = LogWatch()
        ast.wait_cli("mwi show status", "Republish at load:   running")
        pid = ast.pid()
        time.sleep(0.2)
        ast.cli("core stop gracefully", timeout=120)
        ended = ast.wait_exit(pid, WAIT)
        console = CONSOLE.read_text(errors="replace")
        assert ended == [0], (ended, console[-2000:])
        assert "switching to fast shutdown" not in console, console[-2000:]
        assert re.search(rf"republish stopped by unload after \d+ of {with_messages}\b", log.text()), log.text()[-2000:]
        # Nothing stored was lost; the next boot puts all of it back on the bus.
        assert sql("SELECT count(*) FROM mailboxes WHERE id LIKE '%@overload'") == str(STORED)
        ast.control("start")
        wait_republished(ast)
        assert overload_states_on_bus(ast) == STORED
    finally:
        clean_up(ast)
