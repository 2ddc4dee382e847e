# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet entry points end to end: tlsops.ocsp.enable and tlsops.ocsp.audit on the demo inventory.

Real ansible-playbook runs against localhost, whose private nginx and apache2
(from the lab) serve the lab's leaves; the report is opened in a real
headless Chromium.
"""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import demo

ARTIFACTS = Path(__file__).resolve().parents[1] / "output"
EXPECTED_VERDICTS = {"good": 6, "not_applicable": 2}


def audit(run_playbook, inventory: Path, report_dir: Path, **options: Any):
    return run_playbook("tlsops.ocsp.audit", {"tlsops_ocsp_report_dir": str(report_dir)},
                        inventory=str(inventory), **options)


@pytest.fixture(scope="module")
def enabled_fleet(lab_factory, run_playbook, tmp_path_factory):  # noqa: F811
    """The demo inventory after one enable run: (lab state, inventory, first run)."""
    lab = lab_factory(revoke_initially=False)
    state = lab.state()
    inventory = demo.write_inventory(state, tmp_path_factory.mktemp("fleet") / "inventory.yml")
    first = run_playbook("tlsops.ocsp.enable", inventory=str(inventory))
    return state, inventory, first


def test_enable_then_second_enable_changes_nothing(enabled_fleet, run_playbook):
    _state, inventory, first = enabled_fleet
    assert first.returncode == 0, first.failure_messages()
    assert first.changed() > 0
    second = run_playbook("tlsops.ocsp.enable", inventory=str(inventory))
    assert second.returncode == 0, second.failure_messages()
    assert second.changed() == 0


def test_audit_reports_every_endpoint(enabled_fleet, run_playbook, tmp_path):
    _state, inventory, _first = enabled_fleet
    run = audit(run_playbook, inventory, tmp_path)
    assert run.returncode == 0, run.failure_messages()
    report = json.loads((tmp_path / "ocsp-audit.json").read_text())
    assert report["summary"]["by_verdict"] == EXPECTED_VERDICTS
    assert report["summary"]["critical"] == 0
    kinds = {(row["server_kind"], row["server_name"]) for row in report["endpoints"]}
    assert ("apache", "must-staple.lab.test") in kinds and ("nginx", "no-ocsp.lab.test") in kinds
    no_ocsp = next(row for row in report["endpoints"] if row["server_name"] == "no-ocsp.lab.test")
    assert "no OCSP responder URL" in no_ocsp["ocsp"]
    markdown = (tmp_path / "ocsp-audit.md").read_text()
    assert markdown.count("| localhost |") == 8


def test_audit_in_check_mode_changes_nothing_and_still_reports(enabled_fleet, run_playbook, tmp_path):
    _state, inventory, _first = enabled_fleet
    run = audit(run_playbook, inventory, tmp_path, check=True)
    assert run.returncode == 0, run.failure_messages()
    assert run.changed() == 1  # only the report, written on the controller
    assert (tmp_path / "ocsp-audit.html").exists()


def test_enable_and_audit_fail_and_name_a_revoked_endpoint(lab_factory, run_playbook, tmp_path):  # noqa: F811
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
    # Apache staples the revoked answer; nginx staples nothing and its responder check says revoked
    assert critical == {("apache", "revoked.lab.test"), ("nginx", "revoked.lab.test")}


def test_html_report_renders_in_chromium(enabled_fleet, run_playbook, tmp_path):
    _state, inventory, _first = enabled_fleet
    assert audit(run_playbook, inventory, tmp_path).returncode == 0
    page = (tmp_path / "ocsp-audit.html").as_uri()  # chromium: Debian's, from tests/setup/system-deps.sh
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'chromium'}"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert dom.count("<tr class=") == 8
    assert dom.count("<circle") == 8
    assert "8 endpoints (good 6, not_applicable 2)" in dom
    ARTIFACTS.mkdir(exist_ok=True)
    screenshot = ARTIFACTS / "ocsp-audit.png"
    subprocess.run(["chromium", *flags, f"--screenshot={screenshot}", "--window-size=1400,1000", page],
                   capture_output=True, timeout=120, check=True)
    assert screenshot.stat().st_size > 10_000
