# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HAProxy adapter of the stapling plan (see stapling_plan.py for the interface).

Sites are the certificate files a ``bind ... ssl`` serves (``crt`` files and
directories, crt-list entries), each with its endpoint (the bind's address; SNI
from the crt-list filter or the certificate's first DNS name). A crt-list
``[ocsp-update on|off]`` is the user's directive for its certificate, the
global ``ocsp-update.mode`` (3.x) the user's directive at the global level; a
``<crt>.ocsp`` beside a certificate is the role's. HAProxy has no include lines
(the role's scope is always ``certificate``); what it decides besides the
shared plan:

- how responses get fetched: HAProxy < 2.8 staples ``<crt>.ocsp`` files that the
  role and its refresher keep fresh (mode ``refresher``); 2.8 and 2.9 fetch by
  themselves for crt-list entries with ``[ocsp-update on]`` (mode ``native``; a
  certificate named by ``crt`` on a bind line stays with the refresher); 3.x
  turns the updater on for every certificate with the global
  ``ocsp-update.mode on``;
- the admin-level stats socket the refresher pushes through: the
  configuration's own, else one in the role's stanza of the global section;
- the refresher: systemd timer or cron entry, its settings, the engine modules it imports.

The reload is read from the running process (process.py): the service manager for the instance systemd
runs (its unit), SIGUSR2 to the master in master-worker mode, else a soft reload (a new process with -sf, from
the process's own command line); none when nothing runs. Each endpoint carries the ``diagnosis`` hint that
lets the check tell a reload that did not take effect (diagnosis.py).

Extra settings: ``binary``, ``config_files``, ``pid_file``, ``check_host``, ``socket_path``, ``refresher`` (auto | systemd | cron),
``library_dir``, ``renew_before``, ``file_mode``, ``timeout``.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import stapling_plan as common
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import process as haproxy_process
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy.config import (
    CRT_LIST_OCSP_UPDATE, parse_crt_list, resolve,
)
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.stapling_plan import ROLE, USER, Found, Model, Plan, Site

VOCABULARY = common.Vocabulary(prefix="haproxy_stapling", global_scope="global", site_scope="certificate",
                               global_trouble="have HAProxy's updater ask for a certificate without OCSP URL")
NATIVE_SINCE = (2, 8)
GLOBAL_MODE_SINCE = (3, 0)
OCSP_UPDATE_ON = "%s on" % CRT_LIST_OCSP_UPDATE
WILDCARD_LABEL = "www"
# The engine modules the refresher imports on the host (copied, never rewritten).
ENGINE_MODULES = ["_engine/compat.py", "_engine/names.py", "_engine/verdicts.py", "_engine/certificates.py",
                  "_engine/ocsp.py", "_servers/haproxy/runtime.py", "_servers/haproxy/refresh.py"]


def version_tuple(version: Any) -> Tuple[int, int]:
    """(major, minor) from "2.6", "2.6.12-1+deb12u4" or a [major, minor] list."""
    if isinstance(version, (list, tuple)):
        return int(version[0]), int(version[1])
    major, minor = str(version).split("-", maxsplit=1)[0].split(".")[:2]
    return int(major), int(minor)


def endpoint_address(addresses: List[str], check_host: str) -> Optional[Tuple[str, int]]:
    """(host, port) to connect to for a bind's first TCP address; wildcard hosts become `check_host`."""
    for address in addresses:
        if address.startswith(("unix@", "abns@", "fd@", "sockpair@", "/")):
            continue
        address = address.split("@", 1)[-1]
        host, _colon, port = address.rpartition(":")
        if not port.split("-")[0].isdigit():
            continue
        host = host.strip("[]")
        if host in ("", "*", "0.0.0.0", "::"):
            host = check_host
        return host, int(port.split("-")[0])
    return None


def server_name(entry: Mapping[str, Any], facts: Optional[Mapping[str, Any]]) -> Optional[str]:
    """The SNI to ask with: the crt-list's first positive filter, else the certificate's first DNS name."""
    names = [name for name in entry.get("sni_filters", []) if not name.startswith("!")]
    if not names and facts:
        names = [name[len("DNS:"):] for name in facts.get("subject_alt_names", []) if name.startswith("DNS:")]
    if not names:
        return None
    name = names[0]
    return WILDCARD_LABEL + name[1:] if name.startswith("*.") else name


def render_crt_list(text: str, source: str, enable: List[str], crt_base: Optional[str]) -> str:
    """The crt-list with `[ocsp-update on]` on each line whose certificate is in `enable`.

    Lines that already say `ocsp-update` (on or off: the user's choice) are kept as they are.
    """
    entries = {entry["line"]: entry for entry in parse_crt_list(text, source)}
    lines = text.splitlines(True)
    for number, entry in entries.items():
        if entry["ocsp_update"] is not None or resolve(entry["crt"], crt_base) not in enable:
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        if "[" in body:
            head, _bracket, rest = body.partition("[")
            lines[number - 1] = "%s[%s %s%s" % (head, OCSP_UPDATE_ON, rest.lstrip(), ending)
        else:
            crt_word, _space, rest = body.strip().partition(" ")
            indent = body[:len(body) - len(body.lstrip())]
            tail = " " + rest.strip() if rest.strip() else ""
            lines[number - 1] = "%s%s [%s]%s%s" % (indent, crt_word, OCSP_UPDATE_ON, tail, ending)
    return "".join(lines)


def socket_stanza(discovery: Mapping[str, Any], settings: Mapping[str, Any], needs_socket: bool,
                  global_mode: bool) -> Dict[str, Any]:
    """The role's lines for the global section: an admin socket when none exists, the 3.x global updater."""
    lines = []
    path = discovery.get("admin_socket")
    if needs_socket and path is None:
        path = settings["socket_path"]
        lines.append("stats socket %s mode 600 level admin" % path)
    if global_mode and not discovery.get("ocsp_update_mode"):
        lines.append("ocsp-update.mode on")
    return {"path": path, "lines": lines, "owned": bool(lines) and path == settings["socket_path"]}


def _refresher_kind(settings: Mapping[str, Any]) -> str:
    """systemd timer where systemd runs the host, cron otherwise (or what the settings force)."""
    wanted = settings.get("refresher", "auto")
    if wanted != "auto":
        return wanted
    return "systemd" if settings.get("service_mgr") == "systemd" else "cron"


def refresher_settings(refresh: List[str], socket_path: Optional[str], settings: Mapping[str, Any]) -> Dict[str, Any]:
    """The JSON document the refresher program reads on the host."""
    return {
        "certificates": refresh,
        "socket": socket_path,
        "renew_before": settings["renew_before"],
        "file_mode": settings["file_mode"],
        "timeout": settings["timeout"],
    }


def library_files(library_dir: str, modules: List[str]) -> List[Dict[str, str]]:
    """Where each engine module (a path below module_utils) goes below the refresher's library directory."""
    package = os.path.join(library_dir, "ansible_collections", "tlsops", "ocsp", "plugins", "module_utils")
    return [{"name": name, "dest": os.path.join(package, name)} for name in modules]


def _site(entry: Mapping[str, Any], leaves: Mapping[str, Mapping[str, Any]], check_host: str) -> Site:
    address = endpoint_address(entry.get("addresses", []), check_host)
    endpoints = [{"host": address[0], "port": address[1], "server_name": server_name(entry, leaves.get(entry["path"]))}
                 ] if address else []
    stapling = None
    if entry.get("ocsp_update"):
        stapling = Found(value=str(entry["ocsp_update"]).lower(), where="%s (crt-list)" % entry["crt_list"], origin=USER)
    elif entry.get("ocsp_exists"):
        stapling = Found(value="on", where=entry["ocsp_path"], origin=ROLE)
    return Site(file=entry.get("bind_file", entry["path"]), line=entry.get("bind_line", 0), endpoints=endpoints,
                certificates=[entry["path"]], stapling=stapling,
                extra={"crt_list": entry.get("crt_list"), "binds": entry.get("binds", [])})


def model(discovery: Mapping[str, Any], certificates: List[Mapping[str, Any]], settings: Mapping[str, Any]) -> Model:
    leaves = common.leaf_facts(certificates)
    mode = discovery.get("ocsp_update_mode")
    return Model(sites=[_site(entry, leaves, settings["check_host"]) for entry in discovery.get("certificates", [])],
                 certificates=certificates,
                 global_stapling=Found(value=str(mode).lower(), where="global ocsp-update.mode", origin=USER)
                 if mode else None)


def updater_refusals(certificates: List[str], discovery: Mapping[str, Any], settings: Mapping[str, Any]
                     ) -> Dict[str, str]:
    """The certificates HAProxy's own updater must not be trusted with, each with why.

    `refresher`: all of them. `native`: none. `auto`: those whose answer HAProxy's updater refused when the
    discovery tried it (updater_trial.py: its own check, e.g. a delegated responder on 3.0), and all of them
    when the trial could not run; a responder that does not answer fails the refresher too, so it is no reason,
    and neither is a certificate the trial did not get to.
    """
    wanted = settings.get("updater", "auto")
    if wanted == "native":
        return {}
    if wanted == "refresher":
        return {path: "the updater is set to refresher" for path in certificates}
    if discovery.get("updater_trial_error"):
        return {path: "HAProxy's own updater could not be tried on this host (%s)" % discovery["updater_trial_error"]
                for path in certificates}
    trial = discovery.get("updater_trial") or {}
    return {path: "HAProxy's own updater refused the responder's answer (%s)" % trial[path]["status"]
            for path in certificates if path in trial and trial[path].get("rejected")}


def _fetchers(stapleable: List[Dict[str, Any]], version: Tuple[int, int], discovery: Mapping[str, Any],
              settings: Mapping[str, Any]) -> Tuple[List[str], List[str], Dict[str, str]]:
    """(certificates the refresher keeps fresh, crt-list certificates given HAProxy's updater, why the refresher).

    Before 2.8 the refresher does it all. 2.8 and 2.9 take `[ocsp-update on]` per crt-list line; 3.x has one
    switch for every certificate (the global `ocsp-update.mode`), so one refusal sends them all to the refresher.
    """
    certificates = [path for site in stapleable for path in site["certificates"]]
    if version < NATIVE_SINCE:
        return certificates, [], {}
    refused = updater_refusals(certificates, discovery, settings)
    if version >= GLOBAL_MODE_SINCE:
        if not refused:
            return [], [], {}
        why = "; ".join("%s: %s" % item for item in sorted(refused.items()))
        return certificates, [], {path: refused.get(path) or "HAProxy 3 turns its updater on for every "
                                  "certificate or none, and it refuses others (%s)" % why for path in certificates}
    listed = [path for site in stapleable if site.get("crt_list") for path in site["certificates"]]
    native = [path for path in listed if path not in refused]
    return [path for path in certificates if path not in native], native, {
        path: refused.get(path, "HAProxy %d.%d updates only crt-list entries" % version)
        for path in certificates if path not in native}


def finish(plan: Plan, model: Model, discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    """Mode, the stanza, the certificates the role keeps fresh, the crt-lists to write, the refresher."""
    version = version_tuple(discovery["version"])
    stapleable = [site for site in plan.sites if site["stapling_applicable"] and site["configured_by"] != USER]
    refresh, crt_list_enable, refresher_reasons = _fetchers(stapleable, version, discovery, settings)
    global_mode = version >= GLOBAL_MODE_SINCE and bool(stapleable) and not refresh
    native = version >= NATIVE_SINCE
    crt_lists = {path: render_crt_list(text, path, crt_list_enable, discovery.get("crt_base"))
                 for path, text in sorted(discovery.get("crt_lists", {}).items())}
    stanza = socket_stanza(discovery, settings, bool(refresh), global_mode)
    return {
        "include_targets": [],  # HAProxy has no include lines
        # what the role edits in place, put back byte for byte when HAProxy rejects the result
        "snapshot": list(settings["config_files"][:1]) + sorted(crt_lists),
        "version": "%d.%d" % version,
        "mode": "native" if native and not refresh else "refresher",
        "stanza": stanza,
        "refresh": refresh,
        # why each certificate the refresher keeps fresh is not left to HAProxy's own updater (2.8+)
        "refresher_reasons": refresher_reasons,
        "endpoint_notes": {path: "the role's refresher keeps its staple fresh: %s" % why
                           for path, why in refresher_reasons.items()},
        "crt_lists": {path: text for path, text in crt_lists.items() if text != discovery["crt_lists"][path]},
        "refresher": _refresher_kind(settings) if refresh else "none",
        "refresher_settings": refresher_settings(refresh, stanza["path"], settings),
        "library_files": library_files(settings["library_dir"], ENGINE_MODULES),
        "reload": "reload",
        # the role fetches and pushes the responses itself: a reload would not fetch anything
        "refetch": "none",
        **_reload(discovery, settings),
    }


def _reload(discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    """How this HAProxy is reloaded, read from its running process (process.py); a method the user set wins."""
    return haproxy_process.reload(discovery.get("process"), dict(settings, private=common.flag(settings.get("private"))),
                                  read="process" in discovery)


def diagnosis_hint(site: Mapping[str, Any], discovery: Mapping[str, Any], settings: Mapping[str, Any]) -> Dict[str, Any]:
    """What the check needs to say why HAProxy staples nothing (the same for every site): the process as
    discovery read it, the files HAProxy reads at load (configuration and crt-lists) and the restart command,
    to tell a reload that did not take effect; its admin socket and the refresher's log, for its own words."""
    reload = _reload(discovery, settings)
    return {
        "kind": "haproxy",
        "process": reload["process"],
        "pid_file": settings.get("pid_file"),
        "loaded_files": list(settings.get("config_files") or []) + sorted(discovery.get("crt_lists", {})),
        "override_directive": None,  # HAProxy asks the certificate's first OCSP URL, with no override
        # its runtime API and the refresher's log (written where cron runs it) are HAProxy's evidence
        "socket_path": discovery.get("admin_socket") or settings.get("socket_path"),
        "refresher_log": settings.get("log_file") if _refresher_kind(settings) == "cron" else None,
    }
