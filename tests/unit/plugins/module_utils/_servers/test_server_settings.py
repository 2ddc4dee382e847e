# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server roles' settings, from each role's own defaults (roles/<kind>_stapling/defaults/main.yml) and overrides."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.server_settings import (
    check_options, discovery_options, server_settings)

ROLES = Path(__file__).resolve().parents[5] / "roles"
KINDS = ("nginx", "apache", "haproxy")


def role_vars(kind: str, **overrides: Any) -> Dict[str, Any]:
    """The role's defaults merged with the user's values, as the role's settings task collects them."""
    defaults = yaml.safe_load((ROLES / f"{kind}_stapling" / "defaults" / "main.yml").read_text())
    return dict(defaults, **{f"{kind}_stapling_{name}": value for name, value in overrides.items()})


# what the shared phases read beside the plan's settings (tested on their own below)
PHASE_KEYS = ("discovery", "check", "label", "validate", "validate_warning", "environment", "lock", "directory_mode")


def settle(kind: str, os_family: str = "Debian", service_mgr: str = "systemd", audit: bool = False,
           **overrides: Any) -> Dict[str, Any]:
    settings = server_settings(kind, role_vars(kind, **overrides), os_family, service_mgr, audit)
    return {key: value for key, value in settings.items() if key not in PHASE_KEYS}


@pytest.mark.parametrize("kind", KINDS)
def test_the_settings_carry_the_one_mapping_to_module_options(kind: str) -> None:
    """The roles pass the settled settings as one value: discovery's and the check's options come from here."""
    values = role_vars(kind, warm_retries=7)
    settings = server_settings(kind, values, "Debian", "systemd", True, check_mode=False)
    assert settings["discovery"] == discovery_options(kind, values, settings)
    assert settings["check"] == check_options(kind, values, False) and settings["check"]["retries"] == 7
    assert server_settings(kind, values, "Debian", "systemd", True, check_mode=True)["check"]["retries"] == 0
    assert settings["lock"]["wait"] == 600 and settings["lock"]["name"].startswith(kind + "-/etc/")


@pytest.mark.parametrize("kind", KINDS)
def test_every_discovery_option_is_one_the_module_takes(kind: str) -> None:
    """A drift between the mapping and the discovery module's options fails here, not on a host."""
    module = pytest.importorskip(f"ansible_collections.tlsops.ocsp.plugins.module_utils._servers.{kind}.discovery")
    settings = server_settings(kind, role_vars(kind), "Debian", "systemd", False)
    assert set(settings["discovery"]) <= set(module.ARGUMENT_SPEC)


def test_validation_commands() -> None:
    assert server_settings("nginx", role_vars("nginx"), "Debian", "", False)["validate"] == [
        "/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf", "-t"]
    assert server_settings("apache", role_vars("apache"), "Debian", "", False)["validate"] == [
        "apache2ctl", "configtest"]
    assert server_settings("haproxy", role_vars("haproxy"), "Debian", "", False)["validate"] == [
        "/usr/sbin/haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg"]


# --- nginx ----------------------------------------------------------------------------------

def test_nginx_debian_defaults() -> None:
    assert settle("nginx") == {
        "state": "present", "audit": False, "scope": "auto", "selected": [], "manage_includes": True,
        "file_mode": "0644", "verify": True, "resolvers": [], "resolver_timeout": "5s",
        "binary": "/usr/sbin/nginx", "config_file": "/etc/nginx/nginx.conf",
        "command": ["/usr/sbin/nginx", "-c", "/etc/nginx/nginx.conf"],
        "dropin_path": "/etc/nginx/conf.d/tlsops-ocsp-stapling.conf",
        "snippet_path": "/etc/nginx/tlsops-ocsp/stapling-server.conf",
        "bundle_path": "/etc/nginx/tlsops-ocsp/trusted-chain.pem",
        "include_line": "include /etc/nginx/tlsops-ocsp/stapling-server*.conf;",
        "ca_file": "/etc/ssl/certs/ca-certificates.crt",
        "reload_method": "auto", "service_mgr": "systemd", "private": False,
    }


