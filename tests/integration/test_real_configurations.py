# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 9's configurations as operators have them, on the real Debian nginx and apache2.

nginx runs as a private copy of Debian's /etc/nginx (tests/support/debian_nginx.py) and as
the lab's instance; apache2 is the lab's, itself a private copy of Debian's /etc/apache2.
Every outcome is proven with a real TLS client (`openssl s_client -status`), the
server's own configuration test and the role's facts.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.lab_fixtures import debian_nginx, lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import role_vars
from tests.support.role_checks import by_leaf, endpoint_facts, s_client_status, tree_digest
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as report

HERE = Path(__file__).resolve().parent
NGINX_ENABLE = HERE / "nginx" / "enable.yml"
NGINX_AUDIT = HERE / "nginx" / "audit.yml"
APACHE = HERE / "apache" / "enable.yml"
MOZILLA_NGINX = "\tssl_stapling on;\n\tssl_stapling_verify on;\n\tssl_trusted_certificate {chain};\n\tresolver 127.0.0.1;\n"


def staples_good(port: int, state: dict[str, Any], leaf: str, attempts: int = 10) -> bool:
    """nginx fetches after a worker's first handshake: a few handshakes warm a freshly reloaded worker."""
    for _attempt in range(attempts):
        if "Cert Status: good" in s_client_status(state, "nginx", leaf, port=port):
            return True
        time.sleep(0.5)
    return False


def test_nginx_user_stapling_lines_in_server_blocks_are_kept_and_reported(debian_nginx, run_playbook):
    lab, nginx = debian_nginx
    state = lab.state()
    leaves = state["leaves"]
    chain = state["pki"]["ca_chain"]
    site = nginx.write_site("example", nginx.server_block(leaves["plain"], MOZILLA_NGINX.format(chain=chain))
                            + nginx.server_block(leaves["must_staple"])
                            + nginx.server_block(leaves["no_ocsp"], "\tssl_stapling on;\n"))
    nginx.start()
    assert '"ssl_stapling" ignored' in nginx.run("-t").stderr  # the user's own line, before the role
    user_text = site.read_text()

    run = run_playbook(NGINX_ENABLE, nginx.role_vars(state))
    assert run.returncode == 0, run.failure_messages()
    facts = endpoint_facts(run, "nginx_stapling")
    assert by_leaf(state, facts, "plain")["configured_by"] == "user"
    assert by_leaf(state, facts, "must_staple")["configured_by"] == "role"
    no_ocsp = by_leaf(state, facts, "no_ocsp")
    assert no_ocsp["configured_by"] == "user" and no_ocsp["verdict"] == "not_applicable"
    assert "remove that line" in no_ocsp["reason"]
    for leaf in ("plain", "must_staple"):
        assert staples_good(nginx.port, state, leaf), leaf
        assert by_leaf(state, facts, leaf)["verdict"] == "good"
    # the user's blocks override http level: the role's drop-in staples the others, no block is edited
    assert site.read_text() == user_text
    assert "ssl_stapling on;" in (nginx.etc / "conf.d" / "tlsops-ocsp-stapling.conf").read_text()
    assert nginx.run("-t").returncode == 0

    again = run_playbook(NGINX_ENABLE, nginx.role_vars(state))
    assert again.returncode == 0 and again.changed() == 0, again.failure_messages()

    removed = run_playbook(NGINX_ENABLE, nginx.role_vars(state, nginx_stapling_state="absent"))
    assert removed.returncode == 0 and site.read_text() == user_text
    assert staples_good(nginx.port, state, "plain"), "the user's own stapling stays"


def test_nginx_user_stapling_at_http_level_leaves_the_role_nothing_to_write(debian_nginx, run_playbook):
    lab, nginx = debian_nginx
    state = lab.state()
    (nginx.etc / "conf.d" / "ssl-stapling.conf").write_text(
        f"ssl_stapling on;\nssl_stapling_verify on;\nssl_trusted_certificate {state['pki']['ca_chain']};\n")
    nginx.write_site("example", nginx.server_block(state["leaves"]["plain"])
                     + nginx.server_block(state["leaves"]["must_staple"]))
    nginx.start()
    before = tree_digest({"nginx": {"prefix": str(nginx.etc)}}, "nginx")

    run = run_playbook(NGINX_ENABLE, nginx.role_vars(state))
    assert run.returncode == 0 and run.changed() == 0, run.failure_messages()
    facts = endpoint_facts(run, "nginx_stapling")
    assert {entry["configured_by"] for entry in facts.values()} == {"user"}
    assert {entry["verdict"] for entry in facts.values()} == {"good"}  # proven by the staple check
    assert tree_digest({"nginx": {"prefix": str(nginx.etc)}}, "nginx") == before


