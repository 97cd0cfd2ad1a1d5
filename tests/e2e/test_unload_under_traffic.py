"""200 unload/load cycles while MWI traffic and AMI sessions run: the PBX never notices."""
import threading
import time

from conftest import Ami, LogWatch, message_waiting, sipp

CYCLES = 200


def test_unload_load_cycles_under_traffic(hub):
    ast = hub
    pid = ast.pid()
    log = LogWatch()
    stop = threading.Event()
    stats = {"ami_sessions": 0, "mwi_events": 0, "cli_calls": 0, "refused_unloads": 0}
    errors = []

    # A remote voicemail server publishing about 500 MWI states per second.
    publisher = sipp("vm_notify.xml", "-s", "3000", calls=500 * 600, rate=500, timeout=600, background=True)

    def count_events():
        try:
            client = Ami()
            while not stop.is_set():
                for m in client.drain(0.5):
                    if m.get("Event") == "MessageWaiting":
                        stats["mwi_events"] += 1
            client.close()
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"event counter: {e!r}")

    def churn_ami():
        while not stop.is_set():
            try:
                Ami().close()
                stats["ami_sessions"] += 1
            except Exception as e:  # noqa: BLE001
                errors.append(f"AMI session: {e!r}")
            time.sleep(0.05)

    def use_cli():
        # Our own commands, racing with unload: each either runs, or finds the module gone
        # (no such command), unloading (our gate), or not running (Asterisk's own check,
        # which prints only "Command ... failed.").
        n = 0
        while not stop.is_set():
            n += 1
            command = f"mwi publish {n % 50}@churn {n % 9} 0"
            out = ast.cli(command)
            if not ("Published" in out or "No such command" in out or "being unloaded" in out
                    or out.strip() == f"Command '{command}' failed."):
                errors.append(f"mwi publish said: {out!r}")
            stats["cli_calls"] += 1

    threads = [threading.Thread(target=f) for f in (count_events, churn_ami, use_cli)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        for _ in range(CYCLES):
            for _attempt in range(50):
                out = ast.cli("module unload res_mwi_hub.so")
                if "Unloaded res_mwi_hub.so" in out:
                    break
                stats["refused_unloads"] += 1
                time.sleep(0.02)
            else:
                raise AssertionError(f"unload never succeeded: {out}")
            out = ast.cli("module load res_mwi_hub.so")
            assert "Loaded res_mwi_hub.so" in out, out
        # Final unload: the image must be gone from the process.
        ast.unload()
        maps_after_unload = ast.maps()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
        publisher.terminate()
        publisher.wait(timeout=10)

    print(f"\nstats: {stats}")
    assert errors == [], errors[:5]
    assert ast.pid() == pid and ast.alive(), "Asterisk restarted or died"
    assert "res_mwi_hub.so" not in maps_after_unload
    assert stats["mwi_events"] > 2000, stats
    assert stats["ami_sessions"] > 50, stats
    text = log.text()
    assert "Segmentation" not in text and "Aborted" not in text
    assert log.our_errors() == [], log.our_errors()[:5]

    # Works after the last load.
    ast.load()
    with_ami = Ami()
    try:
        assert "Published" in ast.cli("mwi publish 1000@default 9 8 7")
        ev = with_ami.wait_event(message_waiting("1000@default"))
        assert (ev["New"], ev["Old"]) == ("9", "8")
    finally:
        with_ami.close()
    assert "Urgent:  7" in ast.cli("mwi show state 1000@default")
