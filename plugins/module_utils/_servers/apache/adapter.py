# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Apache httpd adapter of the stapling plan (see stapling_plan.py for the interface).

Sites are ``<VirtualHost>`` blocks with a certificate; the global level is the server
config. The role writes a drop-in in server context (``SSLStaplingCache`` and the
other settings, plus ``SSLUseStapling on`` in scope ``global``), a snippet the
virtual hosts include (scope ``vhost``), and enables ``ssl`` and ``socache_shmcb``
where they are not loaded. Changing or removing the role's ``SSLStaplingCache``
takes a full restart (a graceful one exits); everything else a graceful reload.

Apache's own reload method is ``command`` (its control command: graceful, or stop and start).

Extra settings: ``dropin_path``, ``enabled_path`` ('' without a conf-enabled link),
``snippet_path``, ``modules_path``, ``state_path``, ``issuers_path`` (the issuers the role
gives mod_ssl), ``module_method`` (a2enmod | loadmodule), ``config_dir``, ``check_host``, ``server_settings`` (name -> value of the
SSLStapling* directives the role writes in server context; empty values are left out).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache.config import (
    CA_STORE_DIRECTIVES,
    INIT_SCRIPT,
    is_tls,
)
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import server_processes
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import stapling_plan as common
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.stapling_plan import GLOBAL, NONE, ROLE, SITE, USER, Model, Plan, Site

STAPLING = "sslusestapling"  # the directive that turns stapling on or off
VOCABULARY = common.Vocabulary(prefix="apache_stapling", global_scope="global", site_scope="vhost",
                               global_trouble="make Apache log AH02218")
NEEDED_MODULES = ("ssl", "socache_shmcb")
CACHE = "SSLStaplingCache"
CA_STORE = "SSLCACertificateFile"
FORCE_URL = "SSLStaplingForceURL"


def _override(discovery: Mapping[str, Any]) -> str:
    """The URL that answers where the certificates' first OCSP URL is dead (responder_choice), or ''."""
    return (discovery.get("responder_override") or {}).get("url") or ""


def _role_files(settings: Mapping[str, Any]) -> List[str]:
    return [path for path in (settings["dropin_path"], settings["enabled_path"], settings["snippet_path"]) if path]


def _site(vhost: Mapping[str, Any], check_host: str) -> Site:
    endpoints = [{"host": vhost["host"] or check_host, "port": vhost["port"], "server_name": vhost["server_name"] or None}
                 ] if vhost["port"] else []
    return Site(file=vhost["path"], line=vhost["line"], endpoints=endpoints, certificates=[vhost["certificate_file"]],
                stapling=common.last_found(vhost["stapling_directives"], STAPLING, []),
                include_present=vhost["include_present"], extra={"addresses": vhost["addresses"]})


def model(discovery: Mapping[str, Any], certificates: List[Mapping[str, Any]],
          settings: Mapping[str, Any]) -> Model:
    return Model(sites=[_site(vhost, settings["check_host"]) for vhost in discovery.get("vhosts", []) if is_tls(vhost)],
                 certificates=certificates,
                 global_stapling=common.last_found(discovery.get("server_directives", []), STAPLING, _role_files(settings)))


def _server_level(discovery: Mapping[str, Any], settings: Mapping[str, Any], who: str) -> List[Mapping[str, Any]]:
    role_files = _role_files(settings)
    return [item for item in discovery.get("server_directives", []) if common.origin(item["file"], role_files) == who]


def server_lines(scope: str, discovery: Mapping[str, Any], settings: Mapping[str, Any],
                 issuers: bool = False) -> List[str]:
    """The drop-in's directives (the issuers file as the CA store where the role gives Apache issuers); none the
    user already set in server context (theirs stay as written)."""
    user = {item["name"] for item in _server_level(discovery, settings, USER)}
    wanted = dict(settings["server_settings"], **({"SSLUseStapling": "on"} if scope == GLOBAL else {}),
                  **({CA_STORE: settings["issuers_path"]} if issuers else {}))
    wanted[FORCE_URL] = wanted.get(FORCE_URL) or _override(discovery)
    return [f"{name} {value}" for name, value in wanted.items()
            if value not in ("", None) and name.lower() not in user]