def template_runs_twice(run_playbook, state: dict[str, Any], server: str, path: Path, port: int,
                        include_line: str, reload: list[str], role_vars_: dict[str, Any]) -> dict[str, Any]:
    """The author's role renders the vhosts (the include line only where the certificate names an OCSP
    responder), then the server role runs with manage_includes false: good on the first run, changed=0 on
    the second. The first run's facts."""
    sites = [{key: state["leaves"][leaf][key] for key in ("server_name", "fullchain", "key", "ocsp_url")}
             for leaf in ("plain", "must_staple", "no_ocsp")]
    extra = {"vhost_template_server": server, "vhost_template_path": str(path), "vhost_template_port": port,
             "vhost_template_sites": sites, "vhost_template_include_line": include_line,
             "vhost_template_reload": reload, "stapling_role": f"{server}_stapling",
             f"{server}_stapling_manage_includes": False, **role_vars_}
    first = run_playbook(HERE / "real" / "template.yml", extra)
    assert first.returncode == 0, first.failure_messages()
    facts = endpoint_facts(first, f"{server}_stapling")
    assert by_leaf(state, facts, "must_staple")["verdict"] == "good"
    assert by_leaf(state, facts, "plain")["configured_by"] == "role"
    assert by_leaf(state, facts, "no_ocsp")["verdict"] == "not_applicable"
    second = run_playbook(HERE / "real" / "template.yml", extra)
    assert second.returncode == 0 and second.changed() == 0, second.failure_messages()
    return facts


def test_nginx_template_that_rerenders_vhosts_works_on_the_first_run(debian_nginx, run_playbook):
    lab, nginx = debian_nginx
    state = lab.state()
    nginx.start()
    template_runs_twice(run_playbook, state, "nginx", nginx.etc / "sites-enabled" / "templated", nginx.port,
                        nginx.include_line, [*nginx.command, "-s", "reload"], nginx.role_vars(state))
    assert staples_good(nginx.port, state, "must_staple")


def test_apache_template_that_rerenders_vhosts_works_on_the_first_run(lab_factory, run_playbook):  # noqa: F811
    lab = lab_factory(components=("responder", "apache"), revoke_initially=False)
    state = lab.state()
    apache = state["apache"]
    for link in Path(apache["sites_enabled"]).iterdir():
        link.unlink()  # the author's template serves the leaves now; its handler reloads Apache
    template_runs_twice(run_playbook, state, "apache", Path(apache["sites_enabled"]) / "templated.conf",
                        apache["port"], f"IncludeOptional {apache['confdir']}/tlsops-ocsp-stapling-vhost.conf",
                        apache["reload_command"], role_vars.apache(state))
    assert "Cert Status: good" in s_client_status(state, "apache", "must_staple")


def test_apache_user_stapling_lines_and_cache_are_kept_and_reported(lab_factory, run_playbook):  # noqa: F811
    lab = lab_factory(components=("responder", "apache"), revoke_initially=False)
    state = lab.state()
    apache = state["apache"]
    user_conf = Path(apache["confdir"], "conf-enabled", "user-stapling.conf")
    user_conf.write_text('SSLStaplingCache "shmcb:${APACHE_RUN_DIR}/user_stapling(65536)"\n')
    for leaf in ("plain", "no_ocsp"):
        site = Path(apache["sites"][leaf])
        site.write_text(site.read_text().replace("SSLEngine on", "SSLEngine on\n    SSLUseStapling on"))
    lab.stop(["apache"])
    lab.start(["apache"])
    before = tree_digest(state, "apache")
    plain_text = Path(apache["sites"]["plain"]).read_text()

    run = run_playbook(APACHE, role_vars.apache(state))
    assert not run.failed(), run.failure_messages()
    facts = endpoint_facts(run, "apache_stapling")
    assert by_leaf(state, facts, "plain")["configured_by"] == "user"
    assert by_leaf(state, facts, "must_staple")["configured_by"] == "role"
    assert "remove that line" in by_leaf(state, facts, "no_ocsp")["reason"]
    for leaf in ("plain", "must_staple"):
        assert "Cert Status: good" in s_client_status(state, "apache", leaf), leaf
    dropin = Path(apache["dropin_dir"], "tlsops-ocsp-stapling.conf").read_text()
    assert "SSLStaplingCache" not in dropin  # the user's cache serves; never a second one
    assert Path(apache["sites"]["plain"]).read_text() == plain_text

    again = run_playbook(APACHE, role_vars.apache(state))
    assert not again.failed() and again.changed() == 0, again.failure_messages()
    removed = run_playbook(APACHE, role_vars.apache(state, apache_stapling_state="absent"))
    assert not removed.failed() and tree_digest(state, "apache") == before


