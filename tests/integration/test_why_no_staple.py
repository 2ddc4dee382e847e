# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why nothing is stapled, on the real Debian nginx, from its own error log, confirmed by the engine.

Each case is one a user has: their own Mozilla-style stapling lines with a trusted file that holds the
intermediate only, and a certificate whose first OCSP URL is dead while the second answers. Each test asserts
the cause, the remedy naming the right file or URL, the server's log line as evidence, and that no run
reloads for a cause a reload cannot fix (changed=0, also on the second run).
"""
from __future__ import annotations

import datetime
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.conftest import free_port
from tests.integration.lab_fixtures import debian_nginx, lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import dns_server, lab_pki, role_vars
from tests.support import pki
from tests.support.role_checks import by_leaf, endpoint_facts, s_client_status

HERE = Path(__file__).resolve().parent
NGINX_ENABLE = HERE / "nginx" / "enable.yml"
NGINX_AUDIT = HERE / "nginx" / "audit.yml"
APACHE_ENABLE = HERE / "apache" / "enable.yml"
HAPROXY_ENABLE = HERE / "haproxy" / "enable.yml"
RESPONDER_NAME = "ocsp.lab.test"
USER_LINES = "\tssl_stapling on;\n\tssl_stapling_verify on;\n\tssl_trusted_certificate {trusted};\n\tresolver 127.0.0.1;\n"


def test_trusted_file_without_the_root_is_named_and_never_reloaded(debian_nginx, run_playbook):
    lab, nginx = debian_nginx
    state = lab.state()
    trusted = state["pki"]["intermediate"]["cert"]  # the slip: Mozilla asks for the root and the intermediates
    nginx.write_site("example", nginx.server_block(state["leaves"]["plain"], USER_LINES.format(trusted=trusted)))
    nginx.start()

    first = run_playbook(NGINX_ENABLE, nginx.role_vars(state))
    assert first.returncode == 0, first.failure_messages()
    plain = by_leaf(state, endpoint_facts(first, "nginx_stapling"), "plain")
    assert (plain["configured_by"], plain["verdict"], plain["cause"]) == ("user", "no_staple", "trusted_without_root")
    assert trusted in plain["remedy"] and "root" in plain["remedy"]
    assert any("OCSP_basic_verify() failed" in line for line in plain["evidence"]), plain["evidence"]
    assert plain["fetch_due"] is False and trusted in plain["reason"]
    assert first.changed() == 0, "a cause a reload cannot fix must not reload"

    again = run_playbook(NGINX_ENABLE, nginx.role_vars(state))
    assert again.returncode == 0 and again.changed() == 0, again.failure_messages()

    audit = run_playbook(NGINX_AUDIT, nginx.role_vars(state))
    assert audit.returncode == 0, audit.failure_messages()
    assert by_leaf(state, endpoint_facts(audit, "nginx_stapling"), "plain")["cause"] == "trusted_without_root"


def _lab_leaf(state: dict[str, Any], lab: Any, tmp_path: Path, ocsp_urls: list[str],
              server_name: str = "two-urls.lab.test", known: bool = True) -> dict[str, Any]:
    """A leaf of the lab's intermediate with these OCSP URLs; the lab's responder knows it (index) if `known`."""
    section = state["pki"]["intermediate"]
    intermediate = pki.Issued(
        cert=x509.load_pem_x509_certificate(Path(section["cert"]).read_bytes()),
        key=serialization.load_pem_private_key(Path(section["key"]).read_bytes(), None))
    leaf = pki.issue(server_name, intermediate, dns_names=[server_name], ocsp_urls=ocsp_urls)
    directory = tmp_path / server_name
    directory.mkdir()
    (directory / "fullchain.pem").write_bytes(leaf.pem + intermediate.pem)
    (directory / "key.pem").write_bytes(leaf.key_pem)
    expiry = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=80)).strftime("%y%m%d%H%M%SZ")
    serial = lab_pki._index_serial(leaf.cert.serial_number)  # pylint: disable=protected-access
    if known:
        with open(state["pki"]["index"], "a", encoding="ascii") as index:
            index.write("\t".join(("V", expiry, "", serial, "unknown", f"/CN={server_name}")) + "\n")
        lab.stop(["responder"])
        lab.start(["responder"])  # the responder reads its index at start
    return {"server_name": server_name, "fullchain": str(directory / "fullchain.pem"),
            "key": str(directory / "key.pem")}


def _leaf_with_two_urls(state: dict[str, Any], lab: Any, dead_url: str, tmp_path: Path) -> dict[str, Any]:
    """A leaf whose first OCSP URL is dead and whose second is the lab's responder."""
    return _lab_leaf(state, lab, tmp_path, [dead_url, state["leaves"]["plain"]["ocsp_url"]])


