"""One peer cannot grow the store without bound: `max_mailboxes_per_endpoint` (res_mwi_hub.conf)
caps the mailboxes one endpoint's `${ACCOUNT}` mapping may create. Beyond it a NOTIFY for a new
account is refused (403) and publishes nothing, logged once per episode; the mailboxes the
endpoint holds keep updating, and `mwi show status` shows its count against the limit."""
import re

import pytest

from conftest import SANDBOX, LogWatch, mwi_state, send_notify, stored_counts

CONF = SANDBOX / "etc/asterisk/res_mwi_hub.conf"
REFUSED = (403, "Mailbox limit reached for this endpoint")


def notify(account, new):
    return send_notify(["Messages-Waiting: yes", f"Message-Account: sip:{account}@vm.example",
                        f"Voice-Message: {new}/0"])


def limit_warnings(log):
    return [l for l in log.text().splitlines()
            if "WARNING[" in l and "endpoint 'vmtrunk' holds" in l and "max_mailboxes_per_endpoint" in l]


def status_row(hub, endpoint):
    m = re.search(rf"^  {endpoint} +(.*)$", hub.cli("mwi show status"), re.M)
    return m and m.group(1).strip()


def reload_with(hub, text):
    CONF.write_text(text)
    out = hub.cli("module reload res_mwi_hub.so")
    assert "reloaded successfully" in out, out


@pytest.fixture
def limited(hub):
    hub.cli("mwi delete like @remote$")
    reload_with(hub, "[general]\nmax_mailboxes_per_endpoint = 3\n")
    yield hub
    CONF.unlink(missing_ok=True)
    hub.cli("module reload res_mwi_hub.so")
    hub.cli("mwi delete like @remote$")


def test_new_accounts_beyond_the_limit_are_refused_and_existing_ones_keep_updating(limited):
    hub = limited
    log = LogWatch()
    answers = [notify(f"lim{i}", i + 1) for i in range(6)]
    assert answers[:3] == [(200, "OK")] * 3, answers
    assert answers[3:] == [REFUSED] * 3, answers
    for i in range(3):
        assert stored_counts(hub, f"lim{i}@remote") == (i + 1, 0, 0)
    for i in range(3, 6):
        assert stored_counts(hub, f"lim{i}@remote") is None
        assert mwi_state(hub, f"lim{i}@remote") is None, "a refused NOTIFY published"
    # The endpoint's own mailboxes keep updating at the limit.
    assert notify("lim0", 7) == (200, "OK")
    assert stored_counts(hub, "lim0@remote") == (7, 0, 0)
    assert mwi_state(hub, "lim0@remote") == (7, 0, 0)
    # Logged once for the three refusals, with what to change.
    warnings = limit_warnings(log)
    assert len(warnings) == 1, warnings
    assert "max_mailboxes_per_endpoint = 3" in warnings[0] and "403" in warnings[0], warnings
    assert status_row(hub, "vmtrunk") == "3 of 3, full, 3 NOTIFYs for new accounts refused"
    assert "Mailboxes per endpoint: at most 3 each (max_mailboxes_per_endpoint)" in hub.cli("mwi show status")
    assert not log.our_errors()

    # A deleted mailbox makes room: the next new account is taken; full again, logged again.
    assert "deleted" in hub.cli("mwi delete mailbox lim1@remote").lower()
    assert status_row(hub, "vmtrunk") == "2 of 3, 3 NOTIFYs for new accounts refused"
    assert notify("lim6", 1) == (200, "OK")
    assert notify("lim7", 1) == REFUSED
    assert len(limit_warnings(log)) == 2
    assert status_row(hub, "vmtrunk") == "3 of 3, full, 4 NOTIFYs for new accounts refused"

    # Raised on reload: taken at once.
    reload_with(hub, "[general]\nmax_mailboxes_per_endpoint = 4\n")
    assert notify("lim7", 2) == (200, "OK")
    assert stored_counts(hub, "lim7@remote") == (2, 0, 0)
    assert status_row(hub, "vmtrunk") == "4 of 4, full, 4 NOTIFYs for new accounts refused"


def test_a_bad_limit_is_refused_with_a_clear_warning_and_changes_nothing(limited):
    hub = limited
    log = LogWatch()
    reload_with(hub, "[general]\nmax_mailboxes_per_endpoint = lots\n")
    log.wait_for(r"max_mailboxes_per_endpoint = lots: expected a whole number from 0 \(no limit\) "
                 r"to 100000000; ignored")
    # The default, 10000, is in force again: the fourth account is taken.
    assert "Mailboxes per endpoint: at most 10000 each" in hub.cli("mwi show status")
    assert [notify(f"bad{i}", 1) for i in range(4)] == [(200, "OK")] * 4
    reload_with(hub, "[general]\nmax_mailboxes_per_endpoint = 0\n")
    assert "Mailboxes per endpoint: no limit (max_mailboxes_per_endpoint)" in hub.cli("mwi show status")
    # 4 held, no "of", never full (refusals since load may stand beside it).
    assert status_row(hub, "vmtrunk").split(",")[0] == "4", status_row(hub, "vmtrunk")
    assert "full" not in status_row(hub, "vmtrunk")