@pytest.mark.parametrize("server", ["nginx", "apache"])
def test_nothing_stapled_and_the_responder_says_revoked_is_critical_on_both_servers(
        lab_factory, run_playbook, server: str):  # noqa: F811
    lab = lab_factory(components=("responder", server), revoke_initially=True)
    state = lab.state()
    playbook, variables = ((NGINX_AUDIT, role_vars.nginx(state)) if server == "nginx" else
                           (APACHE, role_vars.apache(state, apache_entry="audit")))

    audit = run_playbook(playbook, variables)  # stapling is off: nothing is stapled
    assert audit.returncode == 0, audit.failure_messages()
    revoked = by_leaf(state, endpoint_facts(audit, f"{server}_stapling"), "revoked")
    assert revoked["verdict"] == "no_staple" and revoked["responder_verdict"] == "revoked"
    assert (revoked["revocation_status"], revoked["revocation_source"]) == ("revoked", "responder")
    assert report.classify(revoked) == "critical"


@pytest.mark.parametrize("server", ["nginx", "apache"])
def test_after_a_responder_outage_the_next_run_staples_good(lab_factory, run_playbook, server: str):  # noqa: F811
    lab = lab_factory(components=("responder", server), revoke_initially=False)
    state = lab.state()
    playbook = NGINX_ENABLE if server == "nginx" else APACHE
    variables = role_vars.nginx(state) if server == "nginx" else role_vars.apache(state)
    lab.stop(["responder"])
    down_variables = dict(variables, **{f"{server}_stapling_warm_retries": 2})
    down = run_playbook(playbook, down_variables)
    assert down.returncode != 0  # Must-Staple without a staple
    must_staple = by_leaf(state, endpoint_facts(down, f"{server}_stapling"), "must_staple")
    assert (must_staple["cause"], must_staple["fetch_due"]) == ("responder_unreachable", False), must_staple
    assert state["leaves"]["must_staple"]["ocsp_url"] in must_staple["cause_sentence"]
    assert "responder_unreachable" in " ".join(down.failure_messages())
    # the same cause on the next run: no reload, no restart
    still_down = run_playbook(playbook, down_variables)
    assert still_down.returncode != 0 and still_down.changed() == 0, still_down.failure_messages()
    lab.start(["responder"])

    back = run_playbook(playbook, variables)
    assert back.returncode == 0, back.failure_messages()
    facts = endpoint_facts(back, f"{server}_stapling")
    assert by_leaf(state, facts, "must_staple")["verdict"] == "good"
    assert "Cert Status: good" in s_client_status(state, server, "must_staple")


def test_twice_in_one_play_each_inclusion_acts_on_its_own_values(lab_factory, run_playbook):  # noqa: F811
    labs = [lab_factory(components=("responder", "nginx"), revoke_initially=False) for _index in range(2)]
    first, second = (lab.state() for lab in labs)
    Path(first["nginx"]["sites"]["no_ocsp"]).unlink()  # the first can take scope http
    labs[0].stop(["nginx"])
    labs[0].start(["nginx"])

    run = run_playbook(HERE / "real" / "twice.yml", {"first": role_vars.nginx(first), "second": role_vars.nginx(second)})
    assert run.returncode == 0, run.failure_messages()
    assert (Path(first["nginx"]["dropin_dir"]) / "tlsops-ocsp-stapling.conf").exists()  # scope http
    assert not (Path(second["nginx"]["dropin_dir"]) / "tlsops-ocsp-stapling.conf").exists()  # scope server
    site = Path(second["nginx"]["sites"]["plain"]).read_text()
    assert "stapling-server*.conf;" in site
    recorded = run.results("Record the result of every endpoint")
    ports = [{entry["port"] for entry in result["ansible_facts"]["nginx_stapling_endpoints"]} for result in recorded]
    assert ports == [{first["nginx"]["port"]}, {second["nginx"]["port"]}, {first["nginx"]["port"]}]
    audit = recorded[-1]["ansible_facts"]["nginx_stapling_endpoints"]
    assert not any(entry["changed"] for entry in audit)  # the audit's own value, not the enable's
    assert {entry["configured_by"] for entry in audit if entry["stapling_applicable"]} == {"role"}
    for state in (first, second):
        assert "Cert Status: good" in s_client_status(state, "nginx", "must_staple")
