# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings each server role works with, settled from the role's variables and the host's OS family.

One source for the roles (through the ``server_settings`` filter) and for the modules that
audit a host on the host itself. ``role_vars`` holds the role's variables by their full names
(``nginx_stapling_scope``, ...): the role's defaults merged with the user's values.

- ``server_settings``: the dict the plan (stapling_plan.py and its adapters), the check
  (the discovery modules' ``check`` option) and the role's tasks read as ``__<kind>_stapling_settings``.
- ``discovery_options``: the options of ``tlsops.ocsp.<kind>_config_info`` (without ``check``).
- ``check_options``: the warm-up and timeout of the check.

``server_settings`` carries both (``discovery``, ``check``) and what the shared phases run (``validate``,
``environment``, ``lock``): the one mapping from role variables to module options; the roles pass the settled
settings as one value.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping

DEFAULT_FAMILY = "Debian"  # OS families without a table of their own use Debian's
# how messages name each kind of server
LABELS = {"nginx": "nginx", "apache": "Apache", "haproxy": "HAProxy"}
# a validation warning the role's change causes where discovery saw none (nginx warns where stapling cannot apply)
VALIDATION_WARNINGS = {"nginx": '"ssl_stapling" ignored'}

# The OS family's paths, used where the role's path variables are empty.
OS_TABLES: Dict[str, Dict[str, Dict[str, Any]]] = {
    "nginx": {
        # nginx as Debian and Ubuntu package it
        "Debian": {
            "binary": "/usr/sbin/nginx",
            "config_file": "/etc/nginx/nginx.conf",
            "dropin_dir": "/etc/nginx/conf.d",
            "snippet_dir": "/etc/nginx/tlsops-ocsp",
            "ca_file": "/etc/ssl/certs/ca-certificates.crt",
        },
        # nginx as RHEL and its rebuilds package it
        "RedHat": {
            "binary": "/usr/sbin/nginx",
            "config_file": "/etc/nginx/nginx.conf",
            "dropin_dir": "/etc/nginx/conf.d",
            "snippet_dir": "/etc/nginx/tlsops-ocsp",
            "ca_file": "/etc/pki/tls/certs/ca-bundle.crt",
        },
    },
    # Apache's directories below are relative to config_dir; an empty enabled_dir: the family enables no conf files
    "apache": {
        # Apache as Debian and Ubuntu package it
        "Debian": {
            "config_dir": "/etc/apache2",
            "ctl": "apache2ctl",
            "dropin_dir": "conf-available",
            "enabled_dir": "conf-enabled",
            "module_method": "a2enmod",
            "modules_dir": "mods-enabled",
            "service_name": "apache2",
        },
        # Apache as RHEL and its rebuilds package it
        "RedHat": {
            "config_dir": "/etc/httpd",
            "ctl": "apachectl",
            "dropin_dir": "conf.d",
            "enabled_dir": "",
            "module_method": "loadmodule",
            "modules_dir": "conf.modules.d",
            "service_name": "httpd",
        },
    },
    "haproxy": {
        # HAProxy's program and configuration on Debian and Ubuntu
        "Debian": {"binary": "/usr/sbin/haproxy", "config_files": ["/etc/haproxy/haproxy.cfg"]},
        # HAProxy's program and configuration on RHEL and its rebuilds
        "RedHat": {"binary": "/usr/sbin/haproxy", "config_files": ["/etc/haproxy/haproxy.cfg"]},
    },
}


def _known(kind: str) -> Dict[str, Dict[str, Any]]:
    """This kind's OS tables; ValueError for a kind without a server role here."""
    if kind not in OS_TABLES:
        raise ValueError(f"unknown server kind {kind!r}; expected one of {', '.join(sorted(OS_TABLES))}")
    return OS_TABLES[kind]


def os_table(kind: str, os_family: str) -> Dict[str, Any]:
    """The OS family's paths for this kind of server (Debian's for a family without a table)."""
    tables = _known(kind)
    return dict(tables.get(os_family, tables[DEFAULT_FAMILY]))


def _common(prefix: str, role_vars: Mapping[str, Any], audit: bool) -> Dict[str, Any]:
    """What every role's plan reads the same way."""
    return {
        "state": role_vars[f"{prefix}state"],
        "audit": audit,
        "selected": role_vars[f"{prefix}certificates"],
        # the modes of the files and directories the role writes
        "file_mode": role_vars.get(f"{prefix}file_mode", "0644"),
        "directory_mode": role_vars.get(f"{prefix}directory_mode", "0755"),
    }


def _validate_command(kind: str, settings: Mapping[str, Any]) -> List[str]:
    """The server's own check of its whole configuration."""
    if kind == "nginx":
        return list(settings["command"]) + ["-t"]
    if kind == "apache":
        return [settings["ctl"], "configtest"]
    return [settings["binary"], "-c"] + [word for path in settings["config_files"] for word in ("-f", path)]


def _lock(kind: str, role_vars: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    """The lock runs that overlap take on this server's configuration: one per configuration file."""
    main = {"nginx": "config_file", "apache": "config_dir"}.get(kind)
    where = settings[main] if main else settings["config_files"][0]
    return {"name": f"{kind}-{where}", "wait": int(role_vars.get(f"{kind}_stapling_lock_wait", 600))}


def _nginx(role_vars: Mapping[str, Any], paths: Mapping[str, Any], service_mgr: str) -> Dict[str, Any]:
    binary = role_vars["nginx_stapling_binary"] or paths["binary"]
    config_file = role_vars["nginx_stapling_config_file"] or paths["config_file"]
    snippet_dir = role_vars["nginx_stapling_snippet_dir"] or paths["snippet_dir"]
    prefix = role_vars["nginx_stapling_prefix"]
    return {
        "scope": role_vars["nginx_stapling_scope"],
        "manage_includes": role_vars["nginx_stapling_manage_includes"],
        "verify": role_vars["nginx_stapling_verify"],
        "resolvers": role_vars["nginx_stapling_resolvers"],
        "resolver_timeout": role_vars["nginx_stapling_resolver_timeout"],
        "binary": binary,
        "config_file": config_file,
        "command": [binary] + (["-p", prefix] if prefix else []) + list(role_vars["nginx_stapling_extra_args"])
        + ["-c", config_file],
        "dropin_path": f"{role_vars['nginx_stapling_dropin_dir'] or paths['dropin_dir']}/tlsops-ocsp-stapling.conf",
        "snippet_path": f"{snippet_dir}/stapling-server.conf",
        "bundle_path": f"{snippet_dir}/trusted-chain.pem",
        # a glob: an author's own copy of this line works before the role ever wrote the file
        "include_line": f"include {snippet_dir}/stapling-server*.conf;",
        "ca_file": role_vars["nginx_stapling_ca_file"] or paths["ca_file"],
        "reload_method": role_vars["nginx_stapling_reload_method"],
        "service_mgr": service_mgr,
        # the service manager only knows the packaged instance
        "private": bool(prefix) or config_file != paths["config_file"],
    }


def _apache_config_dir(role_vars: Mapping[str, Any], paths: Mapping[str, Any]) -> str:
    """Debian's apache2ctl and a2enmod take the configuration directory from APACHE_CONFDIR."""
    environment = role_vars["apache_stapling_environment"] or {}
    return role_vars["apache_stapling_config_dir"] or environment.get("APACHE_CONFDIR") or paths["config_dir"]


def _apache_directives(role_vars: Mapping[str, Any]) -> Dict[str, Any]:
    """The server-level stapling directives; an empty value: the role leaves the directive out."""
    def on_off(name: str) -> str:
        return "on" if role_vars[name] else "off"
    return {
        "SSLStaplingCache":
            f'"shmcb:{role_vars["apache_stapling_cache_file"]}({role_vars["apache_stapling_cache_size"]})"',
        "SSLStaplingResponderTimeout": role_vars["apache_stapling_responder_timeout"],
        "SSLStaplingReturnResponderErrors": on_off("apache_stapling_return_responder_errors"),
        "SSLStaplingFakeTryLater": on_off("apache_stapling_fake_try_later"),
        "SSLStaplingStandardCacheTimeout": role_vars["apache_stapling_standard_cache_timeout"] or "",
        "SSLStaplingErrorCacheTimeout": role_vars["apache_stapling_error_cache_timeout"] or "",
        "SSLStaplingForceURL": role_vars["apache_stapling_force_url"],
    }


def _apache(role_vars: Mapping[str, Any], paths: Mapping[str, Any], service_mgr: str) -> Dict[str, Any]:
    config_dir = _apache_config_dir(role_vars, paths)
    enabled_dir = role_vars["apache_stapling_enabled_dir"] or (
        f"{config_dir}/{paths['enabled_dir']}" if paths["enabled_dir"] else "")
    dropin_dir = role_vars["apache_stapling_dropin_dir"] or f"{config_dir}/{paths['dropin_dir']}"
    modules_dir = role_vars["apache_stapling_modules_dir"] or f"{config_dir}/{paths['modules_dir']}"
    return {
        "scope": role_vars["apache_stapling_scope"],
        "manage_includes": role_vars["apache_stapling_manage_includes"],
        "config_dir": config_dir,
        "ctl": role_vars["apache_stapling_ctl"] or paths["ctl"],
        "module_method": role_vars["apache_stapling_module_method"] or paths["module_method"],
        "dropin_path": f"{dropin_dir}/tlsops-ocsp-stapling.conf",
        "enabled_path": f"{enabled_dir}/tlsops-ocsp-stapling.conf" if enabled_dir else "",
        "modules_path": f"{modules_dir}/00-tlsops-ocsp-stapling.conf",
        "snippet_path": f"{config_dir}/tlsops-ocsp-stapling-vhost.conf",
        "state_path": f"{config_dir}/tlsops-ocsp-stapling.json",
        "issuers_path": f"{config_dir}/tlsops-ocsp-issuers.pem",
        # IncludeOptional: an author's own copy of this line works before the role ever wrote the file
        "include_line": f"IncludeOptional {config_dir}/tlsops-ocsp-stapling-vhost.conf",
        "check_host": role_vars["apache_stapling_check_host"],
        "server_settings": _apache_directives(role_vars),
        "service_name": role_vars["apache_stapling_service_name"] or paths["service_name"],
        "reload_method": role_vars["apache_stapling_reload_method"],
        "service_mgr": service_mgr,
        # the service manager only knows the system instance
        "private": "APACHE_CONFDIR" in (role_vars["apache_stapling_environment"] or {})
        or config_dir != paths["config_dir"],
    }


def _haproxy(role_vars: Mapping[str, Any], paths: Mapping[str, Any], service_mgr: str) -> Dict[str, Any]:
    config_files: List[str] = list(role_vars["haproxy_stapling_config_files"] or paths["config_files"])
    return {
        # HAProxy has no include lines: the role configures each certificate (its .ocsp file or crt-list line)
        "scope": "certificate",
        "manage_includes": True,
        "binary": role_vars["haproxy_stapling_binary"] or paths["binary"],
        "config_files": config_files,
        "pid_file": role_vars["haproxy_stapling_pid_file"],
        "service_name": role_vars["haproxy_stapling_service_name"],
        "reload_method": role_vars["haproxy_stapling_reload_method"],
        "service_mgr": service_mgr,
        "private": config_files != paths["config_files"],
        "check_host": role_vars["haproxy_stapling_check_host"],
        "socket_path": role_vars["haproxy_stapling_socket_path"],
        "refresher": role_vars["haproxy_stapling_refresher"],
        "updater": role_vars["haproxy_stapling_updater"],
        "library_dir": role_vars["haproxy_stapling_refresher_dir"],
        "log_file": role_vars["haproxy_stapling_log_file"],
        "renew_before": int(role_vars["haproxy_stapling_renew_before"]),
        "file_mode": role_vars["haproxy_stapling_file_mode"],
        "timeout": float(role_vars["haproxy_stapling_fetch_timeout"]),
    }


BUILDERS: Dict[str, Callable[[Mapping[str, Any], Mapping[str, Any], str], Dict[str, Any]]] = {
    "nginx": _nginx,
    "apache": _apache,
    "haproxy": _haproxy,
}


def server_settings(kind: str, role_vars: Mapping[str, Any], os_family: str, service_mgr: str,
                    audit: bool, check_mode: bool = False) -> Dict[str, Any]:
    """The settings the shared phases hold as ``__stapling_phases_settings``: paths, commands, the plan's
    settings, the discovery module's options (``discovery``), the check's (``check``), the validation command
    (``validate``), the environment the server's commands need (``environment``) and the ``lock``."""
    paths = os_table(kind, os_family)
    settings = dict(_common(f"{kind}_stapling_", role_vars, audit), **BUILDERS[kind](role_vars, paths, service_mgr))
    settings.update(
        discovery=discovery_options(kind, role_vars, settings),
        check=check_options(kind, role_vars, check_mode),
        label=LABELS[kind],
        validate=_validate_command(kind, settings),
        validate_warning=VALIDATION_WARNINGS.get(kind, ""),
        environment=dict(role_vars.get(f"{kind}_stapling_environment") or {}),
        lock=_lock(kind, role_vars, settings),
    )
    return settings


def discovery_options(kind: str, role_vars: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    """The options of ``tlsops.ocsp.<kind>_config_info`` the role passes, without ``check``.

    Apache's discovery also runs with ``apache_stapling_environment`` as its environment (not an option).
    """
    _known(kind)
    if kind == "nginx":
        options = {
            "binary": settings["binary"],
            "prefix": role_vars["nginx_stapling_prefix"],
            "extra_args": role_vars["nginx_stapling_extra_args"],
            "config_file": settings["config_file"],
            "check_host": role_vars["nginx_stapling_check_host"],
            "check_host_v6": role_vars["nginx_stapling_check_host_v6"],
            "dropin_path": settings["dropin_path"],
            "marker_line": settings["include_line"],
        }
        if not role_vars["nginx_stapling_resolvers"]:  # given resolvers: nginx needs no resolv.conf
            options["resolv_conf"] = role_vars["nginx_stapling_resolv_conf"]
    elif kind == "apache":
        options = {key: settings[key] for key in ("ctl", "include_line", "state_path", "config_dir")}
    else:
        options = {key: settings[key] for key in ("binary", "config_files", "pid_file")}
        # auto: HAProxy's own updater where it staples, the refresher where it does not (tried at each discovery)
        options.update(updater_trial=settings["updater"] == "auto", trial_timeout=settings["timeout"])
    return dict(options, inspect=True)


def check_options(kind: str, role_vars: Mapping[str, Any], check_mode: bool) -> Dict[str, Any]:
    """The warm-up and timeout of the audit's ``check`` option; in check mode nothing is warmed up."""
    _known(kind)
    prefix = f"{kind}_stapling_"
    return {
        "retries": 0 if check_mode else role_vars[f"{prefix}warm_retries"],
        "retry_delay": role_vars[f"{prefix}warm_delay"],
        "timeout": role_vars[f"{prefix}check_timeout"],
    }
