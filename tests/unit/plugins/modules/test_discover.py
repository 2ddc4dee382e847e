# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The discovery another module runs per server: check_glue.server_params, then discover_<kind>.discover.

Each main() here is a module of its own options that discovers one server with another dict of options, as a
module auditing every server of a host does. Those options come only from the dict: the module's own
(module.params) name a binary that is not the server, or a configuration that does not exist, so reading them
would fail. Real nginx -T, apache2ctl and haproxy -c, on private configurations; nothing is started.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable, Dict, Mapping

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache import discovery as discover_apache
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import discovery as discover_haproxy
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx import discovery as discover_nginx
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.check_glue import server_params
from ansible_collections.tlsops.ocsp.plugins.modules import apache_config_info, nginx_config_info
from tests.support.debian_nginx import BINARY as NGINX, DebianNginx
from tests.support.pki import TestPKI
# the private configurations of these modules' own tests
from tests.unit.plugins.modules.test_apache_config_info import INCLUDE, confdir  # noqa: F401 pylint: disable=unused-import
from tests.unit.plugins.modules.test_haproxy_modules import (  # noqa: F401 pylint: disable=unused-import
    AUDIT_SETTINGS,
    HAPROXY,
    config,
    needs_haproxy,
)

needs_nginx = pytest.mark.skipif(not Path(NGINX).exists() or not Path("/etc/nginx").is_dir(),
                                 reason="needs Debian's nginx")
needs_apache = pytest.mark.skipif(not shutil.which("apache2ctl"), reason="needs Debian's apache2")


def per_server(discover: Callable[..., Dict[str, Any]], spec: Mapping[str, Any],
               given: Mapping[str, Any]) -> Callable[[], None]:
    """A module main() with the options `spec` of its own that discovers the server `given` describes."""
    def main() -> None:
        module = AnsibleModule(argument_spec=dict(spec), supports_check_mode=True)
        module.exit_json(**discover(module, server_params(module, spec, given, "server.")))
    return main


def validate(run_module, spec: Mapping[str, Any], given: Mapping[str, Any]) -> Dict[str, Any]:
    """server_params' result (under `params`) or failure, from inside a real module run."""
    def main() -> None:
        module = AnsibleModule(argument_spec={}, supports_check_mode=True)
        module.exit_json(params=server_params(module, spec, given, "nginx."))
    return run_module(main)


def test_server_params_fills_defaults_and_converts_types(run_module):
    result = validate(run_module, discover_nginx.ARGUMENT_SPEC, {
        "binary": "/opt/nginx/sbin/nginx", "inspect": "yes", "extra_args": ["-e", "/srv/error.log"],
        "check": {"settings": {"state": "present"}, "timeout": "2"}})
    assert not result.get("failed"), result
    assert result["params"] == {
        "binary": "/opt/nginx/sbin/nginx", "config_file": "/etc/nginx/nginx.conf", "prefix": "",
        "extra_args": ["-e", "/srv/error.log"], "check_host": "127.0.0.1", "check_host_v6": "::1",
        "dropin_path": None, "marker_line": None, "resolv_conf": None, "inspect": True,
        "check": {"settings": {"state": "present"}, "timeout": 2.0, "retries": 0, "retry_delay": 1.0}}
    assert validate(run_module, discover_haproxy.ARGUMENT_SPEC, {})["params"] == {
        "binary": "/usr/sbin/haproxy", "config_files": ["/etc/haproxy/haproxy.cfg"], "pid_file": "/run/haproxy.pid",
        "previous_pids": [],
        "inspect": False, "updater_trial": False, "trial_timeout": 10.0, "check": None}


@pytest.mark.parametrize("given, named", [  # ansible-core's words (which vary a little between versions)
    ({"inspect": "maybe"}, ("argument 'nginx.inspect' is of type", "unable to convert to bool")),
    ({"extra_args": {"-e": "/srv/error.log"}}, ("argument 'nginx.extra_args' is of type", "unable to convert to list")),
    ({"check": {"timeout": 5}}, ("missing required arguments: settings found in nginx.check",)),
    ({"binray": "/usr/sbin/nginx"}, ("unsupported parameters: nginx.binray.", "Supported parameters include: nginx.binary,")),
])
def test_server_params_names_each_wrong_option_with_the_prefix(run_module, given, named):
    result = validate(run_module, discover_nginx.ARGUMENT_SPEC, given)
    assert result["failed"] and all(words in result["msg"] for words in named), result["msg"]


def test_server_params_reports_every_error_at_once(run_module):
    result = validate(run_module, discover_nginx.ARGUMENT_SPEC, {"inspect": "maybe", "binray": "x"})
    assert "nginx.inspect" in result["msg"] and "nginx.binray" in result["msg"]


