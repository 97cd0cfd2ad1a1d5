"""The store on a filesystem that fails: full, then read-only. While it cannot write, AMI answers
Error, NOTIFYs get 500, nothing unstored is published, the module and Asterisk keep running,
and one ERROR is logged per episode; when the filesystem is back, updates work again and the
store holds exactly what was acknowledged, uncorrupted.

The store lives beside astdb (astdbdir in asterisk.conf): these tests point astdbdir at a small
ext4 filesystem of their own (a loop-mounted image, errors=remount-ro, as Debian mounts its
filesystems), with astdb itself kept elsewhere through a symlink."""
import os
import re
import subprocess
from pathlib import Path

import pytest

from conftest import SANDBOX, Ami, LogWatch, mwi_state, send_notify, stored_counts
from test_ari_mailboxes import ari

FAULT_DIR = "/var/lib/asterisk-faultfs"   # inside the sandbox
MOUNT = SANDBOX / FAULT_DIR.lstrip("/")
IMAGE = SANDBOX / "var/tmp/res_mwi_hub-faultfs.img"
ASTERISK_CONF = SANDBOX / "etc/asterisk/asterisk.conf"
STORE = MOUNT / "res_mwi_hub.sqlite3"
STORE_ERROR = "Mailbox store unavailable"


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def mounted():
    return subprocess.run(["mountpoint", "-q", str(MOUNT)]).returncode == 0


def mount_image():
    MOUNT.mkdir(parents=True, exist_ok=True)
    # nodelalloc: ext4 then allocates at write(), so "full" does not come and go as delayed
    # allocation settles (it reserves space and hands the unused part back later).
    run("mount", "-o", "loop,errors=remount-ro,nodelalloc", str(IMAGE), str(MOUNT))


def unmount_image():
    if mounted():
        run("umount", str(MOUNT))


def loop_device():
    return Path(run("findmnt", "-n", "-o", "SOURCE", str(MOUNT)).strip()).name


def sqlite(*sql):
    """Runs SQL on the store with the sandbox's sqlite3 (a second connection, as an admin would)."""
    return subprocess.run(["chroot", str(SANDBOX), "sqlite3", f"{FAULT_DIR}/res_mwi_hub.sqlite3", *sql],
                          check=True, capture_output=True, text=True).stdout


def our_store_errors(log):
    return [l for l in log.our_errors() if "mailbox store" in l]


@pytest.fixture
def faulty_disk(asterisk, request):
    """Asterisk with astdbdir (so the store) on a 16 MiB ext4 image of the test's own; the
    test's `res_mwi_hub_conf` mark, if any, is res_mwi_hub.conf meanwhile."""
    ast = asterisk
    mark = request.node.get_closest_marker("res_mwi_hub_conf")
    ast.stop()
    unmount_image()
    IMAGE.unlink(missing_ok=True)
    run("truncate", "-s", "16M", str(IMAGE))
    # No blocks reserved for root (Asterisk runs as root here): full means full.
    run("mkfs.ext4", "-q", "-F", "-m", "0", str(IMAGE))
    mount_image()
    # Only the store on the small filesystem: astdb (and its journal, which SQLite puts beside
    # the file a symlink names) stays on the big one, so that nothing else frees space on it.
    astdb = SANDBOX / "var/lib/asterisk/astdb-faultfs.sqlite3"
    astdb.unlink(missing_ok=True)
    (MOUNT / "astdb.sqlite3").symlink_to("/var/lib/asterisk/astdb-faultfs.sqlite3")
    ast.control("configure")
    conf = ASTERISK_CONF.read_text()
    assert re.search(r"^astdbdir\s*=>", conf, re.M), conf
    # Debian's asterisk.conf has [directories] as a template, "(!)", which Asterisk skips.
    conf = re.sub(r"^\[directories\]\(!\)", "[directories]", conf, flags=re.M)
    ASTERISK_CONF.write_text(re.sub(r"^astdbdir\s*=>.*$", f"astdbdir => {FAULT_DIR}", conf, flags=re.M))
    if mark:
        (SANDBOX / "etc/asterisk/res_mwi_hub.conf").write_text(mark.args[0])
    ast.control("start")
    ast.ensure_loaded()
    assert f"Store:               {FAULT_DIR}/res_mwi_hub.sqlite3" in ast.cli("mwi show status")
    yield ast
    ast.stop()
    unmount_image()
    IMAGE.unlink(missing_ok=True)
    ast.start()
    ast.ensure_loaded()


