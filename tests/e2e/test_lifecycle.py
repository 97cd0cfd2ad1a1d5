"""Module lifecycle: load, unload, reload, clean teardown, new image on reload."""
import re
import threading
import time

from conftest import MODULE, ROOT, SANDBOX, TEST_MODULE, LogWatch


def test_load_shows_running(asterisk):
    asterisk.ensure_unloaded()
    asterisk.load()
    out = asterisk.cli("module show like res_mwi_hub")
    assert "Running" in out and "extended" in out, out
    assert "mwi show state" in asterisk.cli("core show help mwi")


def test_unload_load_reload(hub):
    log = LogWatch()
    hub.unload()
    assert hub.module_status() is None
    assert "No such command" in hub.cli("mwi list states")
    hub.load()
    out = hub.cli("module reload res_mwi_hub.so")
    assert "Module 'res_mwi_hub.so' reloaded successfully." in out, out
    log.wait_for(r"res_mwi_hub reloaded")
    assert hub.module_status() == "Running"
    assert "MWI state" in hub.cli("mwi list states")
    assert log.our_errors() == []


def test_unload_leaves_nothing_mapped(hub):
    assert "res_mwi_hub.so" in hub.maps()
    hub.unload()
    assert "res_mwi_hub.so" not in hub.maps()
    hub.load()


def test_later_load_runs_newly_installed_image(asterisk):
    asterisk.use_image(TEST_MODULE)
    assert "slept" in asterisk.cli("mwi test sleep 1")
    asterisk.unload()
    asterisk.install(MODULE)
    asterisk.load()
    out = asterisk.cli("mwi test sleep 1")
    assert "No such command" in out, out


def test_unload_refused_while_our_cli_call_is_in_flight(hub_test_build):
    ast = hub_test_build
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("out", ast.cli("mwi test sleep 15000")))
    t.start()
    # No way to see the call begin from outside: 3 s is ample for it to start even on a busy
    # machine, and leaves 12 s of it running; an unload too early would say "Unloaded" (red).
    time.sleep(3)
    out = ast.cli("module unload res_mwi_hub.so")
    assert t.is_alive(), "the call ended before the unload was tried"
    t.join()
    assert "Unloaded" not in out, out
    assert ast.module_status() == "Running"
    assert "slept" in result["out"]
    # Once the call is over, unload works and tears everything down.
    ast.unload()
    assert "res_mwi_hub.so" not in ast.maps()
    ast.load()


def shipped_cli_commands():
    """The CLI commands the source registers (CliCommand { command: c"..." }), but the test hooks."""
    src = ROOT / "src"
    found = set()
    for f in src.rglob("*.rs"):
        found.update(re.findall(r'command: c"([^"]+)"', f.read_text()))
    return sorted(c for c in found if not c.startswith("mwi test "))


def test_cli_help_is_complete(hub):
    """`core show help mwi` lists every command with its summary, and each has a usage text."""
    commands = shipped_cli_commands()
    assert len(commands) >= 14, commands
    listing = hub.cli("core show help mwi")
    for command in commands:
        line = re.search(rf"^\s*{re.escape(command)}\s+--\s+\S.*$", listing, re.M)
        assert line, (command, listing)
        usage = hub.cli(f"core show help {command}")
        assert re.search(rf"Usage: {re.escape(command)}\b", usage), (command, usage)


def test_loads_at_boot_beside_a_module_that_declined(asterisk):
    """A module that declines at boot does not keep res_mwi_hub from loading (the loader refuses
    a module whose optional module declined, so app_voicemail and res_ari are not named), and a
    declined module, still in the loader's list, is not taken for a running one. Here
    app_voicemail declines: app_voicemail_odbc, preloaded, registered the same things first."""
    modules = SANDBOX / "etc/asterisk/modules.conf"
    try:
        asterisk.stop()
        asterisk.control("configure")  # (start() would write modules.conf anew)
        modules.write_text(modules.read_text() + "preload = app_voicemail_odbc.so\n")
        asterisk.control("start")
        listed = asterisk.cli("module show like app_voicemail")
        assert re.search(r"^app_voicemail\.so\s.*\sNot Running\s", listed, re.M), listed
        assert asterisk.module_status() == "Running", asterisk.cli("module show like res_mwi_hub")
        # The role went to the module that holds it, once the boot was over.
        asterisk.wait_cli("mwi show status", "Voicemail provider:  another module")
        asterisk.use_image(TEST_MODULE)
        for name, running in (("app_voicemail.so", "no"), ("app_voicemail_odbc.so", "yes"),
                              ("res_pjsip", "yes"), ("nosuch.so", "no")):
            out = asterisk.cli(f"mwi test module-running {name}").strip()
            assert out == running, (name, out)
    finally:
        asterisk.ensure_unloaded()
        asterisk.install(MODULE)
        asterisk.restart()
