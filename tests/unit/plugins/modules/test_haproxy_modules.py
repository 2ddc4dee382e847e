# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_config_info against Debian's real haproxy -c (nothing is started); haproxy_ocsp_file's own paths."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ansible_collections.tlsops.ocsp.plugins.modules import haproxy_config_info, haproxy_ocsp_file
from tests.support.pki import TestPKI

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
needs_haproxy = pytest.mark.skipif(not Path(HAPROXY).exists(), reason="needs Debian's haproxy")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    pki = TestPKI()
    leaf = pki.leaf("www.example.test")
    certs = tmp_path / "certs"
    certs.mkdir()
    (certs / "site.pem").write_bytes(leaf.pem + pki.intermediate.pem + leaf.key_pem)
    (tmp_path / "list.txt").write_text("site.pem www.example.test\n")
    path = tmp_path / "haproxy.cfg"
    path.write_text(f"global\n    crt-base {certs}\n    stats socket {tmp_path}/admin.sock level admin\n"
                    "defaults\n    mode http\n    timeout client 5s\n    timeout connect 5s\n    timeout server 5s\n"
                    f"frontend tls\n    bind 127.0.0.1:8443 ssl crt-list {tmp_path}/list.txt\n"
                    "    http-request return status 200\n")
    return path


@needs_haproxy
def test_config_info_validates_and_reads_the_binds(run_module, config: Path):
    result = run_module(haproxy_config_info.main, binary=HAPROXY, config_files=[str(config)])
    assert not result.get("failed"), result
    assert result["version"].startswith("2.") or result["version"].startswith("3.")
    assert [entry["path"] for entry in result["certificates"]] == [str(config.parent / "certs" / "site.pem")]
    assert result["admin_socket"] == str(config.parent / "admin.sock")
    assert result["crt_lists"] == {str(config.parent / "list.txt"): "site.pem www.example.test\n"}


@needs_haproxy
def test_config_info_fails_on_a_configuration_haproxy_rejects(run_module, config: Path):
    config.write_text(config.read_text() + "    bogus-keyword here\n")
    result = run_module(haproxy_config_info.main, binary=HAPROXY, config_files=[str(config)])
    assert result["failed"] and "HAProxy rejects its configuration" in result["msg"]
    assert "bogus-keyword" in result["msg"]


def test_config_info_names_a_binary_that_is_not_haproxy(run_module, tmp_path: Path):
    result = run_module(haproxy_config_info.main, binary="/bin/false", config_files=[str(tmp_path / "x.cfg")])
    assert result["failed"] and "set the binary option to the haproxy program" in result["msg"]


def test_ocsp_file_absent_removes_only_existing_files_and_honours_check_mode(run_module, tmp_path: Path):
    (tmp_path / "a.pem.ocsp").write_bytes(b"x")
    paths = [str(tmp_path / "a.pem"), str(tmp_path / "b.pem")]
    checked = run_module(haproxy_ocsp_file.main, check_mode=True, certificates=paths, state="absent")
    assert checked["changed"] and (tmp_path / "a.pem.ocsp").exists()
    removed = run_module(haproxy_ocsp_file.main, certificates=paths, state="absent")
    assert removed["changed"] and removed["removed"] == [str(tmp_path / "a.pem.ocsp")]
    assert not (tmp_path / "a.pem.ocsp").exists()
    assert not run_module(haproxy_ocsp_file.main, certificates=paths, state="absent")["changed"]


def test_ocsp_file_rejects_a_mode_that_is_not_octal(run_module, tmp_path: Path):
    result = run_module(haproxy_ocsp_file.main, certificates=[str(tmp_path / "a.pem")], mode="rw-r--r--")
    assert result["failed"] and "octal" in result["msg"]


# what roles/haproxy_stapling/tasks/settings.yml builds for the plan, on audit
AUDIT_SETTINGS = {
    "state": "present", "audit": True, "scope": "certificate", "selected": [], "manage_includes": True,
    "binary": HAPROXY, "config_files": [], "reload_method": "auto", "service_mgr": "", "private": True,
    "check_host": "127.0.0.1", "socket_path": "", "refresher": "auto", "library_dir": "/usr/local/lib/tlsops-ocsp",
    "renew_before": 0, "file_mode": "0644", "timeout": 1.0,
    # as server_settings always gives it: a HAProxy running on this machine must not change what is tested
    "pid_file": "/nonexistent/tlsops-test-haproxy.pid",
}


@needs_haproxy
def test_config_info_inspects_in_the_same_call(run_module, config: Path):
    result = run_module(haproxy_config_info.main, binary=HAPROXY, config_files=[str(config)], inspect=True)
    assert not result.get("failed"), result
    site = str(config.parent / "certs" / "site.pem")
    assert [(facts["path"], facts["subject"]) for facts in result["certificate_facts"]][0] == (
        site, "CN=www.example.test,O=tlsops test")


@needs_haproxy
def test_config_info_plans_and_checks_in_the_same_call(run_module, config: Path):
    settings = dict(AUDIT_SETTINGS, config_files=[str(config)])
    result = run_module(haproxy_config_info.main, binary=HAPROXY, config_files=[str(config)],
                        check={"settings": settings, "timeout": 1})
    assert not result.get("failed"), result
    assert [(endpoint["port"], endpoint["server_name"]) for endpoint in result["plan"]["endpoints"]] == [
        (8443, "www.example.test")]
    # nothing was started: the endpoint is unreachable, so the responder was asked (and is down too)
    (staple,) = result["checked"]["endpoints"]
    (responder,) = result["checked"]["responders"]
    assert staple["verdict"] == "unreachable" and responder["verdict"] == "unreachable", result["checked"]
    assert result["checked"]["crls"] == []


@needs_haproxy
def test_config_info_check_names_a_missing_setting(run_module, config: Path):
    result = run_module(haproxy_config_info.main, binary=HAPROXY, config_files=[str(config)],
                        check={"settings": {"state": "present"}})
    assert result["failed"]
    assert result["msg"].startswith("check.settings: the stapling plan of this haproxy needs '")