@pytest.fixture
def lab_dns(tmp_path: Path):
    """The lab's DNS server on loopback knowing ocsp.lab.test, and the command prefix that runs a program on a
    host whose resolv.conf names it (a mount namespace: the machine's own resolv.conf is never touched)."""
    resolv = tmp_path / "resolv.conf"
    resolv.write_text(f"nameserver {dns_server.ADDRESS}\noptions timeout:1 attempts:2\n")
    with dns_server.DnsServer({RESPONDER_NAME: "127.0.0.1"}):
        yield ["unshare", "--mount", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"', str(resolv)]


def _by_name(url: str, name: str) -> str:
    """The lab responder's URL with `name` for its address, as CAs publish theirs."""
    parts = urllib.parse.urlsplit(url)
    return parts._replace(netloc=f"{name}:{parts.port}").geturl()


def test_a_responder_by_name_resolves_through_the_hosts_dns_and_staples(
        debian_nginx, run_playbook, lab_dns, tmp_path):
    lab, nginx = debian_nginx
    state = lab.state()
    leaf = _lab_leaf(state, lab, tmp_path, [_by_name(state["leaves"]["plain"]["ocsp_url"], RESPONDER_NAME)],
                     "by-name.lab.test")
    nginx.write_site("example", nginx.server_block(leaf))
    started = subprocess.run([*lab_dns, *nginx.command], capture_output=True, text=True, check=False)
    assert started.returncode == 0, started.stderr
    variables = nginx.role_vars(state)

    first = run_playbook(NGINX_ENABLE, variables, prefix=lab_dns)
    assert first.returncode == 0, first.failure_messages()
    assert endpoint_facts(first, "nginx_stapling")[leaf["server_name"]]["verdict"] == "good"
    # the role's resolver is the host's DNS server, from its resolv.conf
    assert f"resolver {dns_server.ADDRESS};" in (nginx.etc / "conf.d" / "tlsops-ocsp-stapling.conf").read_text()

    again = run_playbook(NGINX_ENABLE, variables, prefix=lab_dns)
    assert again.returncode == 0 and again.changed() == 0, again.failure_messages()


def test_a_responder_name_the_dns_does_not_know_is_named_and_never_reloaded(
        debian_nginx, run_playbook, lab_dns, tmp_path):
    lab, nginx = debian_nginx
    state = lab.state()
    retired = "ocsp-retired.lab.test"
    leaf = _lab_leaf(state, lab, tmp_path, [_by_name(state["leaves"]["plain"]["ocsp_url"], retired)],
                     "retired.lab.test")
    nginx.write_site("example", nginx.server_block(leaf, f"\tssl_stapling on;\n\tresolver {dns_server.ADDRESS};\n"))
    started = subprocess.run([*lab_dns, *nginx.command], capture_output=True, text=True, check=False)
    assert started.returncode == 0, started.stderr
    variables = nginx.role_vars(state)

    first = run_playbook(NGINX_ENABLE, variables, prefix=lab_dns)
    assert first.returncode == 0, first.failure_messages()
    entry = endpoint_facts(first, "nginx_stapling")[leaf["server_name"]]
    assert (entry["configured_by"], entry["verdict"], entry["cause"]) == (
        "user", "no_staple", "responder_name_unresolved"), entry
    assert retired in entry["remedy"] and entry["fetch_due"] is False
    assert first.changed() == 0

    again = run_playbook(NGINX_ENABLE, variables, prefix=lab_dns)
    assert again.returncode == 0 and again.changed() == 0, again.failure_messages()


def test_first_ocsp_url_dead_on_the_roles_lines_points_nginx_at_the_url_that_answers(
        debian_nginx, run_playbook, tmp_path):
    lab, nginx = debian_nginx
    state = lab.state()
    dead_url = f"http://127.0.0.1:{free_port()}/"
    alive_url = state["leaves"]["plain"]["ocsp_url"]
    leaf = _leaf_with_two_urls(state, lab, dead_url, tmp_path)
    nginx.write_site("example", nginx.server_block(leaf))
    nginx.start()
    variables = nginx.role_vars(state, nginx_stapling_warm_retries=4)

    first = run_playbook(NGINX_ENABLE, variables)
    assert first.returncode == 0, first.failure_messages()
    assert endpoint_facts(first, "nginx_stapling")[leaf["server_name"]]["verdict"] == "good"
    role_lines = [path.read_text() for path in (nginx.etc / "conf.d").glob("tlsops-ocsp*.conf")] + [
        path.read_text() for path in (nginx.etc / "tlsops-ocsp").glob("*.conf")]
    assert sum(f"ssl_stapling_responder {alive_url};" in text for text in role_lines) == 1, role_lines

    again = run_playbook(NGINX_ENABLE, variables)
    assert again.returncode == 0 and again.changed() == 0, again.failure_messages()


def test_first_ocsp_url_dead_on_the_users_lines_names_the_url_that_answers_and_never_reloads(
        debian_nginx, run_playbook, tmp_path):
    lab, nginx = debian_nginx
    state = lab.state()
    dead_url = f"http://127.0.0.1:{free_port()}/"
    leaf = _leaf_with_two_urls(state, lab, dead_url, tmp_path)
    nginx.write_site("example", nginx.server_block(leaf, "\tssl_stapling on;\n\tresolver 127.0.0.1;\n"))
    nginx.start()
    variables = nginx.role_vars(state, nginx_stapling_warm_retries=4)

    first = run_playbook(NGINX_ENABLE, variables)
    assert first.returncode == 0, first.failure_messages()
    entry = endpoint_facts(first, "nginx_stapling")[leaf["server_name"]]
    assert (entry["configured_by"], entry["verdict"], entry["cause"]) == ("user", "no_staple", "first_url_dead")
    assert f"ssl_stapling_responder {state['leaves']['plain']['ocsp_url']}" in entry["remedy"]
    assert dead_url in entry["cause_sentence"]
    assert first.changed() == 0, "their lines: never edited, and a reload cannot help"
    assert not first.results("Warm and check once more after the fresh fetch")[0].get("endpoints")

    again = run_playbook(NGINX_ENABLE, variables)
    assert again.returncode == 0 and again.changed() == 0, again.failure_messages()


def test_first_ocsp_url_dead_on_the_roles_lines_forces_apache_to_the_url_that_answers(
        lab_factory, run_playbook, tmp_path):  # noqa: F811
    lab = lab_factory(components=("responder", "apache"), revoke_initially=False)
    state = lab.state()
    alive_url = state["leaves"]["plain"]["ocsp_url"]
    leaf = _leaf_with_two_urls(state, lab, f"http://127.0.0.1:{free_port()}/", tmp_path)
    site = Path(state["apache"]["sites"]["plain"])
    plain = state["leaves"]["plain"]
    site.write_text(site.read_text().replace(plain["fullchain"], leaf["fullchain"]).replace(
        plain["key"], leaf["key"]).replace(plain["server_name"], leaf["server_name"]))
    reloaded = subprocess.run(state["apache"]["reload_command"], capture_output=True, text=True, check=False)
    assert reloaded.returncode == 0, reloaded.stderr

    first = run_playbook(APACHE_ENABLE, role_vars.apache(state))
    assert first.returncode == 0, first.failure_messages()
    assert endpoint_facts(first, "apache_stapling")[leaf["server_name"]]["verdict"] == "good"
    dropin = Path(state["apache"]["dropin_dir"]) / "tlsops-ocsp-stapling.conf"
    assert f"SSLStaplingForceURL {alive_url}" in dropin.read_text().splitlines()

    again = run_playbook(APACHE_ENABLE, role_vars.apache(state))
    assert again.returncode == 0 and again.changed() == 0, again.failure_messages()


def test_a_responder_that_refuses_the_certificate_is_named_and_never_reloaded(debian_nginx, run_playbook, tmp_path):
    lab, nginx = debian_nginx
    state = lab.state()
    url = state["leaves"]["plain"]["ocsp_url"]
    leaf = _lab_leaf(state, lab, tmp_path, [url], "unknown-to-ca.lab.test", known=False)  # not in its index
    nginx.write_site("example", nginx.server_block(leaf))
    nginx.start()
    variables = nginx.role_vars(state, nginx_stapling_warm_retries=4)

    first = run_playbook(NGINX_ENABLE, variables)
    assert first.returncode == 0, first.failure_messages()
    entry = endpoint_facts(first, "nginx_stapling")[leaf["server_name"]]
    assert (entry["verdict"], entry["cause"], entry["fetch_due"]) == ("no_staple", "responder_refuses", False), entry
    assert url in entry["cause_sentence"] and url in entry["remedy"]
    assert any("while requesting certificate status" in line for line in entry["evidence"]), entry["evidence"]

    again = run_playbook(NGINX_ENABLE, variables)
    assert again.returncode == 0 and again.changed() == 0, again.failure_messages()


def _serve_the_leaf_only(state: dict[str, Any], user_stapling: bool = False) -> Path:
    """The plain virtual host serves its certificate file without the issuer (and, as a user has it, may turn
    stapling on itself); Apache reloaded."""
    plain = state["leaves"]["plain"]
    site = Path(state["apache"]["sites"]["plain"])
    text = site.read_text().replace(plain["fullchain"], plain["cert"])
    if user_stapling:
        text = text.replace("</VirtualHost>", "    SSLUseStapling on\n</VirtualHost>")
    site.write_text(text)
    reloaded = subprocess.run(state["apache"]["reload_command"], capture_output=True, text=True, check=False)
    assert reloaded.returncode == 0, reloaded.stderr
    return site


def test_apache_serving_a_leaf_only_file_gets_the_issuer_from_the_host_and_staples(lab_factory, run_playbook):  # noqa: F811
    lab = lab_factory(components=("responder", "apache"), revoke_initially=False)
    state = lab.state()
    _serve_the_leaf_only(state)

    first = run_playbook(APACHE_ENABLE, role_vars.apache(state))
    assert first.returncode == 0, first.failure_messages()
    assert by_leaf(state, endpoint_facts(first, "apache_stapling"), "plain")["verdict"] == "good"
    assert "Cert Status: good" in s_client_status(state, "apache", "plain")
    # the issuer came from another virtual host's certificate file, verified, into the role's own CA store
    issuers = Path(state["apache"]["confdir"]) / "tlsops-ocsp-issuers.pem"
    assert Path(state["pki"]["intermediate"]["cert"]).read_text().strip() in issuers.read_text()
    dropin = Path(state["apache"]["dropin_dir"]) / "tlsops-ocsp-stapling.conf"
    assert f"SSLCACertificateFile {issuers}" in dropin.read_text().splitlines()

    again = run_playbook(APACHE_ENABLE, role_vars.apache(state))
    assert again.returncode == 0 and again.changed() == 0, again.failure_messages()

    removed = run_playbook(APACHE_ENABLE, role_vars.apache(state, apache_stapling_state="absent"))
    assert removed.returncode == 0 and not issuers.exists(), removed.failure_messages()


def test_apache_users_own_stapling_on_a_leaf_only_file_names_the_file_and_never_restarts(lab_factory, run_playbook):  # noqa: F811
    lab = lab_factory(components=("responder", "apache"), revoke_initially=False)
    state = lab.state()
    plain = state["leaves"]["plain"]
    _serve_the_leaf_only(state, user_stapling=True)

    first = run_playbook(APACHE_ENABLE, role_vars.apache(state))
    assert first.returncode == 0, first.failure_messages()
    facts = endpoint_facts(first, "apache_stapling")
    entry = by_leaf(state, facts, "plain")
    assert (entry["configured_by"], entry["verdict"], entry["cause"]) == ("user", "no_staple", "issuer_not_served")
    assert plain["cert"] in entry["remedy"] and "issuing CA" in entry["remedy"]
    assert any("AH02217" in line for line in entry["evidence"]), entry["evidence"]  # mod_ssl's own words
    assert by_leaf(state, facts, "must_staple")["verdict"] == "good"
    assert not (Path(state["apache"]["confdir"]) / "tlsops-ocsp-issuers.pem").exists()  # their lines, their fix

    again = run_playbook(APACHE_ENABLE, role_vars.apache(state))
    assert again.returncode == 0 and again.changed() == 0, again.failure_messages()
    assert by_leaf(state, endpoint_facts(again, "apache_stapling"), "plain")["cause"] == "issuer_not_served"


def test_haproxy_with_its_responder_down_says_so_from_its_own_runtime_api_and_fails_only_must_staple(
        lab_factory, run_playbook):  # noqa: F811
    lab = lab_factory(components=("responder", "haproxy"), revoke_initially=False)
    state = lab.state()
    lab.stop(["responder"])
    variables = role_vars.haproxy(state, haproxy_stapling_refresher_python=sys.executable)

    first = run_playbook(HAPROXY_ENABLE, variables)
    assert first.returncode != 0  # the Must-Staple gate
    facts = endpoint_facts(first, "haproxy_stapling")
    url = state["leaves"]["must_staple"]["ocsp_url"]
    for leaf in ("plain", "must_staple"):
        entry = by_leaf(state, facts, leaf)
        assert (entry["verdict"], entry["cause"]) == ("no_staple", "responder_unreachable"), entry
        assert url in entry["cause_sentence"] and "127.0.0.1" in entry["remedy"]
        # HAProxy's own word (its runtime API), then what the role's fetch got
        assert any("show ssl cert" in line and "no OCSP response" in line for line in entry["evidence"]), entry
        assert entry["fetch_due"] is False
    messages = " ".join(first.failure_messages())
    assert "responder_unreachable" in messages and "nginx" not in messages

    second = run_playbook(HAPROXY_ENABLE, variables)
    assert second.returncode != 0 and second.changed() == 0, second.failure_messages()
    assert by_leaf(state, endpoint_facts(second, "haproxy_stapling"), "plain")["cause"] == "responder_unreachable"
