# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stapling role's audit on Linux: one read-only call per host (tlsops.ocsp.stapling_audit_info).

One lab (nginx, Apache and HAProxy with stapling turned on by their roles) and real runs of the
tlsops.ocsp.audit playbook: the call finds the servers, reads the roles' variables (defaults and the
user's), and reports what each server role's own audit reports, without including the roles.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

import pytest

from tests.conftest import free_port
from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import core, role_vars
from tests.support.audit_reports import comparable
from tests.support.many_endpoints import Site, make_targets, private_nginx
from tests.support.pki import corrupt_signature
from tests.support.role_checks import endpoint_facts

INTEGRATION = Path(__file__).resolve().parent
ONE_CALL = "Discover, inspect, plan and check every web server of the host in one read-only call"
ROLE_TASK = "Record the result of every endpoint"  # the server roles' report task
# an inventory host that is this machine, run with the tests' Python
LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
COMPARED = ("host", "port", "server_name", "certificate_path", "verdict", "stapling_applicable",
            "revocation_status", "revocation_source", "server_kind", "must_staple")


def all_role_vars(state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**role_vars.nginx(state), **role_vars.apache(state), **role_vars.haproxy(state), **extra}


@pytest.fixture(scope="module")
def enabled_lab(lab_factory, run_playbook):  # noqa: F811
    lab = lab_factory(revoke_initially=False)
    state = lab.state()
    for kind, playbook in (("nginx", "nginx/enable.yml"), ("apache", "apache/enable.yml"),
                           ("haproxy", "haproxy/enable.yml")):
        run = run_playbook(INTEGRATION / playbook, getattr(role_vars, kind)(state))
        assert run.returncode == 0, (kind, run.failure_messages())
    return lab


def audit(run_playbook, state: dict[str, Any], report_dir: Path, **extra: Any):
    return run_playbook("tlsops.ocsp.audit", {**all_role_vars(state, **extra), "tlsops_ocsp_report_dir": str(report_dir)})


def compared(entries: list[dict[str, Any]]) -> list[tuple]:
    return sorted(tuple(entry.get(key) for key in COMPARED) for entry in entries)


def test_one_call_reports_what_each_server_roles_own_audit_reports(enabled_lab: core.Lab, run_playbook, tmp_path):
    state = enabled_lab.state()
    run = audit(run_playbook, state, tmp_path, stapling_servers=["nginx", "apache", "haproxy"])
    assert run.returncode == 0, run.failure_messages()
    [call] = run.results(ONE_CALL)
    assert call["changed"] is False  # (the report play on localhost writes its files: that is its change)
    assert call["servers"] == ["apache", "haproxy", "nginx"]
    assert not run.results(ROLE_TASK), "no server role was included"
    by_kind = {kind: [entry for entry in call["endpoints"] if entry["server_kind"] == kind]
               for kind in ("nginx", "apache", "haproxy")}
    assert all(entry["inventory_host"] == "localhost" for entry in call["endpoints"])
    assert call["summary"]["endpoints"] == len(call["endpoints"]) > 0
    assert call["lines"][0].startswith("localhost: apache, haproxy, nginx; ")

    for kind in ("nginx", "haproxy"):  # the roles with an audit playbook of their own in the tests
        own = run_playbook(INTEGRATION / kind / "audit.yml", getattr(role_vars, kind)(state))
        assert own.returncode == 0, own.failure_messages()
        assert compared(by_kind[kind]) == compared(endpoint_facts(own, "%s_stapling" % kind).values()), kind
    verdicts = {entry["server_name"]: entry["verdict"] for entry in by_kind["apache"]}
    assert verdicts[state["leaves"]["must_staple"]["server_name"]] == "good"
    assert verdicts[state["leaves"]["no_ocsp"]["server_name"]] == "not_applicable"

    report = json.loads((tmp_path / "ocsp-audit.json").read_text())
    assert len(report["endpoints"]) == len(call["endpoints"])


def test_the_running_servers_are_found_without_stapling_servers(enabled_lab: core.Lab, run_playbook, tmp_path):
    run = audit(run_playbook, enabled_lab.state(), tmp_path)
    assert run.returncode == 0, run.failure_messages()
    [call] = run.results(ONE_CALL)
    assert {"nginx", "apache", "haproxy"} <= set(call["servers"])


