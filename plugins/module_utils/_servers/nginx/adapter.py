# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nginx adapter of the stapling plan (see stapling_plan.py for the interface).

Sites are http ``server`` blocks serving TLS; the global level is ``http``. The role
writes its directives into one file: a drop-in read at http level (scope ``http``) or
a snippet that the server blocks include (scope ``server``), plus the issuers nginx
needs to verify the responses (``trusted-chain.pem``). nginx always reloads.

nginx's own reload method is ``signal`` (``nginx -s reload``).

Extra settings: ``dropin_path``, ``snippet_path`` (its directory is the role's),
``bundle_path``, ``verify`` (bool),
``resolvers`` (list; empty: the host's, from discovery), ``resolver_timeout``.
Discovery's ``responder_override`` (the URL that answers where the certificates' first is dead) becomes the
role's ``ssl_stapling_responder``.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import server_processes
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import stapling_plan as common
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx.config import INIT_SCRIPT
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.stapling_plan import GLOBAL, NONE, ROLE, SITE, USER, Model, Plan, Site

STAPLING = "ssl_stapling"  # the directive that turns stapling on or off
VOCABULARY = common.Vocabulary(prefix="nginx_stapling", global_scope="http", site_scope="server",
                               global_trouble='make nginx warn "ssl_stapling" ignored')


def include_argument(line: str) -> str:
    """`include /etc/nginx/tlsops-ocsp/stapling-server*.conf;` -> the path pattern."""
    words = line.strip().rstrip(";").split()
    return words[1] if len(words) > 1 else ""


def _role_files(settings: Mapping[str, Any]) -> List[str]:
    return [settings["dropin_path"], settings["snippet_path"]]


def model(discovery: Mapping[str, Any], certificates: List[Mapping[str, Any]],
          settings: Mapping[str, Any]) -> Model:
    role_files = _role_files(settings)
    pattern = include_argument(settings["include_line"])
    sites = [
        Site(file=server["file"], line=server["block_line"], endpoints=server["endpoints"],
             certificates=server["certificates"],
             stapling=common.last_found(server["stapling_directives"], STAPLING, role_files),
             include_present=pattern in server["includes"],
             can_include=server["block_line"] != server["block_end_line"],
             extra={"server_names": server["server_names"]})
        for server in discovery.get("servers", []) if server["ssl"]]
    return Model(sites=sites, certificates=certificates,
                 global_stapling=common.last_found(discovery.get("http_stapling_directives", []), STAPLING, role_files))


def _user_http_names(discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> List[str]:
    role_files = _role_files(settings)
    return [item["name"] for item in discovery.get("http_stapling_directives", [])
            if common.origin(item["file"], role_files) == USER]


def directives(scope: str, discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> List[str]:
    """The role's lines; none the user already set at http level where they would be duplicates."""
    resolvers = settings.get("resolvers") or discovery.get("resolvers", [])
    lines = {
        "ssl_stapling": "ssl_stapling on;",
        "ssl_stapling_verify": f"ssl_stapling_verify {'on' if common.flag(settings['verify']) else 'off'};",
        "ssl_trusted_certificate": f"ssl_trusted_certificate {settings['bundle_path']};",
    }
    if resolvers:
        lines["resolver"] = f"resolver {' '.join(resolvers)};"
        lines["resolver_timeout"] = f"resolver_timeout {settings['resolver_timeout']};"
    override = discovery.get("responder_override")
    if override:  # the certificates' first OCSP URL is dead; every certificate names this one (responder_choice)
        lines["ssl_stapling_responder"] = f"ssl_stapling_responder {override['url']};"
    user_http = set(_user_http_names(discovery, settings))
    # a user's http-level resolver serves every server too: a server-level copy would only shadow it
    omitted = ({"resolver", "resolver_timeout"} if "resolver" in user_http else set()) | (
        user_http if scope == GLOBAL else set())
    return [line for name, line in lines.items() if name not in omitted]


def _content(scope: str, discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    where = "at http level, for every server" if scope == GLOBAL else "for the server blocks that include this file"
    return "\n".join([f"# Managed by tlsops.ocsp.nginx_stapling: OCSP stapling {where}.",
                      "# nginx_stapling_state: absent removes this file.",
                      *directives(scope, discovery, settings)]) + "\n"


def finish(plan: Plan, model: Model, discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    errors = []
    if plan.scope == GLOBAL and not discovery.get("dropin_included", True):
        errors.append(f"{settings['dropin_path']} is not included at http level by {discovery.get('main_file')}; "
                      "set nginx_stapling_dropin_dir to a directory nginx includes inside http (such as "
                      "conf.d), or use nginx_stapling_scope server")
    path = {GLOBAL: settings["dropin_path"], SITE: settings["snippet_path"]}.get(plan.scope)
    files = [{"path": path, "content": _content(plan.scope, discovery, settings)}] if path else []
    owned = [settings["dropin_path"], settings["snippet_path"], settings["bundle_path"]]
    # every server the role's lines may reach (an author's own include line too)
    chains = sorted({certificate for site in plan.sites if site["stapling_applicable"]
                     and site["configured_by"] != USER for certificate in site["certificates"]})
    bundle = {"path": settings["bundle_path"], "chain_paths": chains} if plan.scope != NONE else None
    directory = os.path.dirname(settings["snippet_path"])
    return dict(
        common.edits(plan, owned + [directory], list(discovery.get("files_with_marker", [])), settings),
        errors=errors,
        files=files,
        bundle=bundle,
        absent=[item for item in owned if item != path and not (bundle and item == bundle["path"])],
        # the role's directory goes when the role's last file went and nothing else is in it
        directory={"path": directory, "state": "directory" if plan.scope != NONE else "absent"},
        reload="reload",
        # nginx waits minutes after a failed fetch before it asks again: a reload makes it ask now
        refetch="reload",
        reload_method=common.reload_method(settings, "signal", discovery),
    )


def _effective(names: List[str], server: Mapping[str, Any], discovery: Mapping[str, Any]) -> Dict[str, List[str]]:
    """The arguments of each stapling directive that reaches the server block: its own, else the http level's."""
    found: Dict[str, List[str]] = {}
    for level in (discovery.get("http_stapling_directives", []), server.get("stapling_directives", [])):
        for item in level:
            if item["name"] in names:
                found[item["name"]] = item["args"]
    return found


def diagnosis_hint(site: Mapping[str, Any], discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    """What nginx uses when it fetches for this server block: its trusted file, responder override, whether it
    verifies, and its error logs. Where the role staples the block, the role's lines."""
    server = next((item for item in discovery.get("servers", [])
                   if item["file"] == site["file"] and item["block_line"] == site["line"]), {})
    found = _effective(["ssl_trusted_certificate", "ssl_stapling_responder", "ssl_stapling_verify"], server, discovery)
    hint = {
        "kind": "nginx",
        "trusted_certificate": (found.get("ssl_trusted_certificate") or [None])[0],
        "responder": (found.get("ssl_stapling_responder") or [None])[0],
        "verify": (found.get("ssl_stapling_verify") or ["off"])[0] == "on",
        "override_directive": "ssl_stapling_responder",
        "error_logs": list(discovery.get("error_logs", [])),
        # the running nginx must be younger than the role's files (a reload without effect is a cause)
        "role_files": [settings["dropin_path"], settings["snippet_path"], settings["bundle_path"]],
        "restart": server_processes.restart_command(discovery.get("process"), settings.get("service_name") or "nginx",
                                                    INIT_SCRIPT),
    }
    if site["configured_by"] == ROLE:
        hint.update(trusted_certificate=settings["bundle_path"], verify=common.flag(settings["verify"]),
                    responder=(discovery.get("responder_override") or {}).get("url") or hint["responder"])
    return hint
