# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy 3.0 updating OCSP itself, on a Debian 13 host of the test fleet (HAProxy 3.0.11, systemd 257), over SSH.

Two labs, two answers: the lab's responder signing with its delegated responder certificate (RFC 6960
4.2.2.2, as most CAs do), which HAProxy 3.0's own check refuses, and one signing with the issuing CA itself,
which it takes. With `haproxy_stapling_updater: auto` the role asks a throwaway HAProxy first: the second
case ends on HAProxy's own updater (the global `ocsp-update.mode on`), the first on the role's refresher, and
the report says why. Either way: staples good, a second run changes nothing, staples after a restart of
HAProxy, and `absent` puts /etc/haproxy back byte for byte.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

from tests.fleet import fleet as test_fleet
from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import responder, role_vars

HOST = "h001"
WARM = {"haproxy_stapling_warm_retries": role_vars.WARM["retries"],
        "haproxy_stapling_warm_delay": role_vars.WARM["delay"]}
# every server of the host serves the lab's 4 leaves: 3 with an OCSP URL, the no_ocsp one without
HAPROXY_GOOD = 3
STANZA_UPDATER = "    ocsp-update.mode on\n"
TIMER = "tlsops-ocsp-haproxy-refresh.timer"


def tree(host: test_fleet.Host, directory: str) -> Dict[str, bytes]:
    """Every file below `directory` of the running host, by path."""
    root = host.path(directory)
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def haproxy_changed(run) -> set:
    """The `changed` flags of HAProxy's endpoint entries in an enable run (the role's own record of the run)."""
    return {entry["changed"] for result in run.results("Record the result of every endpoint", HOST)
            for entry in result.get("ansible_facts", {}).get("haproxy_stapling_endpoints", [])}


def haproxy_rows(report_dir: Path) -> list[Dict[str, Any]]:
    report = json.loads((report_dir / "ocsp-audit.json").read_text())
    return [row for row in report["endpoints"] if row["server_kind"] == "haproxy"]


@pytest.fixture(scope="module", params=[responder.ISSUER, responder.DELEGATE], ids=["issuer-signed", "delegated"])
def debian13_haproxy(request, lab_factory, tmp_path_factory) -> Iterator[tuple]:  # noqa: F811
    """A Debian 13 host with nginx and HAProxy 3.0 serving a lab whose responder signs as the parameter says;
    /etc/haproxy as it was before any run."""
    lab = lab_factory(components=("responder",), revoke_initially=False, responder_signer=request.param)
    with test_fleet.fleet(tmp_path_factory.mktemp("fleet13"), lab.state(), 1, haproxy=(1,), trixie=(1,),
                          group_vars=WARM) as started:
        host = started.host(HOST)
        assert host.nsenter("haproxy", "-v").stdout.startswith("HAProxy version 3.0")
        yield request.param, started, tree(host, "/etc/haproxy")
    lab.stop()


def test_haproxy_3_staples_with_its_own_updater_or_the_refresher_as_its_check_allows(
        debian13_haproxy, run_playbook, tmp_path):
    signer, fleet, before = debian13_haproxy
    host = fleet.host(HOST)
    inventory = str(fleet.inventory)
    first = run_playbook("tlsops.ocsp.enable", inventory=inventory)
    assert first.returncode == 0, first.failure_messages(HOST)
    config = host.path("/etc/haproxy/haproxy.cfg").read_text()
    timer = host.systemctl("is-active", TIMER, check=False).stdout.strip()
    if signer == responder.ISSUER:
        # HAProxy takes the issuer's own answers: its updater does the work, no refresher
        assert STANZA_UPDATER in config and timer != "active"
        assert not host.path("/etc/haproxy/certs/plain.pem.ocsp").exists()
    else:
        # HAProxy 3.0 refuses the delegated responder's answers: the refresher, which verifies them, staples
        assert STANZA_UPDATER not in config and timer == "active"
        reasons = [result["msg"] for result in first.results("keeps these certificates' staples fresh", HOST)
                   for result in result.get("results", [])]
        assert any("refused the responder's answer (OCSP response check failure)" in reason for reason in reasons), \
            reasons

    assert haproxy_changed(first) == {True}  # the role's stanza changed: its endpoints say so
    second = run_playbook("tlsops.ocsp.enable", inventory=inventory)
    assert second.returncode == 0 and second.changed(HOST) == 0, second.failure_messages(HOST)
    assert haproxy_changed(second) == {False}

    audit = run_playbook("tlsops.ocsp.audit", {"tlsops_ocsp_report_dir": str(tmp_path / "audit")}, inventory=inventory)
    assert audit.returncode == 0, audit.failure_messages(HOST)
    rows = haproxy_rows(tmp_path / "audit")
    assert sum(row["verdict"] == "good" for row in rows) == HAPROXY_GOOD, rows
    notes = {row.get("note") for row in rows if row["verdict"] == "good"}
    if signer == responder.ISSUER:
        assert notes == {None}
    else:
        assert all(note and "refused the responder's answer (OCSP response check failure)" in note
                   for note in notes), notes

    # a restart drops what HAProxy held in memory: it staples again from its updater or the .ocsp files
    host.systemctl("restart", "haproxy.service")
    after_restart = run_playbook("tlsops.ocsp.audit", {"tlsops_ocsp_report_dir": str(tmp_path / "restart")},
                                 inventory=inventory)
    assert after_restart.returncode == 0, after_restart.failure_messages(HOST)
    assert sum(row["verdict"] == "good" for row in haproxy_rows(tmp_path / "restart")) == HAPROXY_GOOD

    absent = run_playbook("tlsops.ocsp.enable", {"haproxy_stapling_state": "absent", "nginx_stapling_state": "absent"},
                          inventory=inventory)
    assert absent.returncode == 0, absent.failure_messages(HOST)
    assert tree(host, "/etc/haproxy") == before
    assert host.systemctl("is-active", TIMER, check=False).stdout.strip() != "active"
