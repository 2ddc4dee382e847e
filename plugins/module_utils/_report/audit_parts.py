# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sliced audits: each slice (an AWX job slice, a `--limit` share) keeps its part, the report's inputs for its
hosts; one merge builds the fleet report from all parts, as if one audit had run.

A part holds what audit_report.build takes (the endpoint entries, the hosts without servers, what could not be
audited, the hosts targeted) and no rendering, so the merged report, its metrics and its "since the last
audit" are made once, from everything. A host that two parts name is counted once (the first part, by name,
keeps it) and said so; an endpoint checked from outside by several slices is one row.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, Iterable, List, Sequence, Set, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._report.stapling_report import OUTSIDE

FORMAT = "tlsops.ocsp audit part 1"
INPUTS = ("endpoints", "hosts_without_servers", "not_audited", "targeted")
FILE_PREFIX, FILE_SUFFIX = "ocsp-audit.part-", ".json"


class PartError(ValueError):
    """A part file that cannot be merged; the message names it."""


def default_name(inputs: Dict[str, Any]) -> str:
    """A part's name when the slice gives none: the same hosts give the same name, so a slice run again
    replaces its own part."""
    hosts = sorted(_hosts(inputs))
    return hashlib.sha256("\n".join(hosts).encode("utf-8")).hexdigest()[:12]


def file_name(name: str) -> str:
    return FILE_PREFIX + name + FILE_SUFFIX


def render(name: str, generated_at: str, inputs: Dict[str, Any]) -> str:
    document = dict({key: inputs[key] for key in INPUTS}, format=FORMAT, part=name, generated_at=generated_at)
    return json.dumps(document, sort_keys=True) + "\n"


def load(text: str, source: str) -> Dict[str, Any]:
    """A part read back; PartError naming `source` when it is not one."""
    try:
        part = json.loads(text)
    except ValueError as error:
        raise PartError("%s is not JSON (%s): remove it, or run its slice again" % (source, error)) from None
    if not isinstance(part, dict) or part.get("format") != FORMAT or not all(
            isinstance(part.get(key), list) for key in INPUTS):
        raise PartError("%s is not an audit part (%s): remove it, or run its slice again" % (source, FORMAT))
    return part


def merge(parts: Sequence[Dict[str, Any]]) -> Tuple[Dict[str, List[Any]], List[Dict[str, Any]]]:
    """(the report's inputs from every part, the hosts more than one part named, with the parts' names).

    Parts are taken in the order of their names; a host belongs to the first part that names it."""
    merged: Dict[str, List[Any]] = {key: [] for key in INPUTS}
    owner: Dict[str, str] = {}
    twice: Dict[str, List[str]] = {}
    outside_seen: Set[Tuple[str, ...]] = set()
    for part in sorted(parts, key=lambda item: str(item.get("part"))):
        name = str(part.get("part"))
        mine = set()
        for host in sorted(_hosts(part)):
            if host in owner:
                twice.setdefault(host, [owner[host]]).append(name)
            else:
                owner[host] = name
                mine.add(host)
        for row in part["endpoints"]:
            if row.get("checked_from") == OUTSIDE:
                key = _outside_key(row)
                if key not in outside_seen:
                    outside_seen.add(key)
                    merged["endpoints"].append(row)
            elif str(row.get("inventory_host")) in mine:
                merged["endpoints"].append(row)
        merged["hosts_without_servers"] += [host for host in part["hosts_without_servers"] if host in mine]
        merged["not_audited"] += [item for item in part["not_audited"] if str(item.get("host")) in mine]
        merged["targeted"] += [host for host in part["targeted"] if host in mine]
    counted_twice = [{"host": host, "parts": names} for host, names in sorted(twice.items())]
    return merged, counted_twice


def _hosts(inputs: Dict[str, Any]) -> Iterable[str]:
    """Every inventory host a part speaks of (endpoints checked from outside are no host's)."""
    hosts = {str(row.get("inventory_host")) for row in inputs["endpoints"] if row.get("checked_from") != OUTSIDE}
    hosts |= {str(host) for host in inputs["hosts_without_servers"] + inputs["targeted"]}
    return hosts | {str(item.get("host")) for item in inputs["not_audited"]}


def _outside_key(row: Dict[str, Any]) -> Tuple[str, ...]:
    return (str(row.get("inventory_host")), str(row.get("host")), str(row.get("port")), str(row.get("server_name")))