def _cache(lines: List[str]) -> Optional[str]:
    return next((line for line in lines if line.startswith(CACHE + " ")), None)


def needs_restart(wanted: List[str], discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> bool:
    """mod_ssl keeps its stapling cache across graceful restarts: changing or removing the role's exits."""
    current = [item for item in _server_level(discovery, settings, ROLE) if item["name"] == CACHE.lower()]
    if not current:
        return False
    return f"{CACHE} {' '.join(current[-1]['args'])}" != (_cache(wanted) or "").replace('"', "")


def modules(scope: str, discovery: Mapping[str, Any]) -> Dict[str, List[str]]:
    """What to enable now, what the role's record holds afterwards, what to disable."""
    loaded = {name[:-len("_module")] for name in discovery.get("loaded_modules", [])}
    recorded = list(discovery.get("recorded_modules", []))
    if scope == NONE:
        return {"enable": [], "recorded": [], "disable": recorded}
    missing = [name for name in NEEDED_MODULES if name not in loaded]
    return {"enable": missing, "recorded": recorded + [name for name in missing if name not in recorded],
            "disable": []}


def issuers_for_role(plan: Plan, discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> List[str]:
    """The issuers (PEM) mod_ssl cannot find for the virtual hosts the role staples, found on the host or at the
    CA Issuers URL by discovery (`issuers`), for a server-level CA store they inherit.

    None where that store would change more than stapling: the user has a server-level CA store of their own,
    or a virtual host verifies clients without one of its own (it would trust these issuers for client
    certificates). A virtual host with its own store does not inherit it: its issuer is left to the cause.
    """
    vhosts = discovery.get("vhosts", [])
    if plan.scope == NONE or any(item["name"] in CA_STORE_DIRECTIVES for item in _server_level(discovery, settings, USER)):
        return []
    if any(vhost.get("verify_client", "none") != "none" and not vhost.get("own_ca") for vhost in vhosts):
        return []
    own_ca = {(vhost["path"], vhost["line"]) for vhost in vhosts if vhost.get("own_ca")}
    found = discovery.get("issuers", {})
    pems = {(found.get(certificate) or {}).get("pem") for site in plan.sites
            if site["stapling_applicable"] and site["configured_by"] != USER and (site["file"], site["line"]) not in own_ca
            for certificate in site["certificates"]}
    return sorted(pem for pem in pems if pem)


def _errors(discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> List[str]:
    if not discovery.get("config_ok", True):
        return [f"the configuration test fails before the role changed anything, so nothing was changed; fix this "
                f"first: {discovery.get('config_messages', '')}"]
    if not discovery.get("server_root_matches", True):
        return [f"Apache's ServerRoot is {discovery.get('server_root')}, but the role would write into "
                f"{settings['config_dir']}; set apache_stapling_config_dir (or APACHE_CONFDIR in "
                "apache_stapling_environment) to the directory of the instance you mean"]
    return []


def _header(text: str) -> List[str]:
    return [f"# Managed by tlsops.ocsp.apache_stapling: {text}", "# apache_stapling_state: absent removes this file."]


def _contents(scope: str, lines: List[str], recorded: List[str], issuers: List[str],
              settings: Mapping[str, Any]) -> Dict[str, Any]:
    """Each file the role owns -> its lines, or None where it must not exist."""
    where = ("OCSP stapling for every TLS virtual host." if scope == GLOBAL else
             f"OCSP stapling settings; the virtual hosts that staple include {settings['snippet_path']}.")
    load = settings["module_method"] == "loadmodule" and recorded
    return {
        settings["dropin_path"]: _header(where) + lines if scope != NONE else None,
        settings["snippet_path"]: (_header("included by one marked line in each virtual host that staples.")
                                   + ["SSLUseStapling on"]) if scope == SITE else None,
        settings["modules_path"]: (_header("modules OCSP stapling needs that were not loaded before.")
                                   + [f"LoadModule {name}_module modules/mod_{name}.so" for name in recorded])
        if load else None,
        settings["state_path"]: [json.dumps({"modules": recorded}, indent=4)] if recorded else None,
        settings["issuers_path"]: (_header("the issuers mod_ssl needs to staple for virtual hosts whose "
                                           "certificate file lacks them (SSLCACertificateFile in the drop-in).")
                                   + [pem.strip() for pem in issuers]) if issuers else None,
    }


def enabled_module_paths(names: List[str], settings: Mapping[str, Any]) -> List[str]:
    """What a2enmod creates for `names`: the links in mods-enabled and its markers in Apache's state directory
    (in the snapshot, so that a configuration Apache rejects is undone with them)."""
    state_dir = (settings.get("environment") or {}).get("APACHE_STATE_DIRECTORY") or "/var/lib/apache2"
    links = [f"{settings['config_dir']}/mods-enabled/{name}.{ext}" for name in names for ext in ("load", "conf")]
    return links + [f"{state_dir}/module/enabled_by_admin/{name}" for name in names]


def finish(plan: Plan, model: Model, discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    issuers = issuers_for_role(plan, discovery, settings)
    lines = server_lines(plan.scope, discovery, settings, bool(issuers)) if plan.scope != NONE else []
    wanted = modules(plan.scope, discovery)
    a2enmod = wanted if settings["module_method"] == "a2enmod" else {"enable": [], "disable": [], "recorded": []}
    contents = _contents(plan.scope, lines, wanted["recorded"], issuers, settings)
    enabled = settings["enabled_path"]
    link = {"path": enabled, "state": "link" if plan.scope != NONE else "absent",
            "src": os.path.relpath(settings["dropin_path"], os.path.dirname(enabled))} if enabled else None
    owned = list(contents) + ([enabled] if enabled else []) + enabled_module_paths(a2enmod["enable"], settings)
    return dict(
        common.edits(plan, owned, list(discovery.get("files_with_include", [])), settings),
        errors=_errors(discovery, settings),
        files=[{"path": path, "content": "\n".join(text) + "\n"} for path, text in contents.items() if text],
        absent=[path for path, text in contents.items() if not text],
        link=link,
        modules=a2enmod,
        reload="restart" if needs_restart(lines, discovery, settings) else "reload",
        # mod_ssl keeps a failed fetch in its cache across graceful restarts: a fresh fetch takes a restart
        refetch="restart",
        reload_method=common.reload_method(settings, "command", discovery),
    )


def diagnosis_hint(site: Mapping[str, Any], discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    """What mod_ssl uses when it fetches: the issuer from the served chain (the certificate file, its chain file)
    or its CA store, SSLStaplingForceURL where set (the role's when it staples, else the user's), no
    verification of its own, and the main error log."""
    server = discovery.get("server_directives", [])
    forced = [item["args"][0] for item in server if item["name"] == FORCE_URL.lower() and item["args"]]
    role_url = settings.get("server_settings", {}).get(FORCE_URL) or _override(discovery)
    if site["configured_by"] == ROLE and role_url and not forced:  # a server-level one of the user's wins
        forced.append(role_url)
    vhost = next((item for item in discovery.get("vhosts", [])
                  if item["path"] == site["file"] and item["line"] == site["line"]), {})
    server_stores = [item["args"][0] for item in server if item["name"] == "sslcacertificatefile" and item["args"]]
    stores = [] if vhost.get("own_ca") else server_stores
    return {"kind": "apache", "responder": forced[-1] if forced else None, "verify": False,
            "override_directive": "SSLStaplingForceURL", "error_logs": list(discovery.get("error_logs", [])),
            "issuer_files": [path for path in [vhost.get("chain_file")] + (stores or [settings["issuers_path"]])
                             if path],
            # the running Apache must be younger than the role's files (a reload without effect is a cause)
            "role_files": [path for path in (settings["dropin_path"], settings["snippet_path"],
                                             settings["issuers_path"]) if path],
            "restart": server_processes.restart_command(discovery.get("process"),
                                                        settings.get("service_name") or "apache2", INIT_SCRIPT)}