def fill(directory):
    """Fills the filesystem to its last block; the filler file, to remove for space again."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as f:
        block = b"\0" * 65536
        try:
            while True:
                f.write(block)
        except OSError:
            pass
        # What the big writes left: the last partial blocks.
        try:
            while True:
                f.write(b"\0" * 512)
        except OSError:
            pass
    return filler


def update(ami, mailbox, new, old=0):
    return ami.action("MWIUpdate", Mailbox=mailbox, NewMessages=str(new), OldMessages=str(old))


def assert_refused_while_failing(hub, ami, acked):
    """Every kind of write is refused, and nothing of it stored or published."""
    r = update(ami, "m0@faults", 99)
    assert r["Response"] == "Error" and "could not save to the mailbox store" in r["Message"], r
    r = update(ami, "brand-new@faults", 5)
    assert r["Response"] == "Error", r
    assert send_notify(["Messages-Waiting: yes", "Message-Account: sip:faultacc@vm.example",
                        "Voice-Message: 4/0"]) == (500, STORE_ERROR)
    assert "could not save" in hub.cli("mwi update mailbox m1@faults 77 0")
    assert ami.action("MWIDelete", Mailbox="m2@faults")["Response"] == "Error"
    hub.wait_cli("mwi show status", "ARI:                 /ari/mailboxes served by res_mwi_hub")
    status, answer = ari("PUT", "/mailboxes/m4@faults", {"newMessages": 50})
    assert status == 500, (status, answer)
    assert stored_counts(hub, "m2@faults") == (acked["m2@faults"], 0, 0), "a refused delete deleted"
    assert stored_counts(hub, "m4@faults") == (acked["m4@faults"], 0, 0)
    assert stored_counts(hub, "m0@faults") == (acked["m0@faults"], 0, 0)
    assert mwi_state(hub, "m0@faults") == (acked["m0@faults"], 0, 0), "an unstored update was published"
    for id in ("brand-new@faults", "faultacc@remote"):
        assert stored_counts(hub, id) is None and mwi_state(hub, id) is None, id
    assert hub.module_status() == "Running"


def start_with_republish(hub):
    """Starts Asterisk and waits until the stored mailboxes are back on the MWI bus (the
    republish at load runs in the background once Asterisk is fully booted)."""
    hub.control("start")
    hub.ensure_loaded()
    hub.wait_cli("mwi show status", "Republish at load:   done")


def store_five(ami):
    """m0..m4@faults stored with 1..5 new; what was acknowledged."""
    acked = {}
    for i in range(5):
        assert update(ami, f"m{i}@faults", i + 1)["Response"] == "Success"
        acked[f"m{i}@faults"] = i + 1
    return acked


def assert_store_holds(hub, acked):
    for id, new in acked.items():
        assert stored_counts(hub, id) == (new, 0, 0), id
        assert mwi_state(hub, id) == (new, 0, 0), id


def test_a_full_disk_refuses_updates_logs_once_and_recovers(faulty_disk):
    hub = faulty_disk
    pid = hub.pid()
    ami = Ami()
    try:
        acked = store_five(ami)
        log = LogWatch()
        filler = fill(MOUNT)
        # New mailboxes until the store runs out of room (what fits in pages and log space it
        # already has is still taken, and must then be kept).
        failed = 0
        for k in range(20000):
            r = update(ami, f"fill{k}@faults", 1)
            if r["Response"] == "Success":
                acked[f"fill{k}@faults"] = 1
            else:
                assert "could not save to the mailbox store" in r["Message"], r
                failed = k
                break
        else:
            pytest.fail("the store never filled up")
        assert stored_counts(hub, f"fill{failed}@faults") is None
        # A failed commit of several pages may leave room a one-page commit still fits in: an
        # update is either taken (and kept) or refused (and nothing changes). Until no room is
        # left: then a one-page update fails again and again.
        errors_in_a_row, value = 0, 100
        while errors_in_a_row < 3:
            value += 1
            assert value < 300, "one-page updates kept succeeding on a full disk"
            if update(ami, "m0@faults", value)["Response"] == "Success":
                acked["m0@faults"], errors_in_a_row = value, 0
            else:
                errors_in_a_row += 1
        assert stored_counts(hub, "m0@faults") == (acked["m0@faults"], 0, 0)
        assert_refused_while_failing(hub, ami, acked)
        for _ in range(20):
            assert update(ami, "m3@faults", 1000)["Response"] == "Error"
        status = hub.cli("mwi show status")
        assert re.search(r"^Store writes: +FAILING for [\d.]+ s, \d+ updates refused: could not save", status,
                         re.M), status
        errors = our_store_errors(log)
        assert len(errors) == 1, errors
        assert "disk is full" in errors[0] and "logged once" in errors[0], errors

        # Space again: the next update is taken, the episode's end is logged, nothing was lost.
        filler.unlink()
        r = update(ami, "m0@faults", 42)
        assert r["Response"] == "Success", r
        acked["m0@faults"] = 42
        log.wait_for(r"NOTICE\[.*the mailbox store .* writes again; \d+ updates were refused")
        assert "Store writes:        ok" in hub.cli("mwi show status")
        assert send_notify(["Messages-Waiting: yes", "Message-Account: sip:faultacc@vm.example",
                            "Voice-Message: 4/0"]) == (200, "OK")
        acked_notify = {"faultacc@remote": 4}
        assert_store_holds(hub, acked | acked_notify)
        assert len(our_store_errors(log)) == 1
    finally:
        ami.close()
    hub.assert_survived(pid)
    # Uncorrupted, and after a restart it holds exactly what was acknowledged.
    assert sqlite("PRAGMA integrity_check").strip() == "ok"
    hub.stop()
    start_with_republish(hub)
    assert_store_holds(hub, acked | acked_notify)
    rows = dict(line.split("|") for line in sqlite("SELECT id, new FROM mailboxes").split())
    assert {k: int(v) for k, v in rows.items()} == acked | acked_notify
    hub.cli("mwi delete like @faults$")
    hub.cli("mwi delete mailbox faultacc@remote")


# A filesystem that aborts drops what it had not written yet, as a power cut does: with the
# default durability (fsync = no) the last seconds of acknowledged updates may be gone after the
# repair (the store is still consistent). fsync = yes keeps every one, which this asserts.
@pytest.mark.res_mwi_hub_conf("[general]\nfsync = yes\n")
def test_a_read_only_filesystem_refuses_updates_and_recovers_after_repair(faulty_disk):
    hub = faulty_disk
    pid = hub.pid()
    ami = Ami()
    try:
        acked = store_five(ami)
        log = LogWatch()
        # What ext4 does on an I/O error with errors=remount-ro: read-only at once, files open.
        Path(f"/sys/fs/ext4/{loop_device()}/trigger_fs_error").write_text("1\n")
        with pytest.raises(OSError, match="Read-only file system"):
            (MOUNT / "probe").write_text("x")
        assert_refused_while_failing(hub, ami, acked)
        for _ in range(20):
            assert update(ami, "m3@faults", 1000)["Response"] == "Error"
        errors = our_store_errors(log)
        assert len(errors) == 1, errors
        assert "logged once" in errors[0], errors
        assert "FAILING" in hub.cli("mwi show status")
        # Reads go on: the stored states stay published and listed.
        assert_store_holds(hub, acked)
    finally:
        ami.close()
    hub.assert_survived(pid)

    # Repaired (fsck) and mounted again, as an admin would after the fault: nothing lost or
    # corrupted, and updates work.
    hub.stop()
    unmount_image()
    subprocess.run(["e2fsck", "-f", "-y", str(IMAGE)], capture_output=True)
    mount_image()
    assert sqlite("PRAGMA integrity_check").strip() == "ok"
    start_with_republish(hub)
    assert_store_holds(hub, acked)
    ami = Ami()
    try:
        assert update(ami, "m0@faults", 8)["Response"] == "Success"
        assert stored_counts(hub, "m0@faults") == (8, 0, 0)
    finally:
        ami.close()
    hub.cli("mwi delete like @faults$")