def test_nginx_redhat_and_unknown_family() -> None:
    assert settle("nginx", "RedHat")["ca_file"] == "/etc/pki/tls/certs/ca-bundle.crt"
    assert settle("nginx", "Archlinux") == settle("nginx", "Debian")


def test_nginx_user_values() -> None:
    settings = settle("nginx", audit=True, binary="/opt/nginx/sbin/nginx", extra_args=["-g", "daemon off;"],
                      snippet_dir="/srv/snip", dropin_dir="/srv/drop", ca_file="/srv/ca.pem", scope="site",
                      certificates=["/srv/a.pem"], state="absent", reload_method="signal", verify=False)
    assert settings["command"] == ["/opt/nginx/sbin/nginx", "-g", "daemon off;", "-c", "/etc/nginx/nginx.conf"]
    assert settings["include_line"] == "include /srv/snip/stapling-server*.conf;"
    assert settings["bundle_path"] == "/srv/snip/trusted-chain.pem"
    assert settings["dropin_path"] == "/srv/drop/tlsops-ocsp-stapling.conf"
    assert (settings["ca_file"], settings["scope"], settings["selected"]) == ("/srv/ca.pem", "site", ["/srv/a.pem"])
    assert (settings["state"], settings["audit"], settings["reload_method"]) == ("absent", True, "signal")
    assert settings["verify"] is False
    assert settings["private"] is False  # the packaged configuration, another binary


@pytest.mark.parametrize("overrides", [{"prefix": "/srv/ngx"}, {"config_file": "/srv/ngx/nginx.conf"}])
def test_nginx_private_instance(overrides: Dict[str, str]) -> None:
    settings = settle("nginx", **overrides)
    assert settings["private"] is True
    assert settings["command"][-2:] == ["-c", overrides.get("config_file", "/etc/nginx/nginx.conf")]
    assert ("-p" in settings["command"]) == ("prefix" in overrides)


# --- apache ---------------------------------------------------------------------------------

def test_apache_debian_defaults() -> None:
    settings = settle("apache", service_mgr="")
    assert {key: value for key, value in settings.items() if key != "server_settings"} == {
        "state": "present", "audit": False, "scope": "auto", "selected": [], "manage_includes": True, "file_mode": "0644",
        "config_dir": "/etc/apache2", "ctl": "apache2ctl", "module_method": "a2enmod",
        "dropin_path": "/etc/apache2/conf-available/tlsops-ocsp-stapling.conf",
        "enabled_path": "/etc/apache2/conf-enabled/tlsops-ocsp-stapling.conf",
        "modules_path": "/etc/apache2/mods-enabled/00-tlsops-ocsp-stapling.conf",
        "snippet_path": "/etc/apache2/tlsops-ocsp-stapling-vhost.conf",
        "state_path": "/etc/apache2/tlsops-ocsp-stapling.json", "issuers_path": "/etc/apache2/tlsops-ocsp-issuers.pem",
        "include_line": "IncludeOptional /etc/apache2/tlsops-ocsp-stapling-vhost.conf",
        "check_host": "127.0.0.1", "service_name": "apache2", "reload_method": "auto", "service_mgr": "",
        "private": False,
    }
    assert settings["server_settings"] == {
        "SSLStaplingCache": '"shmcb:tlsops-ocsp-stapling(131072)"', "SSLStaplingResponderTimeout": 5,
        "SSLStaplingReturnResponderErrors": "off", "SSLStaplingFakeTryLater": "off",
        "SSLStaplingStandardCacheTimeout": "", "SSLStaplingErrorCacheTimeout": "", "SSLStaplingForceURL": "",
    }