def test_a_role_variable_of_the_wrong_type_fails_with_the_roles_specification(enabled_lab: core.Lab, run_playbook,
                                                                              tmp_path):
    run = audit(run_playbook, enabled_lab.state(), tmp_path, stapling_servers=["nginx"],
                nginx_stapling_warm_retries="many")
    assert run.returncode != 0
    # the failed call, then the report's critical line for the host it left unaudited
    messages = [message for message in run.failure_messages() if "argument specification" in message]
    assert len(messages) == 2 and "localhost could not be audited (failed)" in messages[1]
    assert all("tlsops.ocsp.nginx_stapling" in message and "nginx_stapling_warm_retries" in message
               for message in messages)


def test_check_mode_changes_nothing_and_reports_the_same(enabled_lab: core.Lab, run_playbook, tmp_path):
    state = enabled_lab.state()
    checked = run_playbook("tlsops.ocsp.audit", {**all_role_vars(state), "stapling_servers": ["nginx"],
                                                 "tlsops_ocsp_report_dir": str(tmp_path)}, check=True)
    assert checked.returncode == 0, checked.failure_messages()
    [call] = checked.results(ONE_CALL)
    assert {entry["verdict"] for entry in call["endpoints"]} == {"good", "not_applicable"}


def test_an_audit_never_goes_blind(enabled_lab: core.Lab, run_playbook, tmp_path):
    """One host that cannot be reached, one where the audit fails, and one whose nginx cannot be read beside a
    healthy Apache: all named in every form of the report, the healthy server still audited, the run failed."""
    state = enabled_lab.state()
    broken = tmp_path / "broken-nginx.conf"  # nginx -T fails on it with its own words
    broken.write_text(f"sll_stapling on;\ninclude {state['nginx']['config_file']};\n")
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {
        "web": {**LOCAL, **all_role_vars(state, nginx_stapling_config_file=str(broken)),
                "stapling_servers": ["nginx", "apache"]},
        "failing": {**LOCAL, "ansible_python_interpreter": "/nonexistent/python3"},
        "ghost": {"ansible_host": "127.0.0.1", "ansible_port": free_port(), "ansible_connection": "ssh",
                  "ansible_ssh_common_args": "-o ConnectTimeout=3 -o StrictHostKeyChecking=no"},
    }}}))
    report_dir = tmp_path / "report"
    run = run_playbook("tlsops.ocsp.audit", {"tlsops_ocsp_report_dir": str(report_dir)}, inventory=str(inventory))
    assert run.returncode != 0  # what could not be audited is critical
    data = json.loads((report_dir / "ocsp-audit.json").read_text())
    states = {item["host"]: item for item in data["coverage"]["not_audited"]}
    assert (states["ghost"]["state"], states["failing"]["state"]) == ("unreachable", "failed"), states
    assert "ssh" in states["ghost"]["reason"].lower() and "/nonexistent/python3" in states["failing"]["reason"]
    [unreadable] = data["coverage"]["unreadable_servers"]
    assert (unreadable["host"], unreadable["server"]) == ("web", "nginx")
    assert 'unknown directive "sll_stapling"' in unreadable["reason"], unreadable
    assert data["coverage"]["audited"] == ["web"]
    assert data["summary"]["hosts_by_state"] == {"audited": 1, "unreachable": 1, "failed": 1, "not_run": 0,
                                                 "unreadable_servers": 1}
    apache = [entry for entry in data["endpoints"] if entry["server_kind"] == "apache"]
    assert apache and {entry["verdict"] for entry in apache} == {"good", "not_applicable"}
    messages = " ".join(run.failure_messages())
    assert "ghost could not be audited (unreachable)" in messages and "web nginx could not be read" in messages
    assert "## Not audited" in (report_dir / "ocsp-audit.md").read_text()
    assert 'id="coverage"' in (report_dir / "ocsp-audit.html").read_text()
    assert 'tlsops_ocsp_hosts{state="unreachable"} 1' in (report_dir / "ocsp-audit.prom").read_text()


def real_staple(leaf: dict[str, Any], state: dict[str, Any], dest: Path) -> bytes:
    """What the lab's `openssl ocsp` responder answers for the leaf, as a server would staple it."""
    subprocess.run(["openssl", "ocsp", "-issuer", state["pki"]["intermediate"]["cert"], "-cert", leaf["cert"],
                    "-url", leaf["ocsp_url"], "-respout", str(dest), "-noverify"],
                   check=True, capture_output=True, timeout=30)
    return dest.read_bytes()


