# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx_stapling role against the lab's private nginx and its real `openssl ocsp` responder.

Every test gets its own lab (own directory, own free ports) and runs real
ansible-playbook runs against localhost; outcomes are checked with openssl
s_client and nginx -t, and the configuration tree is compared byte for byte.
"""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import core, role_vars
from tests.support.role_checks import by_leaf, endpoint_facts, s_client_status, tree_digest

PLAYBOOKS = Path(__file__).resolve().parent / "nginx"
SERVING = ("responder", "nginx")


def nginx_test(state: dict[str, Any]) -> subprocess.CompletedProcess:
    return subprocess.run(state["nginx"]["test_command"], capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture
def fresh_lab(lab_factory):  # noqa: F811
    return lab_factory(components=SERVING, revoke_initially=False)


def test_enable_staples_good_is_idempotent_audits_and_removes_byte_for_byte(fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    before = tree_digest(state, "nginx")

    first = run_playbook(PLAYBOOKS / "enable.yml", role_vars.nginx(state))
    assert first.returncode == 0, first.failure_messages()
    assert first.changed() > 0
    for leaf in ("plain", "must_staple"):
        assert "Cert Status: good" in s_client_status(state, "nginx", leaf), leaf
    no_ocsp = s_client_status(state, "nginx", "no_ocsp")
    assert "Verify return code: 0 (ok)" in no_ocsp and "OCSP response: no response sent" in no_ocsp
    facts = endpoint_facts(first, "nginx_stapling")
    assert by_leaf(state, facts, "plain")["verdict"] == "good"
    assert by_leaf(state, facts, "must_staple")["verdict"] == "good"
    assert by_leaf(state, facts, "no_ocsp")["verdict"] == "not_applicable"
    assert by_leaf(state, facts, "no_ocsp")["stapling_applicable"] is False
    assert all(entry["server_kind"] == "nginx" and entry["changed"] for entry in facts.values())
    validation = nginx_test(state)
    assert validation.returncode == 0 and "ssl_stapling" not in validation.stderr, validation.stderr

    second = run_playbook(PLAYBOOKS / "enable.yml", role_vars.nginx(state))
    assert second.returncode == 0, second.failure_messages()
    assert second.changed() == 0
    assert not any(entry["changed"] for entry in endpoint_facts(second, "nginx_stapling").values())

    audit = run_playbook(PLAYBOOKS / "audit.yml", role_vars.nginx(state))
    assert audit.returncode == 0 and audit.changed() == 0
    assert by_leaf(state, endpoint_facts(audit, "nginx_stapling"), "must_staple")["verdict"] == "good"

    removed = run_playbook(PLAYBOOKS / "enable.yml", role_vars.nginx(state, nginx_stapling_state="absent"))
    assert removed.returncode == 0, removed.failure_messages()
    assert tree_digest(state, "nginx") == before
    assert "OCSP response: no response sent" in s_client_status(state, "nginx", "plain")


def test_every_certificate_stapleable_gets_one_http_level_dropin(fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    Path(state["nginx"]["sites"]["no_ocsp"]).unlink()
    fresh_lab.stop(["nginx"])
    fresh_lab.start(["nginx"])
    before = tree_digest(state, "nginx")
    run = run_playbook(PLAYBOOKS / "enable.yml", role_vars.nginx(state))
    assert run.returncode == 0, run.failure_messages()
    dropin = Path(state["nginx"]["dropin_dir"]) / "tlsops-ocsp-stapling.conf"
    assert "ssl_stapling on;" in dropin.read_text()
    assert not any("include" in line and "tlsops-ocsp" in line
                   for site in state["nginx"]["sites"].values() if Path(site).exists()
                   for line in Path(site).read_text().splitlines())
    assert "Cert Status: good" in s_client_status(state, "nginx", "must_staple")

    removed = run_playbook(PLAYBOOKS / "enable.yml", role_vars.nginx(state, nginx_stapling_state="absent"))
    assert removed.returncode == 0, removed.failure_messages()
    assert tree_digest(state, "nginx") == before


def test_check_mode_reports_changes_and_shows_the_snippet_but_writes_nothing(fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    before = tree_digest(state, "nginx")
    run = run_playbook(PLAYBOOKS / "enable.yml", role_vars.nginx(state, nginx_stapling_warm_retries=0),
                       check=True, diff=True)
    assert run.returncode == 0, run.failure_messages()
    assert run.changed() > 0
    (written,) = run.results("Write the files the role owns and remove the ones this run does not use")
    assert "ssl_stapling on;" in written["diff"][0]["after"]
    (bundle,) = run.results("Write the trusted chain, the issuers nginx needs to verify the responses")
    assert bundle["changed"] and "BEGIN CERTIFICATE" in bundle["diff"]["after"]
    (included,) = run.results("Add the marked include line to the server blocks or virtual hosts that staple")
    assert [diff["before_header"] for diff in included["diff"]] == [
        entry["path"] for entry in included["files"] if entry["changed"]] != []
    assert tree_digest(state, "nginx") == before


def failing_run_with_directive(state: dict[str, Any], run_playbook, directive: str) -> str:
    """Add `directive` to the plain site's server block and run the role, which must fail and leave every
    configuration file as it was; its failure messages."""
    site = Path(state["nginx"]["sites"]["plain"])
    site.write_text(site.read_text().replace("server {", f"server {{\n    {directive}", 1))
    before = tree_digest(state, "nginx")
    run = run_playbook(PLAYBOOKS / "enable.yml", role_vars.nginx(state))
    assert run.returncode != 0
    assert tree_digest(state, "nginx") == before
    return " ".join(run.failure_messages())


def test_config_broken_beforehand_fails_before_touching_anything(fresh_lab: core.Lab, run_playbook):
    message = failing_run_with_directive(fresh_lab.state(), run_playbook, "no_such_directive on;")
    assert 'unknown directive "no_such_directive"' in message and "nothing was changed" in message


def test_nginx_rejecting_the_result_puts_every_file_back(fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    # a server-level resolver of the user's own: the snippet's resolver becomes a duplicate
    message = failing_run_with_directive(state, run_playbook, "resolver 127.0.0.1;")
    assert '"resolver" directive is duplicate' in message and "put back" in message
    assert nginx_test(state).returncode == 0


def test_responder_down_keeps_serving_and_fails_only_for_must_staple(fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    fresh_lab.stop(["responder"])
    run = run_playbook(PLAYBOOKS / "enable.yml",
                       role_vars.nginx(state, nginx_stapling_warm_retries=2, nginx_stapling_warm_delay=0.5))
    assert run.returncode != 0
    facts = endpoint_facts(run, "nginx_stapling")
    plain = by_leaf(state, facts, "plain")
    assert plain["verdict"] in ("no_staple", "unreachable")
    assert plain["responder_verdict"] == "unreachable"
    # the cause, with the URL nginx asks, instead of generic advice; no reload can fix it
    assert (plain["cause"], plain["fetch_due"]) == ("responder_unreachable", False)
    assert state["leaves"]["plain"]["ocsp_url"] in plain["reason"]
    assert by_leaf(state, facts, "must_staple")["verdict"] in ("no_staple", "unreachable")
    failures = run.failure_messages()
    assert len(failures) == 1
    assert "Must-Staple" in failures[0] and state["leaves"]["must_staple"]["fullchain"] in failures[0]
    assert "cannot be reached from this host" in failures[0]  # the Must-Staple gate says why
    assert state["leaves"]["plain"]["fullchain"] not in failures[0]
    served = s_client_status(state, "nginx", "plain")
    assert "Verify return code: 0 (ok)" in served and "OCSP response: no response sent" in served
