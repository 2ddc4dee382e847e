# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The apache_stapling role against the lab's private apache2 and its real `openssl ocsp` responder.

Every test gets its own lab (own directory, own free ports) and runs real
ansible-playbook runs against localhost; outcomes are checked with openssl
s_client, and the configuration tree (files and symlinks) is compared byte
for byte.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import core
from tests.support.role_checks import by_leaf, endpoint_facts, s_client_status, tree_digest

PLAYBOOK = Path(__file__).resolve().parent / "apache" / "enable.yml"
SERVING = ("responder", "apache")
INCLUDE_MARK = "tlsops-ocsp-stapling-vhost.conf"


def role_vars(state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        # APACHE_CONFDIR, and APACHE_STATE_DIRECTORY for a2enmod's markers (/var/lib/apache2 otherwise)
        "apache_stapling_environment": state["apache"]["env"],
        "apache_stapling_warm_retries": 10,
        "apache_stapling_warm_delay": 0.5,
        **extra,
    }


def without_shmcb(lab: core.Lab) -> None:
    """Debian's ssl.conf needs socache_shmcb for its session cache: take both out, so the role must enable it.

    Apache is stopped and started: mod_ssl exits on a graceful restart that removes a cache.
    """
    lab.stop(("apache",))
    for name in ("ssl.conf", "socache_shmcb.load"):
        Path(lab.state()["apache"]["mods_enabled"], name).unlink()
    lab.start(("apache",))


def site_text(state: dict[str, Any], leaf: str) -> str:
    return Path(state["apache"]["sites"][leaf]).read_text()


@pytest.fixture
def fresh_lab(lab_factory):  # noqa: F811
    return lab_factory(components=SERVING, revoke_initially=False)