def outside_sites(state: dict[str, Any], workdir: Path) -> list[Site]:
    """The lab's leaves, served as an appliance would: a good staple from the real responder, a Must-Staple
    certificate without one, a certificate without OCSP URL, and a forged staple."""
    leaves = state["leaves"]

    def site(leaf: str, kind: str, staple: Optional[bytes]) -> Site:
        entry = leaves[leaf]
        return Site(entry["server_name"], kind, Path(entry["fullchain"]).read_bytes(),
                    Path(entry["key"]).read_bytes(), staple)

    return [site("plain", "good", real_staple(leaves["plain"], state, workdir / "plain.der")),
            site("must_staple", "no_staple", None),
            site("no_ocsp", "not_applicable", None),
            site("revoked", "bad_signature",
                 corrupt_signature(real_staple(leaves["revoked"], state, workdir / "revoked.der")))]


def test_endpoints_no_one_logs_in_to_are_audited_from_the_controller_in_the_same_report(
        enabled_lab: core.Lab, run_playbook, tmp_path):
    """200 loopback endpoints of a private nginx (an appliance's), given as tlsops_ocsp_outside_endpoints, and
    one closed port in the inventory group tlsops_ocsp_outside: checked from the controller, reported beside the
    audited host's endpoints and marked as checked from outside; the Must-Staple one without a staple fails the run."""
    state = enabled_lab.state()
    targets = make_targets(outside_sites(state, tmp_path), 200, addresses=4)
    closed = "127.0.0.1:%d/lb.lab.test" % free_port()
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {
        "hosts": {"localhost": LOCAL},
        "children": {"tlsops_ocsp_outside": {"hosts": {"lb-down": {"tlsops_ocsp_endpoint": closed}}}}}}))
    report_dir = tmp_path / "report"
    with private_nginx(shutil.which("nginx") or "/usr/sbin/nginx", tmp_path / "appliance", targets):
        run = run_playbook("tlsops.ocsp.audit", {
            **all_role_vars(state, stapling_servers=["nginx"]), "tlsops_ocsp_report_dir": str(report_dir),
            "tlsops_ocsp_outside_endpoints": [target.text for target in targets]}, inventory=str(inventory))

    assert run.returncode != 0  # a Must-Staple certificate served without a staple is critical
    data = json.loads((report_dir / "ocsp-audit.json").read_text())
    outside = {(row["host"], row["port"]): row for row in data["endpoints"] if row.get("checked_from") == "outside"}
    assert len(outside) == 201 and data["summary"]["outside_endpoints"] == 201
    expected = {"good": ("good", "staple"), "no_staple": ("good", "responder"), "not_applicable": ("good", "crl"),
                "bad_signature": (None, None)}
    for target in targets:
        row = outside[(target.address, target.port)]
        assert (row["server_name"], row["verdict"]) == (target.site.name, target.site.kind), row["reason"]
        assert (row["revocation_status"], row["revocation_source"]) == expected[target.site.kind], row
        assert (row["inventory_host"], row["server_kind"]) == ("outside", "outside")
    down = outside[("127.0.0.1", int(closed.split(":")[1].split("/")[0]))]
    assert (down["inventory_host"], down["server_name"], down["verdict"]) == ("lb-down", "lb.lab.test", "unreachable")
    host_rows = [row for row in data["endpoints"] if row.get("checked_from") != "outside"]
    assert host_rows and {row["server_kind"] for row in host_rows} == {"nginx"}
    assert data["coverage"]["audited"] == ["localhost"] and data["summary"]["hosts"] == 1
    must_staple = state["leaves"]["must_staple"]["server_name"]
    assert sum(line.startswith("outside outside 127.0.0.") and "(%s): no_staple - " % must_staple in line
               for line in data["critical"]) == 50, data["critical"]
    assert 'id="count-outside">201</span>' in (report_dir / "ocsp-audit.html").read_text()
    metrics = (report_dir / "ocsp-audit.prom").read_text()
    assert metrics.count('tlsops_ocsp_endpoint_verdict{host="outside",server="outside"') == 200


