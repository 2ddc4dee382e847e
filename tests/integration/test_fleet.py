# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet entry points end to end, as operators run them: over SSH to hosts with systemd.

The fleet (tests/fleet) is a mixed one, as fleets are: h001 and h002 boot
Debian 12 (nginx 1.22, Apache 2.4, Python 3.11), h003 Debian 13 (nginx 1.26,
Apache 2.4, HAProxy 3.0, Python 3.13, systemd 257), each from a cached root,
with systemd as PID 1 in namespaces of its own and sshd on its own port;
every host runs nginx, h002 and h003 apache2 too, h003 haproxy too, managed
by the host's systemd and serving the lab's leaves. ansible-playbook reaches them with
`ansible_connection: ssh`, pipelining and a key made for the run; the lab's
OCSP responder runs on this machine. The report is opened in a real
headless Chromium.

One case stays on localhost with the lab's private servers: a revoked leaf
from the start, which fails enable and audit (that needs a lab of its own).
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.fleet import fleet as test_fleet
from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import demo, role_vars

ARTIFACTS = Path(__file__).resolve().parents[1] / "output"
HOSTS = ("h001", "h002", "h003")
APACHE_HOST = "h002"
APACHE_HOSTS = ("h002", "h003")
HAPROXY_HOST = "h003"
DEBIAN_13_HOSTS = ("h003",)
SERVERS = {host: 1 + (host in APACHE_HOSTS) + (host == HAPROXY_HOST) for host in HOSTS}
# every server serves the lab's 4 leaves: 3 staple good, no_ocsp is not applicable
ENDPOINTS = 4 * sum(SERVERS.values())
EXPECTED_VERDICTS = {"good": 3 * sum(SERVERS.values()), "not_applicable": sum(SERVERS.values())}
# ansible counts a host for max_fail_percentage only when its failure ends its tasks; roles/stapling
# fails inside a block whose `always:` writes the summary, so the host is never counted and the next
# batch starts (a batch that fails entirely, like the canary alone, still stops the play)
WARM_VARS = {"nginx_stapling_warm_retries": role_vars.WARM["retries"],
             "nginx_stapling_warm_delay": role_vars.WARM["delay"],
             "apache_stapling_warm_retries": role_vars.WARM["retries"],
             "apache_stapling_warm_delay": role_vars.WARM["delay"]}


def audit(run_playbook, inventory: Path, report_dir: Path, **options: Any):
    return run_playbook("tlsops.ocsp.audit", {"tlsops_ocsp_report_dir": str(report_dir)},
                        inventory=str(inventory), **options)


def journal(host: test_fleet.Host, unit: str) -> str:
    return host.nsenter("journalctl", "-b", "-u", unit, "--no-pager", "-o", "cat").stdout


@pytest.fixture(scope="module")
def ssh_fleet(lab_factory, tmp_path_factory) -> Iterator[test_fleet.Fleet]:  # noqa: F811
    """Three hosts over SSH serving a lab whose leaves are all good; killed when the module ends."""
    lab = lab_factory(components=("responder",), revoke_initially=False)
    with test_fleet.fleet(tmp_path_factory.mktemp("fleet"), lab.state(), len(HOSTS),
                          apache=tuple(HOSTS.index(host) + 1 for host in APACHE_HOSTS),
                          haproxy=(HOSTS.index(HAPROXY_HOST) + 1,),
                          trixie=tuple(HOSTS.index(host) + 1 for host in DEBIAN_13_HOSTS),
                          group_vars=WARM_VARS) as started:
        yield started


@pytest.fixture(scope="module")
def enabled_fleet(ssh_fleet, run_playbook):
    """The fleet after one enable run, with each server's MainPID before it: (fleet, first run, pids)."""
    pids = {(host.name, unit): host.main_pid(unit) for host in ssh_fleet.hosts
            for unit in ("nginx.service", "apache2.service") if host.main_pid(unit)}
    first = run_playbook("tlsops.ocsp.enable", inventory=str(ssh_fleet.inventory))
    return ssh_fleet, first, pids


def test_enable_over_ssh_then_second_enable_changes_nothing(enabled_fleet, run_playbook):
    fleet, first, _pids = enabled_fleet
    assert first.returncode == 0, [first.failure_messages(host) for host in HOSTS]
    assert all(first.changed(host) > 0 for host in HOSTS)
    second = run_playbook("tlsops.ocsp.enable", inventory=str(fleet.inventory))
    assert second.returncode == 0, [second.failure_messages(host) for host in HOSTS]
    assert {host: second.changed(host) for host in HOSTS} == {host: 0 for host in HOSTS}