def test_enable_staples_good_is_idempotent_and_absent_restores_byte_for_byte(fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    before = tree_digest(state, "apache")

    checked = run_playbook(PLAYBOOK, role_vars(state), check=True, diff=True)
    assert not checked.failed(), checked.failure_messages()
    assert checked.changed() > 0, "check mode must report what would change"
    assert tree_digest(state, "apache") == before, "check mode changed files"

    enabled = run_playbook(PLAYBOOK, role_vars(state))
    assert not enabled.failed(), enabled.failure_messages()
    for leaf in ("plain", "must_staple", "revoked"):
        assert "Cert Status: good" in s_client_status(state, "apache", leaf), leaf
    no_ocsp = s_client_status(state, "apache", "no_ocsp")
    assert "no response sent" in no_ocsp and "Verify return code: 0 (ok)" in no_ocsp
    facts = endpoint_facts(enabled, "apache_stapling")
    assert by_leaf(state, facts, "no_ocsp")["verdict"] == "not_applicable"
    assert by_leaf(state, facts, "must_staple")["verdict"] == "good" and by_leaf(state, facts, "must_staple")["must_staple"]
    assert {e["server_kind"] for e in facts.values()} == {"apache"}
    assert all(e["changed"] for e in facts.values())
    # vhost scope: the include line in exactly the three blocks that can staple
    assert INCLUDE_MARK in site_text(state, "plain") and INCLUDE_MARK not in site_text(state, "no_ocsp")

    again = run_playbook(PLAYBOOK, role_vars(state))
    assert not again.failed(), again.failure_messages()
    assert again.changed() == 0
    assert not any(e["changed"] for e in endpoint_facts(again, "apache_stapling").values())

    removed = run_playbook(PLAYBOOK, role_vars(state, apache_stapling_state="absent"))
    assert not removed.failed(), removed.failure_messages()
    assert tree_digest(state, "apache") == before
    assert "no response sent" in s_client_status(state, "apache", "plain")


def test_global_scope_when_every_vhost_can_staple_and_modules_enabled_then_disabled(fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    apache = state["apache"]
    # no site without an OCSP URL, and socache_shmcb not enabled: the role must enable it and undo that
    Path(apache["sites_enabled"], Path(apache["sites"]["no_ocsp"]).name).unlink()
    without_shmcb(fresh_lab)
    before = tree_digest(state, "apache")

    enabled = run_playbook(PLAYBOOK, role_vars(state))
    assert not enabled.failed(), enabled.failure_messages()
    assert "Cert Status: good" in s_client_status(state, "apache", "plain")
    dropin = Path(apache["dropin_dir"], "tlsops-ocsp-stapling.conf").read_text()
    assert "\nSSLUseStapling on\n" in dropin
    assert INCLUDE_MARK not in site_text(state, "plain")
    assert Path(apache["mods_enabled"], "socache_shmcb.load").is_symlink()

    removed = run_playbook(PLAYBOOK, role_vars(state, apache_stapling_state="absent"))
    assert not removed.failed(), removed.failure_messages()
    assert tree_digest(state, "apache") == before


def test_broken_configuration_fails_before_touching_anything(fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    site = Path(state["apache"]["sites"]["plain"])
    site.write_text(site.read_text().replace("SSLEngine on", "SSLEngine on\n    NoSuchDirective yes"))
    before = tree_digest(state, "apache")

    run = run_playbook(PLAYBOOK, role_vars(state))
    assert run.failed()
    message = " ".join(run.failure_messages())
    assert "NoSuchDirective" in message and "nothing was changed" in message
    assert tree_digest(state, "apache") == before


def test_rejected_result_is_put_back_with_apaches_message(fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    without_shmcb(fresh_lab)
    before = tree_digest(state, "apache")

    # LoadModule with RHEL's relative module path does not exist on Debian: apachectl configtest fails
    run = run_playbook(PLAYBOOK, role_vars(state, apache_stapling_module_method="loadmodule"))
    assert run.failed()
    message = " ".join(run.failure_messages())
    assert "put back" in message and "mod_socache_shmcb.so" in message
    assert tree_digest(state, "apache") == before
    assert "no response sent" in s_client_status(state, "apache", "plain"), "apache must keep serving the old configuration"


def test_responder_down_apache_keeps_serving_and_must_staple_fails(fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    fresh_lab.stop(("responder",))

    run = run_playbook(PLAYBOOK, role_vars(state, apache_stapling_warm_retries=1))
    assert run.failed()
    assert any("Must-Staple" in message for message in run.failure_messages())
    facts = endpoint_facts(run, "apache_stapling")
    for leaf in ("plain", "must_staple"):
        assert by_leaf(state, facts, leaf)["verdict"] == "no_staple", by_leaf(state, facts, leaf)
    assert "Verify return code: 0 (ok)" in s_client_status(state, "apache", "plain")


def test_revoked_certificate_is_reported_revoked_never_good(lab_factory, run_playbook):  # noqa: F811
    lab = lab_factory(components=SERVING, revoke_initially=True)
    state = lab.state()

    run = run_playbook(PLAYBOOK, role_vars(state))
    assert run.failed()
    assert any("revoked" in message for message in run.failure_messages())
    revoked = by_leaf(state, endpoint_facts(run, "apache_stapling"), "revoked")
    assert revoked["verdict"] == "revoked" and revoked["cert_status"] == "revoked"
    assert "Cert Status: good" not in s_client_status(state, "apache", "revoked")
    assert "Cert Status: good" in s_client_status(state, "apache", "plain")

    before = tree_digest(state, "apache")
    audited = run_playbook(PLAYBOOK, role_vars(state, apache_entry="audit"))
    assert not audited.failed(), "audit reports, it fails no verdict"
    assert audited.changed() == 0 and tree_digest(state, "apache") == before
    assert by_leaf(state, endpoint_facts(audited, "apache_stapling"), "revoked")["verdict"] == "revoked"


def test_lab_nginx_and_apache_serve_at_once(lab_factory, run_playbook):  # noqa: F811
    lab = lab_factory(revoke_initially=False)
    state = lab.state()

    run = run_playbook(PLAYBOOK, role_vars(state))
    assert not run.failed(), run.failure_messages()
    assert "Cert Status: good" in s_client_status(state, "apache", "plain")
    assert "Verify return code: 0 (ok)" in s_client_status(state, "apache", "plain", port=state["nginx"]["port"])
