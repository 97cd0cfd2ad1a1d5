"""ARI /mailboxes served by res_mwi_hub (res_ari_mailboxes' routes, texts and JSON), over HTTP
as an ARI client talks to it, against the same store as AMI and the CLI."""
import base64
import json
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import SANDBOX, WAIT, stored_counts

ARI = "http://127.0.0.1:8088/ari"
USER, PASSWORD = "mwihub", "mwihub-test"
MODULES_CONF = SANDBOX / "etc/asterisk/modules.conf"


def ari(method, path, query=None, body=None, auth=True, timeout=WAIT):
    """(status, parsed JSON or None) of one ARI request."""
    url = f"{ARI}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, text = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    return status, (json.loads(text) if text.strip() else None)


SERVED = "ARI:                 /ari/mailboxes served by res_mwi_hub"


@pytest.fixture(autouse=True)
def routes_added(request):
    """At boot the routes are added once Asterisk is fully booted (by a thread of the module's,
    a moment after `core waitfullybooted` returns): tests on a fresh hub wait for them."""
    if "hub" in request.fixturenames:
        request.getfixturevalue("hub").wait_cli("mwi show status", SERVED)


def name(tag):
    return f"ari{tag}{time.monotonic_ns() % 10**9}@ari"


def test_put_get_list_delete(hub):
    box = name("a")
    assert ari("PUT", f"/mailboxes/{box}", {"oldMessages": 1, "newMessages": 3, "urgentMessages": 2}) == (204, None)
    assert ari("GET", f"/mailboxes/{box}") == (
        200, {"name": box, "old_messages": 1, "new_messages": 3, "urgent_messages": 2})
    status, listed = ari("GET", "/mailboxes")
    assert status == 200 and {"name": box, "old_messages": 1, "new_messages": 3, "urgent_messages": 2} in listed
    assert [m["name"] for m in listed] == sorted(m["name"] for m in listed)
    # The JSON body's keys, over the query's.
    assert ari("PUT", f"/mailboxes/{box}", {"newMessages": 9}, body={"newMessages": 5, "oldMessages": 4}) == (204, None)
    assert ari("GET", f"/mailboxes/{box}")[1]["new_messages"] == 5
    # Missing counts are 0, as res_ari_mailboxes has them.
    assert ari("PUT", f"/mailboxes/{box}") == (204, None)
    assert stored_counts(hub, box) == (0, 0, 0)
    assert ari("DELETE", f"/mailboxes/{box}") == (204, None)
    assert ari("GET", f"/mailboxes/{box}") == (404, {"message": "Mailbox is does not exist"})
    assert ari("DELETE", f"/mailboxes/{box}") == (404, {"message": "Mailbox does not exist"})
    assert stored_counts(hub, box) is None


def test_ami_cli_and_ari_see_one_store(hub, ami):
    box = name("s")
    assert ari("PUT", f"/mailboxes/{box}", {"newMessages": 2, "oldMessages": 1}) == (204, None)
    assert stored_counts(hub, box) == (2, 1, 0)
    assert "ARI" in hub.cli(f"mwi show mailbox {box}")
    reply = ami.action("MWIUpdate", Mailbox=box, NewMessages="7", OldMessages="0", UrgentMessages="1")
    assert reply.get("Response") == "Success", reply
    assert ari("GET", f"/mailboxes/{box}")[1] == {"name": box, "old_messages": 0, "new_messages": 7,
                                                   "urgent_messages": 1}
    assert "deleted" in hub.cli(f"mwi delete mailbox {box}").lower()
    assert ari("GET", f"/mailboxes/{box}")[0] == 404


BAD_PUTS = [
    ("negative query count", {"newMessages": "-1"}, None, "Invalid newMessages: -1"),
    ("not a number", {"oldMessages": "3x"}, None, "Invalid oldMessages: 3x"),
    ("above 2^31-1", {"urgentMessages": "2147483648"}, None, "larger than 2147483647"),
    ("string in the body", None, {"newMessages": "3"}, "Invalid newMessages"),
    ("fraction in the body", None, {"oldMessages": 1.5}, "Invalid oldMessages: 1.5"),
    ("body not an object", None, [1, 2], "JSON object"),
]


