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
        "inspect": False, "check": None}


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