def test_a_limit_without_localhost_stops_before_auditing_and_with_it_the_report_is_written(
        enabled_lab: core.Lab, run_playbook, tmp_path):
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"hosts": {"web1": LOCAL, "web2": LOCAL}}}))
    extra = {**all_role_vars(enabled_lab.state(), stapling_servers=["nginx"]), "tlsops_ocsp_report_dir": str(tmp_path)}

    limited = run_playbook("tlsops.ocsp.audit", extra, inventory=str(inventory), args=("--limit", "web1"))
    assert limited.returncode != 0 and not (tmp_path / "ocsp-audit.json").exists()
    assert limited.failure_messages("web1") == ["--limit 'web1' leaves out localhost, where the audit writes its report: add "
                                                "it to the limit (--limit 'web1:localhost'); nothing was audited"]

    with_localhost = run_playbook("tlsops.ocsp.audit", extra, inventory=str(inventory), args=("--limit", "web1:localhost"))
    assert with_localhost.returncode == 0, with_localhost.failure_messages()
    written = json.loads((tmp_path / "ocsp-audit.json").read_text())
    assert written["coverage"]["audited"] == ["web1"] and not written["coverage"]["not_audited"]


def test_a_sliced_audit_merged_equals_the_unsliced_one(enabled_lab: core.Lab, run_playbook, tmp_path):
    """Four hosts audited at once, then as three slices (each with its share of the inventory, as AWX's job
    slicing gives it, writing its part) and one merge: the same report. A slice whose host fails counts it as
    failed; a slice that wrote no part leaves its host not_run."""
    state = enabled_lab.state()
    hosts = {**{name: dict(LOCAL) for name in ("web1", "web2", "web3")},
             "web4": {**LOCAL, "ansible_python_interpreter": "/nonexistent/python3"}}

    def inventory(names: str) -> str:
        path = tmp_path / ("inventory-%s.json" % names.replace(",", "-"))
        path.write_text(json.dumps({"all": {"hosts": {name: hosts[name] for name in names.split(",")}}}))
        return str(path)

    def audit_run(report_dir: Path, names: str, **extra: Any):
        return run_playbook("tlsops.ocsp.audit", {**all_role_vars(state, stapling_servers=["nginx"]),
                                                  "tlsops_ocsp_report_dir": str(report_dir), **extra},
                            inventory=inventory(names))

    everyone = "web1,web2,web3,web4"
    unsliced = audit_run(tmp_path / "unsliced", everyone)
    assert unsliced.returncode != 0  # web4 could not be audited
    sliced_dir = tmp_path / "sliced"
    for names in ("web1,web2", "web3", "web4"):
        [written] = audit_run(sliced_dir, names, tlsops_ocsp_part="auto").results(
            "Write the audit report on the controller")
        assert not written.get("failed"), written.get("msg")
    assert len(list(sliced_dir.glob("ocsp-audit.part-*.json"))) == 3 and not (sliced_dir / "ocsp-audit.json").exists()
    merge = audit_run(sliced_dir, everyone, tlsops_ocsp_merge_parts=True)

    assert merge.returncode != 0 and "web4 could not be audited (failed)" in " ".join(merge.failure_messages())
    want = json.loads((tmp_path / "unsliced" / "ocsp-audit.json").read_text())
    got = json.loads((sliced_dir / "ocsp-audit.json").read_text())
    assert comparable(got) == comparable(want)
    assert got["summary"]["hosts_by_state"]["failed"] == 1 and len(got["coverage"]["audited"]) == 3
    assert not list(sliced_dir.glob("ocsp-audit.part-*.json"))  # merged, so the next sliced run starts clean
    assert 'tlsops_ocsp_hosts{state="failed"} 1' in (sliced_dir / "ocsp-audit.prom").read_text()

    for names in ("web1,web2", "web4"):  # web3's slice never wrote its part
        audit_run(sliced_dir, names, tlsops_ocsp_part="auto")
    audit_run(sliced_dir, everyone, tlsops_ocsp_merge_parts=True)
    again = json.loads((sliced_dir / "ocsp-audit.json").read_text())
    states = {item["host"]: item["state"] for item in again["coverage"]["not_audited"]}
    assert states == {"web3": "not_run", "web4": "failed"}
    assert again["since_last"]["gone"] and all(ident[0] == "web3" for ident in again["since_last"]["gone"])
