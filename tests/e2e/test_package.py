"""`make deb`'s package, as a Debian admin uses it: dpkg -i into the sandbox, Asterisk restarted,
the module loaded and working; dpkg -r removes the module and docs and keeps the mailbox store;
lintian reports no errors."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import MODULE, SANDBOX, stored_counts

ROOT = Path(__file__).resolve().parents[2]
DEB = Path(os.environ.get("DEB") or next(iter(sorted((ROOT / "target/deb").glob("res-mwi-hub_*.deb"))), ROOT / "target/deb"))
MODULE_FILE = SANDBOX / "usr/lib/x86_64-linux-gnu/asterisk/modules/res_mwi_hub.so"
DOCS_FILE = SANDBOX / "usr/share/asterisk/documentation/thirdparty/res_mwi_hub-en_US.xml"
CONF_FILE = SANDBOX / "etc/asterisk/res_mwi_hub.conf"
STORE = SANDBOX / "var/lib/asterisk/res_mwi_hub.sqlite3"


def chroot(*args):
    return subprocess.run(["chroot", str(SANDBOX), *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def packaged(asterisk):
    """The sandbox with res-mwi-hub installed from the package; afterwards the package is
    gone and the tests' own module and docs are back."""
    assert DEB.is_file(), f"{DEB} missing: run make deb"
    shutil.copy(DEB, SANDBOX / "tmp/res-mwi-hub.deb")
    yield asterisk
    chroot("dpkg", "--purge", "res-mwi-hub")
    asterisk.stop()
    asterisk.install(MODULE)
    asterisk.start()  # writes the docs and the configuration anew
    asterisk.ensure_loaded()


def test_lintian_reports_no_errors():
    res = subprocess.run(["lintian", "--fail-on", "error", str(DEB)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert not re.search(r"^E: ", res.stdout, re.M), res.stdout


def test_dpkg_install_loads_and_remove_keeps_the_store(packaged):
    ast = packaged
    ast.stop()
    for f in (MODULE_FILE, DOCS_FILE, CONF_FILE):
        f.unlink(missing_ok=True)  # everything below must come from the package
    res = chroot("env", "DEBIAN_FRONTEND=noninteractive", "dpkg", "--force-confdef", "--force-confold",
                 "-i", "/tmp/res-mwi-hub.deb")
    assert res.returncode == 0, res.stdout + res.stderr
    for f in (MODULE_FILE, DOCS_FILE, CONF_FILE):
        assert f.is_file(), f
    listed = chroot("dpkg", "-L", "res-mwi-hub").stdout
    assert "/usr/lib/x86_64-linux-gnu/asterisk/modules/res_mwi_hub.so" in listed, listed
    assert "/etc/asterisk/res_mwi_hub.conf" in chroot("dpkg-query", "-W", "-f=${Conffiles}", "res-mwi-hub").stdout
    ast.control("start")  # (not start(): that would put the tests' own docs back)
    ast.ensure_loaded()
    assert ast.module_status() == "Running"
    out = ast.cli("mwi update mailbox pkgtest@deb 4 1 0")
    assert "(created and published)" in out or "(updated and published)" in out, out
    assert stored_counts(ast, "pkgtest@deb") == (4, 1, 0)
    # The documentation the package installed is what Asterisk shows.
    assert "server_uri" in ast.cli("config show help res_mwi_hub mwi-subscription")
    ast.stop()
    res = chroot("dpkg", "-r", "res-mwi-hub")
    assert res.returncode == 0, res.stdout + res.stderr
    assert not MODULE_FILE.exists() and not DOCS_FILE.exists()
    assert CONF_FILE.exists()  # a conffile stays until purge, as Debian admins expect
    assert STORE.is_file()  # the mailbox store is data, never the package's
    ast.control("start")
    assert ast.module_status() is None, ast.cli("module show like res_mwi_hub")
    # Installed again, the stored mailbox is there.
    assert chroot("dpkg", "-i", "/tmp/res-mwi-hub.deb").returncode == 0
    ast.ensure_loaded()
    assert stored_counts(ast, "pkgtest@deb") == (4, 1, 0)
    ast.cli("mwi delete mailbox pkgtest@deb")
