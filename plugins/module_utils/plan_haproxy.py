# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stapling plan's HAProxy adapter: discovered model + certificate facts + settings -> plan.

Pure Python, no Ansible. Every HAProxy decision of the haproxy_stapling role
lives here:
- how responses get fetched: HAProxy < 2.8 staples `<crt>.ocsp` files that the
  role and its refresher keep fresh (mode `refresher`); 2.8 and 2.9 fetch by
  themselves for crt-list entries with `[ocsp-update on]` (mode `native`; a
  certificate named by `crt` on a bind line stays with the refresher); 3.x
  turns the updater on for every certificate with the global
  `ocsp-update.mode on`;
- the admin-level stats socket the refresher pushes through: the
  configuration's own, else one in the role's stanza of the global section;
- the endpoints to check (address of the bind, SNI from the crt-list filter
  or the certificate's name) and what the report says about each.
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils.haproxy_config import (
    CRT_LIST_OCSP_UPDATE, parse_crt_list, resolve,
)

NATIVE_SINCE = (2, 8)
GLOBAL_MODE_SINCE = (3, 0)
OCSP_UPDATE_ON = "%s on" % CRT_LIST_OCSP_UPDATE
WILDCARD_LABEL = "www"
# The engine modules the refresher imports on the host (copied, never rewritten).
ENGINE_MODULES = ["_compat.py", "verdicts.py", "certificates.py", "ocsp.py", "haproxy_runtime.py",
                  "haproxy_refresh.py"]


def version_tuple(version: Any) -> Tuple[int, int]:
    """(major, minor) from "2.6", "2.6.12-1+deb12u4" or a [major, minor] list."""
    if isinstance(version, (list, tuple)):
        return int(version[0]), int(version[1])
    major, minor = str(version).split("-")[0].split(".")[:2]
    return int(major), int(minor)


def leaf_facts(path: str, certificates: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """certificate_info's facts of the served certificate of a bundle: its first non-CA certificate."""
    in_file = [facts for facts in certificates if facts.get("path") == path]
    return next((facts for facts in in_file if not facts.get("is_ca")), in_file[0] if in_file else None)


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


def server_name(entry: Dict[str, Any], facts: Optional[Dict[str, Any]]) -> Optional[str]:
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
            lines[number - 1] = "%s%s [%s]%s%s" % (indent, crt_word, OCSP_UPDATE_ON,
                                                    " " + rest.strip() if rest.strip() else "", ending)
    return "".join(lines)


def socket_stanza(model: Dict[str, Any], settings: Dict[str, Any], needs_socket: bool,
                  global_mode: bool) -> Dict[str, Any]:
    """The role's lines for the global section: an admin socket when none exists, the 3.x global updater."""
    lines = []
    path = model.get("admin_socket")
    if needs_socket and path is None:
        path = settings["socket_path"]
        lines.append("stats socket %s mode 600 level admin" % path)
    if global_mode and not model.get("ocsp_update_mode"):
        lines.append("ocsp-update.mode on")
    return {"path": path, "lines": lines, "owned": bool(lines) and path == settings["socket_path"]}


def plan(model: Dict[str, Any], certificates: List[Dict[str, Any]], settings: Dict[str, Any]) -> Dict[str, Any]:
    """The HAProxy plan: mode, stanza, files, certificates to refresh, endpoints and gates.

    model: haproxy_config_info's result (version, certificates, crt_lists, admin_socket, crt_base,
    ocsp_update_mode). certificates: certificate_info's facts for the bundles. settings: check_host,
    socket_path, refresher (auto | systemd | cron | none), service_mgr, library_dir, renew_before,
    file_mode, timeout.
    """
    version = version_tuple(model["version"])
    global_mode = version >= GLOBAL_MODE_SINCE
    native = version >= NATIVE_SINCE
    endpoints, refresh, crt_list_enable, gates = [], [], [], []
    for entry in model["certificates"]:
        facts = leaf_facts(entry["path"], certificates)
        applicable = bool(facts and facts["stapling_applicable"])
        endpoints.append(_endpoint(entry, facts, settings["check_host"]))
        if facts and facts.get("must_staple") and not applicable:
            gates.append("%s carries Must-Staple but cannot be stapled: %s" % (entry["path"], facts["stapling_reason"]))
        if not applicable or global_mode:
            continue
        if native and entry.get("crt_list"):
            crt_list_enable.append(entry["path"])
        else:
            refresh.append(entry["path"])
    crt_lists = {path: render_crt_list(text, path, crt_list_enable, model.get("crt_base"))
                 for path, text in sorted(model.get("crt_lists", {}).items())}
    stanza = socket_stanza(model, settings, bool(refresh), global_mode)
    result = {
        "version": "%d.%d" % version,
        "mode": "native" if native and not refresh else "refresher",
        "stanza": stanza,
        "refresh": refresh,
        "crt_lists": {path: text for path, text in crt_lists.items() if text != model["crt_lists"][path]},
        "refresher": _refresher_kind(settings) if refresh else "none",
        "endpoints": [endpoint for endpoint in endpoints if endpoint["port"] is not None],
        "checks": [{"host": endpoint["host"], "port": endpoint["port"], "server_name": endpoint["server_name"]}
                   for endpoint in endpoints if endpoint["port"] is not None],
        "gates": gates,
        "library_files": library_files(settings["library_dir"], ENGINE_MODULES),
    }
    result["refresher_settings"] = refresher_settings(result, settings)
    return result


def _endpoint(entry: Dict[str, Any], facts: Optional[Dict[str, Any]], check_host: str) -> Dict[str, Any]:
    address = endpoint_address(entry.get("addresses", []), check_host)
    host, port = address if address else (None, None)
    return {
        "host": host, "port": port, "server_name": server_name(entry, facts),
        "certificate_path": entry["path"],
        "stapling_applicable": bool(facts and facts["stapling_applicable"]),
        "stapling_reason": facts["stapling_reason"] if facts else "%s holds no certificate" % entry["path"],
        "must_staple": bool(facts and facts.get("must_staple")),
        "configured_by": "user" if entry.get("ocsp_update") == "on" else "role",
    }


def _refresher_kind(settings: Dict[str, Any]) -> str:
    """systemd timer where systemd runs the host, cron otherwise (or what the settings force)."""
    wanted = settings.get("refresher", "auto")
    if wanted != "auto":
        return wanted
    return "systemd" if settings.get("service_mgr") == "systemd" else "cron"


def refresher_settings(plan_result: Dict[str, Any], settings: Dict[str, Any]) -> Dict[str, Any]:
    """The JSON document the refresher program reads on the host."""
    return {
        "certificates": plan_result["refresh"],
        "socket": plan_result["stanza"]["path"],
        "renew_before": settings["renew_before"],
        "file_mode": settings["file_mode"],
        "timeout": settings["timeout"],
    }


def library_files(library_dir: str, modules: List[str]) -> List[Dict[str, str]]:
    """Where each engine module goes below the refresher's library directory (a package path)."""
    package = os.path.join(library_dir, "ansible_collections", "tlsops", "ocsp", "plugins", "module_utils")
    return [{"name": name, "dest": os.path.join(package, name)} for name in modules]