def test_apache_redhat_has_no_enabled_dir() -> None:
    settings = settle("apache", "RedHat")
    assert (settings["config_dir"], settings["ctl"], settings["module_method"]) == ("/etc/httpd", "apachectl",
                                                                                    "loadmodule")
    assert settings["enabled_path"] == ""
    assert settings["dropin_path"] == "/etc/httpd/conf.d/tlsops-ocsp-stapling.conf"
    assert settings["modules_path"] == "/etc/httpd/conf.modules.d/00-tlsops-ocsp-stapling.conf"
    assert settings["service_name"] == "httpd"
    assert settle("apache", "Gentoo") == settle("apache", "Debian")


def test_apache_confdir_from_the_environment_is_private() -> None:
    settings = settle("apache", environment={"APACHE_CONFDIR": "/srv/apache2"})
    assert settings["config_dir"] == "/srv/apache2"
    assert settings["enabled_path"] == "/srv/apache2/conf-enabled/tlsops-ocsp-stapling.conf"
    assert settings["private"] is True
    # an explicit config_dir wins; APACHE_CONFDIR still marks an instance the service manager does not run
    assert settle("apache", environment={"APACHE_CONFDIR": "/srv/x"}, config_dir="/etc/apache2")["private"] is True


def test_apache_user_values() -> None:
    settings = settle("apache", config_dir="/srv/a", dropin_dir="/srv/d", enabled_dir="/srv/e", modules_dir="/srv/m",
                      ctl="/opt/bin/apachectl", module_method="loadmodule", service_name="httpd24",
                      cache_file="/run/stapling", cache_size=4096, responder_timeout=3,
                      return_responder_errors=True, fake_try_later=True, standard_cache_timeout=600,
                      error_cache_timeout=60, force_url="http://ocsp.test/")
    assert settings["private"] is True
    assert (settings["dropin_path"], settings["enabled_path"], settings["modules_path"]) == (
        "/srv/d/tlsops-ocsp-stapling.conf", "/srv/e/tlsops-ocsp-stapling.conf", "/srv/m/00-tlsops-ocsp-stapling.conf")
    assert (settings["ctl"], settings["module_method"], settings["service_name"]) == ("/opt/bin/apachectl",
                                                                                      "loadmodule", "httpd24")
    assert settings["server_settings"] == {
        "SSLStaplingCache": '"shmcb:/run/stapling(4096)"', "SSLStaplingResponderTimeout": 3,
        "SSLStaplingReturnResponderErrors": "on", "SSLStaplingFakeTryLater": "on",
        "SSLStaplingStandardCacheTimeout": 600, "SSLStaplingErrorCacheTimeout": 60,
        "SSLStaplingForceURL": "http://ocsp.test/",
    }


# --- haproxy --------------------------------------------------------------------------------

def test_haproxy_defaults() -> None:
    assert settle("haproxy", audit=True) == {
        "state": "present", "audit": True, "scope": "certificate", "selected": [], "manage_includes": True,
        "binary": "/usr/sbin/haproxy", "config_files": ["/etc/haproxy/haproxy.cfg"], "reload_method": "auto",
        "service_mgr": "systemd", "private": False, "check_host": "127.0.0.1",
        "socket_path": "/run/haproxy/tlsops-ocsp.sock", "refresher": "auto", "updater": "auto",
        "library_dir": "/usr/local/lib/tlsops-ocsp-haproxy", "log_file": "/var/log/tlsops-ocsp-haproxy.log",
        "renew_before": 1800, "file_mode": "0644",
        "timeout": 10.0, "pid_file": "/run/haproxy.pid", "service_name": "haproxy",
    }
    assert settle("haproxy", "RedHat") == settle("haproxy", "Debian") == settle("haproxy", "FreeBSD")


def test_haproxy_config_files_and_types() -> None:
    settings = settle("haproxy", config_files=["/srv/h/main.cfg", "/srv/h/extra.cfg"], renew_before="600",
                      fetch_timeout="2.5", binary="/opt/haproxy")
    assert settings["config_files"] == ["/srv/h/main.cfg", "/srv/h/extra.cfg"]
    assert settings["private"] is True
    assert settings["binary"] == "/opt/haproxy"
    assert settings["renew_before"] == 600 and isinstance(settings["renew_before"], int)
    assert settings["timeout"] == 2.5 and isinstance(settings["timeout"], float)
    assert settle("haproxy", config_files=["/etc/haproxy/haproxy.cfg"])["private"] is False


