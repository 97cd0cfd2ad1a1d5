"""Panics inside our code never reach Asterisk (test-hooks build only)."""
from conftest import LogWatch, message_waiting


def test_panic_in_cli_handler_is_contained(hub_test_build):
    ast = hub_test_build
    pid = ast.pid()
    log = LogWatch()
    out = ast.cli("mwi test panic")
    assert "internal failure in res_mwi_hub" in out, out
    assert "failed" in out
    log.wait_for(r"ERROR.*Rust panic at .*forced panic in a CLI handler")
    ast.assert_survived(pid)
    assert "Published" in ast.cli("mwi publish 1000@default 1 0")


def test_panic_in_stasis_callback_is_contained(hub_test_build, ami):
    ast = hub_test_build
    pid = ast.pid()
    log = LogWatch()
    ast.cli("mwi publish panic@res_mwi_hub_test 1 0")
    log.wait_for(r"ERROR.*Rust panic at .*forced panic in the MWI watcher")
    log.wait_for(r"ERROR.*mwi subscription callback failed")
    ast.assert_survived(pid)
    # The subscription keeps working after the panic.
    ast.cli("core set debug 1 res_mwi_hub")
    try:
        ast.cli("mwi publish 1002@default 2 0")
        ami.wait_event(message_waiting("1002@default"))
        log.wait_for(r"DEBUG.*MWI state seen 1002@default: new 2 old 0 urgent 0")
    finally:
        ast.cli("core set debug 0 res_mwi_hub")


def test_debug_output_follows_core_set_debug(hub):
    log = LogWatch()
    hub.cli("core set debug 0 res_mwi_hub")
    hub.cli("mwi publish 1003@default 1 0")
    hub.cli("mwi publish 1003@default 2 0")
    hub.cli("core set debug 1 res_mwi_hub")
    try:
        hub.cli("mwi publish 1003@default 3 0")
        text = log.wait_for(r"DEBUG.*MWI published for 1003@default: new 3")
        assert "MWI published for 1003@default: new 1" not in text
        assert "MWI published for 1003@default: new 2" not in text
    finally:
        hub.cli("core set debug 0 res_mwi_hub")


def test_panic_in_pjsip_handler_is_contained(hub_test_build):
    """A panic in our NOTIFY handler before it answers: logged, the request is passed on to
    Asterisk's own handler (so the sender still gets an answer), and the next NOTIFY is ours."""
    from conftest import mwi_state, send_notify
    ast = hub_test_build
    pid = ast.pid()
    log = LogWatch()
    # Asterisk's own handler (res_pjsip_pubsub) takes vmtrunk's incoming_mwi_mailbox literally.
    literal = "${ACCOUNT}@remote"
    ast.cli(f"mwi test delete-state {literal}")
    status, _ = send_notify(["Messages-Waiting: yes", "Voice-Message: 1/0"], user="panic-res-mwi-hub-test")
    log.wait_for(r"ERROR.*Rust panic at .*forced panic in the NOTIFY handler")
    assert status == 200, status
    assert mwi_state(ast, literal) == (1, 0, 0), "the request was not passed on to res_pjsip_pubsub"
    ast.assert_survived(pid)
    assert send_notify(["Messages-Waiting: yes", "Voice-Message: 6/1"], user="4242") == (200, "OK")
    assert mwi_state(ast, "4242@remote") == (6, 1, 0)