@pytest.mark.parametrize("case,query,body,reason", BAD_PUTS, ids=[b[0] for b in BAD_PUTS])
def test_bad_counts_get_400_and_change_nothing(hub, case, query, body, reason):
    box = name("b")
    assert ari("PUT", f"/mailboxes/{box}", {"newMessages": 4}) == (204, None)
    status, answer = ari("PUT", f"/mailboxes/{box}", query, body=body)
    assert status == 400 and reason in answer["message"], (case, status, answer)
    assert stored_counts(hub, box) == (4, 0, 0)
    # A new mailbox is not created by a refused request either.
    other = name("n")
    assert ari("PUT", f"/mailboxes/{other}", query, body=body)[0] == 400
    assert stored_counts(hub, other) is None
    ari("DELETE", f"/mailboxes/{box}")


def test_bad_names_get_400(hub):
    status, answer = ari("PUT", "/mailboxes/" + urllib.parse.quote("a b"), {"newMessages": 1})
    assert status == 400 and answer["message"].startswith("Invalid mailboxName 'a b'"), answer
    assert stored_counts(hub, "a") is None
    status, answer = ari("GET", "/mailboxes/" + urllib.parse.quote("x" * 300))
    assert status == 400 and "at most" in answer["message"], answer


def test_a_panic_in_a_route_answers_500_and_asterisk_carries_on(hub_test_build):
    pid = hub_test_build.pid()
    status, answer = ari("GET", "/mailboxes/panic@res_mwi_hub_test")
    assert status == 500 and "see the Asterisk log" in answer["message"], (status, answer)
    hub_test_build.assert_survived(pid)
    assert ari("GET", "/mailboxes")[0] == 200


def test_res_ari_authenticates(hub):
    assert ari("GET", "/mailboxes", auth=False)[0] == 401
    assert ari("PUT", f"/mailboxes/{name('u')}", {"newMessages": 1}, auth=False)[0] == 401


def test_the_api_description_lists_the_routes_we_serve(hub):
    """What an ARI client library reads first (resources.json, then mailboxes.json) names
    exactly the routes and methods that answer."""
    status, resources = ari("GET", "/api-docs/resources.json")
    assert status == 200
    assert any(api["path"].endswith("/mailboxes.{format}") for api in resources["apis"]), resources
    status, doc = ari("GET", "/api-docs/mailboxes.json")
    assert status == 200, doc
    box = name("d")
    calls = {("PUT", "/mailboxes/{mailboxName}"): 204, ("GET", "/mailboxes/{mailboxName}"): 200,
             ("GET", "/mailboxes"): 200, ("DELETE", "/mailboxes/{mailboxName}"): 204}
    described = {(op["httpMethod"], api["path"]) for api in doc["apis"] for op in api["operations"]}
    assert described == set(calls), described
    for (method, path), expected in calls.items():  # in this order: the PUT creates the mailbox
        op = next(op for api in doc["apis"] if api["path"] == path for op in api["operations"]
                  if op["httpMethod"] == method)
        query = {p["name"]: 1 for p in op.get("parameters", []) if p["paramType"] == "query"}
        status, _ = ari(method, path.replace("{mailboxName}", box), query)
        assert status == expected, (method, path, status)