@pytest.fixture
def nginx(tmp_path: Path) -> DebianNginx:
    """A private copy of Debian's /etc/nginx with one TLS site (never started: nginx -T only reads it)."""
    instance = DebianNginx(tmp_path / "nginx", 8443).install()
    pki = TestPKI()
    leaf = pki.leaf("www.example.test")
    (tmp_path / "fullchain.pem").write_bytes(leaf.pem + pki.intermediate.pem)
    (tmp_path / "key.pem").write_bytes(leaf.key_pem)
    instance.write_site("www", instance.server_block({"server_name": "www.example.test",
                                                      "fullchain": tmp_path / "fullchain.pem",
                                                      "key": tmp_path / "key.pem"}))
    return instance


@needs_nginx
def test_nginx_discovery_reads_the_params_it_is_given(run_module, nginx: DebianNginx):
    given = {"prefix": f"{nginx.root}/", "config_file": str(nginx.etc / "nginx.conf"),
             "extra_args": ["-e", str(nginx.error_log)], "inspect": True}
    result = run_module(per_server(discover_nginx.discover, discover_nginx.ARGUMENT_SPEC, given),
                        binary="/bin/false", config_file="/nonexistent/nginx.conf")
    assert not result.get("failed"), result
    assert result["version"].startswith("1.")  # nginx -v of the given binary
    (server,) = [server for server in result["servers"] if server["ssl"]]
    assert server["server_names"] == ["www.example.test"]
    assert server["endpoints"] == [{"host": "127.0.0.1", "port": 8443, "server_name": "www.example.test"}]
    assert [facts["subject"] for facts in result["certificates"]][0] == "CN=www.example.test,O=tlsops test"
    # the module itself, on the same options, returns the same
    module_result = run_module(nginx_config_info.main, **given)
    assert module_result == result


@needs_nginx
def test_nginx_discovery_fails_with_the_modules_message(run_module, nginx: DebianNginx):
    (nginx.etc / "conf.d" / "broken.conf").write_text("no_such_directive on;\n")
    given = {"prefix": f"{nginx.root}/", "config_file": str(nginx.etc / "nginx.conf"),
             "extra_args": ["-e", str(nginx.error_log)]}
    result = run_module(per_server(discover_nginx.discover, discover_nginx.ARGUMENT_SPEC, given))
    assert result["failed"] and "no_such_directive" in result["msg"]
    assert result["msg"].startswith("nginx -T failed for %s, so nothing was changed: " % (nginx.etc / "nginx.conf"))


@needs_apache
def test_apache_discovery_reads_the_params_it_is_given(run_module, confdir: Path):  # noqa: F811
    given = {"ctl": "apache2ctl", "include_line": INCLUDE, "config_dir": str(confdir), "inspect": True}
    result = run_module(per_server(discover_apache.discover, discover_apache.ARGUMENT_SPEC, given),
                        ctl="no-such-apachectl", config_dir="/nonexistent")
    assert not result.get("failed"), result
    assert result["config_ok"] and result["server_root_matches"]
    (vhost,) = result["vhosts"]
    assert (vhost["port"], vhost["server_name"]) == (8443, "unit.test")
    assert [facts["path"] for facts in result["certificates"]] == [str(confdir.parent / "cert.pem")]
    module_result = run_module(apache_config_info.main, **given)
    assert module_result == result


@needs_haproxy
def test_haproxy_discovery_plans_and_checks_with_the_params_it_is_given(run_module, config: Path):  # noqa: F811
    settings = dict(AUDIT_SETTINGS, config_files=[str(config)])
    given = {"binary": HAPROXY, "config_files": [str(config)], "check": {"settings": settings, "timeout": "1"}}
    result = run_module(per_server(discover_haproxy.discover, discover_haproxy.ARGUMENT_SPEC, given),
                        binary="/bin/false", config_files=[str(config.parent / "nonexistent.cfg")])
    assert not result.get("failed"), result
    assert [facts["path"] for facts in result["certificate_facts"]][0] == str(config.parent / "certs" / "site.pem")
    assert [(endpoint["port"], endpoint["server_name"]) for endpoint in result["plan"]["endpoints"]] == [
        (8443, "www.example.test")]
    (staple,) = result["checked"]["endpoints"]
    assert staple["verdict"] == "unreachable"  # nothing was started


@needs_haproxy
def test_haproxy_check_settings_missing_keeps_the_modules_message(run_module, config: Path):  # noqa: F811
    given = {"binary": HAPROXY, "config_files": [str(config)], "check": {"settings": {"state": "present"}}}
    result = run_module(per_server(discover_haproxy.discover, discover_haproxy.ARGUMENT_SPEC, given))
    assert result["failed"]
    assert result["msg"].startswith("check.settings: the stapling plan of this haproxy needs '")


# --- What discovery says instead of failing, or of ending silently ------------------------------