def test_enable_reloads_nginx_through_systemd(enabled_fleet):
    """systemd ran nginx's ExecReload (its journal says so) and the master process stayed: a reload, no restart."""
    fleet, first, pids = enabled_fleet
    assert first.returncode == 0
    for host in fleet.hosts:
        assert "Reloaded" in journal(host, "nginx.service"), host.name
        assert host.main_pid("nginx.service") == pids[(host.name, "nginx.service")], host.name
        assert "ssl_stapling on;" in host.nsenter("nginx", "-T").stdout, host.name  # what nginx now runs with


def test_the_fleet_mixes_debian_12_and_debian_13(ssh_fleet):
    releases = {host.name: host.nsenter("cat", "/etc/debian_version").stdout.split(".")[0] for host in ssh_fleet.hosts}
    assert releases == {host: "13" if host in DEBIAN_13_HOSTS else "12" for host in HOSTS}


def test_enable_reloads_or_restarts_apache_through_systemd(enabled_fleet):
    fleet, first, pids = enabled_fleet
    assert first.returncode == 0
    for name in APACHE_HOSTS:
        apache = fleet.host(name)
        log = journal(apache, "apache2.service")
        # the role restarts Apache when it adds SSLStaplingCache (a graceful restart cannot), reloads otherwise
        assert "Reloaded" in log or log.count("Started") == 2, (name, log)
        assert apache.main_pid("apache2.service") > 0
        assert (name, "apache2.service") in pids


def test_enable_reloads_haproxy_through_systemd(enabled_fleet):
    fleet, first, _pids = enabled_fleet
    assert first.returncode == 0
    haproxy = fleet.host(HAPROXY_HOST)
    log = journal(haproxy, "haproxy.service")
    assert "Reloaded" in log or log.count("Started") == 2, log
    # HAProxy 3.0 refuses the lab's delegated responder's answers: the refresher keeps them fresh, and where
    # systemd runs, its timer does: no Ansible on the host, no cron
    assert haproxy.systemctl("is-active", "tlsops-ocsp-haproxy-refresh.timer").stdout.strip() == "active"
    haproxy.systemctl("start", "tlsops-ocsp-haproxy-refresh.service")  # a oneshot: returns once it ran, fails if it did
    assert haproxy.systemctl("show", "-p", "Result", "tlsops-ocsp-haproxy-refresh.service").stdout.strip() \
        == "Result=success"
    assert not haproxy.path("/etc/cron.d/tlsops-ocsp-haproxy-refresh").exists()


def test_audit_over_ssh_reports_every_endpoint(enabled_fleet, run_playbook, tmp_path):
    fleet, _first, _pids = enabled_fleet
    run = audit(run_playbook, fleet.inventory, tmp_path)
    assert run.returncode == 0, [run.failure_messages(host) for host in HOSTS]
    assert {host: run.changed(host) for host in HOSTS} == {host: 0 for host in HOSTS}
    report = json.loads((tmp_path / "ocsp-audit.json").read_text())
    assert report["summary"]["by_verdict"] == EXPECTED_VERDICTS
    assert report["summary"]["critical"] == 0
    rows = {(row["inventory_host"], row["server_kind"], row["server_name"]) for row in report["endpoints"]}
    assert (APACHE_HOST, "apache", "must-staple.lab.test") in rows
    assert {(host, "nginx", "plain.lab.test") for host in HOSTS} <= rows
    markdown = (tmp_path / "ocsp-audit.md").read_text()
    assert {host: markdown.count(f"| {host} |") for host in HOSTS} == {host: 4 * SERVERS[host] for host in HOSTS}


def test_audit_in_check_mode_changes_nothing_and_still_reports(enabled_fleet, run_playbook, tmp_path):
    fleet, _first, _pids = enabled_fleet
    run = audit(run_playbook, fleet.inventory, tmp_path, check=True)
    assert run.returncode == 0, [run.failure_messages(host) for host in HOSTS]
    assert run.changed("localhost") == 1  # only the report, written on the controller
    assert all(run.changed(host) == 0 for host in HOSTS)
    assert (tmp_path / "ocsp-audit.html").exists()


def test_html_report_renders_in_chromium(enabled_fleet, run_playbook, tmp_path):
    fleet, _first, _pids = enabled_fleet
    assert audit(run_playbook, fleet.inventory, tmp_path).returncode == 0
    page = (tmp_path / "ocsp-audit.html").as_uri()  # chromium: Debian's, from tests/setup/system-deps.sh
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert dom.count("<tr class=") == ENDPOINTS
    assert 'id="count-critical">0<' in dom
    assert f'id="count-endpoints">{ENDPOINTS}<' in dom and f'id="count-hosts">{len(HOSTS)}<' in dom
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "ocsp-audit.png"
    subprocess.run(["chromium", *flags, f"--screenshot={screenshot}", "--window-size=1400,1000", page],
                   capture_output=True, timeout=120, check=True)
    assert screenshot.stat().st_size > 10_000