# --- every kind -----------------------------------------------------------------------------

@pytest.mark.parametrize("function", [
    lambda: server_settings("iis", {}, "Debian", "", False),
    lambda: discovery_options("lighttpd", {}, {}),
    lambda: check_options("", {}, False),
])
def test_unknown_kind(function: Any) -> None:
    with pytest.raises(ValueError, match="unknown server kind"):
        function()


def test_missing_role_variable_is_named() -> None:
    values = role_vars("nginx")
    del values["nginx_stapling_prefix"]
    with pytest.raises(KeyError, match="nginx_stapling_prefix"):
        server_settings("nginx", values, "Debian", "", False)


# --- discovery and check options ------------------------------------------------------------

def test_nginx_discovery_options() -> None:
    values = role_vars("nginx", prefix="/srv/ngx", extra_args=["-g", "pid /tmp/x.pid;"], check_host="127.0.0.2")
    settings = server_settings("nginx", values, "Debian", "", False)
    assert discovery_options("nginx", values, settings) == {
        "binary": "/usr/sbin/nginx", "prefix": "/srv/ngx", "extra_args": ["-g", "pid /tmp/x.pid;"],
        "config_file": "/etc/nginx/nginx.conf", "check_host": "127.0.0.2", "check_host_v6": "::1",
        "dropin_path": "/etc/nginx/conf.d/tlsops-ocsp-stapling.conf",
        "marker_line": "include /etc/nginx/tlsops-ocsp/stapling-server*.conf;",
        "resolv_conf": "/etc/resolv.conf", "inspect": True,
    }


def test_nginx_discovery_without_resolv_conf_when_resolvers_are_given() -> None:
    values = role_vars("nginx", resolvers=["192.0.2.53"])
    options = discovery_options("nginx", values, server_settings("nginx", values, "Debian", "", False))
    assert "resolv_conf" not in options


def test_apache_discovery_options() -> None:
    values = role_vars("apache", environment={"APACHE_CONFDIR": "/srv/a"})
    assert discovery_options("apache", values, server_settings("apache", values, "Debian", "", False)) == {
        "ctl": "apache2ctl", "include_line": "IncludeOptional /srv/a/tlsops-ocsp-stapling-vhost.conf",
        "state_path": "/srv/a/tlsops-ocsp-stapling.json", "config_dir": "/srv/a", "inspect": True,
    }


def test_haproxy_discovery_options() -> None:
    values = role_vars("haproxy", config_files=["/srv/h.cfg"])
    assert discovery_options("haproxy", values, server_settings("haproxy", values, "RedHat", "", False)) == {
        "binary": "/usr/sbin/haproxy", "config_files": ["/srv/h.cfg"], "pid_file": "/run/haproxy.pid", "inspect": True,
        "updater_trial": True, "trial_timeout": 10.0,
    }
    # only auto asks HAProxy's own updater first
    for updater in ("native", "refresher"):
        values = role_vars("haproxy", updater=updater)
        assert discovery_options("haproxy", values, server_settings("haproxy", values, "Debian", "", False))[
            "updater_trial"] is False


@pytest.mark.parametrize("kind", KINDS)
def test_check_options(kind: str) -> None:
    values = role_vars(kind, warm_retries=7, warm_delay=0.5, check_timeout=3.0)
    assert check_options(kind, values, False) == {"retries": 7, "retry_delay": 0.5, "timeout": 3.0}
    assert check_options(kind, values, True) == {"retries": 0, "retry_delay": 0.5, "timeout": 3.0}


@pytest.mark.parametrize("kind", KINDS)
def test_check_options_defaults(kind: str) -> None:
    defaults = role_vars(kind)
    assert check_options(kind, defaults, False) == {
        "retries": defaults[f"{kind}_stapling_warm_retries"], "retry_delay": 1.0, "timeout": 10.0}