def nginx_given(nginx: DebianNginx, **extra: Any) -> Dict[str, Any]:
    return dict({"prefix": f"{nginx.root}/", "config_file": str(nginx.etc / "nginx.conf"),
                 "extra_args": ["-e", str(nginx.error_log)], "inspect": True}, **extra)


@needs_nginx
def test_nginx_without_tls_says_so_in_a_warning(run_module, tmp_path: Path):
    bare = DebianNginx(tmp_path / "bare", 8443).install()  # Debian's default site only: port 80, no ssl

    result = run_module(nginx_config_info.main, **nginx_given(bare))

    assert not result.get("failed"), result
    assert not any(server["ssl"] for server in result["servers"]) and result["certificates"] == []
    (warning,) = result["warnings"]
    assert warning.startswith("nginx serves no TLS: no server block with ssl (a listen ... ssl line) in %s"
                              % (bare.etc / "nginx.conf"))
    assert "nothing to staple" in warning


@needs_nginx
def test_nginx_with_tls_has_no_warning(run_module, nginx: DebianNginx):
    assert run_module(nginx_config_info.main, **nginx_given(nginx))["warnings"] == []


@pytest.mark.parametrize("binary, problem", [
    ("/usr/sbin/nginx-no-such", "does not exist"),
    ("{tmp}/nginx.conf", "is not an executable file"),
    ("{tmp}", "is not an executable file"),
    ("no-such-nginx-command", "is not in PATH"),
])
def test_nginx_binary_that_cannot_run_is_named_by_its_option(run_module, tmp_path: Path, binary, problem):
    (tmp_path / "nginx.conf").write_text("events {}\n")
    (tmp_path / "nginx.conf").chmod(0o644)
    binary = binary.format(tmp=tmp_path)
    result = run_module(nginx_config_info.main, binary=binary)

    assert result["failed"]
    assert result["msg"] == ("binary: %s %s; set the binary option to the nginx program (`command -v nginx` "
                             "prints where it is)" % (binary, problem))
    assert "Errno" not in result["msg"]


def test_haproxy_binary_that_does_not_exist_is_named_by_its_option(run_module, tmp_path: Path):
    result = run_module(discover_haproxy_main(), binary="/opt/no-haproxy/sbin/haproxy")

    assert result["msg"].startswith("binary: /opt/no-haproxy/sbin/haproxy does not exist; set the binary option "
                                    "to the HAProxy program")


def discover_haproxy_main() -> Callable[[], None]:
    from ansible_collections.tlsops.ocsp.plugins.modules import haproxy_config_info
    return haproxy_config_info.main


@needs_haproxy
def test_haproxy_without_tls_says_so_in_a_warning(run_module, tmp_path: Path):
    plain = tmp_path / "plain.cfg"
    plain.write_text("defaults\n    mode http\n    timeout client 5s\n    timeout connect 5s\n    timeout server 5s\n"
                     "frontend web\n    bind 127.0.0.1:8080\n    http-request return status 200\n")

    result = run_module(discover_haproxy_main(), binary=HAPROXY, config_files=[str(plain)], inspect=True)

    assert not result.get("failed"), result
    assert result["warnings"] == ["HAProxy serves no TLS: no bind line with ssl in %s, so there is nothing to "
                                  "staple; add TLS binds (bind ... ssl crt ...) first, or leave HAProxy out" % plain]


@needs_apache
def test_apache_without_tls_says_so_in_a_warning(run_module, confdir: Path):  # noqa: F811
    (confdir / "sites-enabled" / "unit.conf").unlink()

    result = run_module(apache_config_info.main, ctl="apache2ctl", config_dir=str(confdir), inspect=True)

    assert not result.get("failed"), result
    assert [warning.split(":")[0] for warning in result["warnings"]] == ["Apache serves no TLS"]


def test_inspection_warns_per_unreadable_file_and_keeps_the_others(run_module, tmp_path: Path):
    from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import inspect_certificate_files
    pki = TestPKI()
    good = tmp_path / "good.pem"
    good.write_bytes(pki.leaf().pem)
    key = tmp_path / "site.key"
    key.write_bytes(pki.leaf().key_pem)

    def main() -> None:
        module = AnsibleModule(argument_spec={}, supports_check_mode=True)
        facts, warnings = inspect_certificate_files(module, [str(tmp_path / "gone.pem"), str(key), str(good)],
                                                    "ssl_certificate")
        module.exit_json(paths=[entry["path"] for entry in facts], problems=warnings)

    result = run_module(main)

    assert result["paths"] == [str(good)]
    gone, private = result["problems"]
    assert gone.startswith("ssl_certificate: %s: cannot be read: no such file; check the path" % (tmp_path / "gone.pem"))
    assert private.startswith("ssl_certificate: %s: holds a private key, not a certificate" % key)
    assert private.endswith("stapling is planned for the sites that serve it without its facts")