@pytest.mark.parametrize(("serial", "reached"), [
    (None, {"h001"}),  # the playbook's batches: the canary alone first
    # one of two fails: 50 % > max_fail_percentage 10 %, h003 must never start
    ([2, 1], {"h001", "h002"}),
], ids=["canary", "max-fail-percentage"])
def test_failing_canary_stops_the_rollout(enabled_fleet, run_playbook, serial, reached):
    """The canary's nginx configuration is broken before the run: it fails, and the later batches never start."""
    fleet, _first, _pids = enabled_fleet
    canary = fleet.host(HOSTS[0])
    broken = canary.path("/etc/nginx/sites-enabled/zz-broken.conf")
    broken.write_text("server {\n    listen 127.0.0.1:1 ssl;\n    ssl_certificate /nonexistent.pem;\n"
                      "    ssl_certificate_key /nonexistent.key;\n}\n")
    try:
        run = run_playbook("tlsops.ocsp.enable", {"tlsops_ocsp_serial": serial} if serial else {},
                           inventory=str(fleet.inventory))
    finally:
        broken.unlink()
    assert run.returncode != 0
    assert run.failed(canary.name)
    assert "/nonexistent.pem" in " ".join(run.failure_messages(canary.name))
    assert set(run.report["stats"]) == reached
    assert not any(run.failed(host) for host in reached - {canary.name})


def test_enable_and_audit_fail_and_name_a_revoked_endpoint(lab_factory, run_playbook, tmp_path):  # noqa: F811
    """On localhost (the lab's private nginx and apache2): the revoked leaf is revoked from the start."""
    lab = lab_factory(revoke_initially=True)
    inventory = demo.write_inventory(lab.state(), tmp_path / "inventory.yml")
    enable = run_playbook("tlsops.ocsp.enable", inventory=str(inventory))
    assert enable.returncode != 0  # Apache staples the revoked answer; the role fails the host
    assert "revoked.lab.test" in " ".join(enable.failure_messages())
    run = audit(run_playbook, inventory, tmp_path / "report")
    assert run.returncode != 0
    messages = " ".join(run.failure_messages())
    assert "revoked.lab.test" in messages and "plain.lab.test" not in messages
    report = json.loads((tmp_path / "report" / "ocsp-audit.json").read_text())
    critical = {(row["server_kind"], row["server_name"]) for row in report["endpoints"]
                if row["severity"] == "critical"}
    # Apache staples the revoked answer; nginx staples nothing and its responder check says revoked.
    # Apache's failure ended the host's run before HAProxy was configured: it staples nothing, so its
    # Must-Staple endpoint is critical too and its responder check says revoked.
    assert critical == {("apache", "revoked.lab.test"), ("nginx", "revoked.lab.test"),
                        ("haproxy", "revoked.lab.test"), ("haproxy", "must-staple.lab.test")}
    no_ocsp = [row for row in report["endpoints"] if row["server_name"] == "no-ocsp.lab.test"]
    assert no_ocsp and all(row["revocation_source"] == "crl" and row["revocation_status"] == "good"
                           for row in no_ocsp), no_ocsp


def test_revoking_a_certificate_without_ocsp_url_turns_the_audit_critical(lab_factory, run_playbook,  # noqa: F811
                                                                          tmp_path):
    """Stapling cannot apply to the no-OCSP leaf: the lab's CRL is what tells the audit it was revoked."""
    lab = lab_factory(revoke_initially=False)
    inventory = demo.write_inventory(lab.state(), tmp_path / "inventory.yml")
    assert run_playbook("tlsops.ocsp.enable", inventory=str(inventory)).returncode == 0
    assert audit(run_playbook, inventory, tmp_path / "before").returncode == 0
    lab.revoke("no_ocsp")
    run = audit(run_playbook, inventory, tmp_path / "after")
    assert run.returncode != 0
    report = json.loads((tmp_path / "after" / "ocsp-audit.json").read_text())
    critical = [row for row in report["endpoints"] if row["severity"] == "critical"]
    assert critical and {row["server_name"] for row in critical} == {"no-ocsp.lab.test"}
    assert all(row["revocation_source"] == "crl" and row["revocation_status"] == "revoked" for row in critical)