def test_an_ari_client_library_reading_the_description(hub):
    """Asterisk's node-ari-client (installed by `make deps`) builds its calls from the API
    description and uses them: update, get, list, delete."""
    box = name("lib")
    script = Path(__file__).parent / "ari_client" / "mailboxes_client.js"
    res = subprocess.run(["node", str(script), "http://127.0.0.1:8088", USER, PASSWORD, box],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert [l for l in res.stdout.splitlines() if l.startswith("ok ")] == [
        "ok the description has mailboxes", "ok get", "ok list", "ok deleted"], res.stdout
    assert stored_counts(hub, box) is None


def test_unload_and_load_under_ari_traffic(hub):
    stop = threading.Event()
    seen, errors = [], []

    def traffic():
        i = 0
        while not stop.is_set():
            box = f"aritraffic{i % 20}@ari"
            try:
                seen.append(ari("PUT", f"/mailboxes/{box}", {"newMessages": i % 7}, timeout=10)[0])
            except Exception as e:  # a refused connection or a timeout is a failure too
                errors.append(repr(e))
            i += 1

    pid = hub.pid()
    workers = [threading.Thread(target=traffic) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        for _ in range(10):
            hub.unload_patiently()
            time.sleep(0.05)
            hub.load()
            time.sleep(0.1)
    finally:
        stop.set()
        for w in workers:
            w.join()
    hub.assert_survived(pid)
    assert not errors, errors[:5]
    # Served (204), turned away while unloading (503), or not found while not loaded (404).
    assert set(seen) <= {204, 503, 404}, set(seen)
    assert 204 in seen
    assert ari("PUT", "/mailboxes/aritraffic0@ari", {"newMessages": 6}) == (204, None)
    assert stored_counts(hub, "aritraffic0@ari") == (6, 0, 0)
    hub.cli("mwi delete like ^aritraffic")


def test_res_ari_loaded_after_us_is_served_after_a_reload(asterisk):
    """Without res_ari at our start nothing is served (and `mwi show status` says so); res_ari
    loaded later is served after `module reload res_mwi_hub.so`. Nothing of ours keeps res_ari
    loaded: unloaded under us, it takes our routes with it, and our unload then leaves it be."""
    try:
        asterisk.stop()
        asterisk.control("configure")  # (start() would write modules.conf anew)
        MODULES_CONF.write_text(MODULES_CONF.read_text() + "\nnoload = res_ari.so\n" + "".join(
            f"noload = {m}\n" for m in ari_users()))
        asterisk.control("start")
        asterisk.ensure_loaded()
        assert status_ari(asterisk) == "res_ari not running"
        for m in ("res_stasis.so", "res_ari_model.so", "res_ari.so"):  # res_ari needs the other two
            out = asterisk.cli(f"module load {m}")
            assert "Loaded" in out, (m, out)
        assert status_ari(asterisk).startswith("res_ari running, /ari/mailboxes not served")
        assert ari("GET", "/mailboxes")[0] == 404
        out = asterisk.cli("module reload res_mwi_hub.so")
        assert "reloaded successfully" in out, out
        assert status_ari(asterisk) == "/ari/mailboxes served by res_mwi_hub"
        assert ari("GET", "/mailboxes")[0] == 200
        # res_ari goes (nothing of ours holds it), comes back; our old routes went with it.
        out = asterisk.cli("module unload res_ari.so")
        assert "Unloaded res_ari.so" in out, out
        assert status_ari(asterisk).startswith("res_ari not running since res_mwi_hub registered")
        assert "Loaded" in asterisk.cli("module load res_ari.so")
        assert ari("GET", "/mailboxes")[0] == 404
        # Our unload leaves the new res_ari's tree alone; loaded again, we serve it.
        asterisk.unload()
        asterisk.load()
        assert status_ari(asterisk) == "/ari/mailboxes served by res_mwi_hub"
        assert ari("GET", "/mailboxes")[0] == 200
        assert asterisk.pid() is not None
    finally:
        asterisk.restart()
        asterisk.ensure_loaded()
    asterisk.wait_cli("mwi show status", SERVED)
    assert ari("GET", "/mailboxes")[0] == 200


def ari_users():
    """The modules that need res_ari (they would load it)."""
    mods = SANDBOX / "usr/lib/x86_64-linux-gnu/asterisk/modules"
    return sorted(p.name for p in mods.glob("res_ari_*.so")) + sorted(
        p.name for p in mods.glob("res_stasis*.so")) + ["app_stasis.so"]


def status_ari(ast):
    m = re.search(r"^ARI:\s+(.*)$", ast.cli("mwi show status"), re.M)
    assert m, ast.cli("mwi show status")
    return m.group(1).strip()
