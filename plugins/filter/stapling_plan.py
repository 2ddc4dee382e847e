# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stapling plan of every server role: the decisions live in module_utils/stapling_plan.py and its adapters."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.tlsops.ocsp.plugins.module_utils import plan_apache, plan_haproxy, plan_iis, plan_nginx
from ansible_collections.tlsops.ocsp.plugins.module_utils.stapling_plan import stapling_plan as build

# one adapter per server kind (stapling_plan.py documents the interface)
ADAPTERS = {"nginx": plan_nginx, "apache": plan_apache, "haproxy": plan_haproxy, "iis": plan_iis}


def stapling_plan(discovery: Mapping[str, Any], kind: str, certificates: List[Mapping[str, Any]],
                  settings: Mapping[str, Any]) -> Dict[str, Any]:
    """What the role does on this server: scope, include targets, files, gates, reload, endpoints to check."""
    if kind not in ADAPTERS:
        raise AnsibleFilterError(f"stapling_plan: the server kind must be one of {', '.join(ADAPTERS)}, not {kind!r}")
    try:
        return build(discovery, ADAPTERS[kind], certificates, settings)
    except (KeyError, ValueError) as error:
        raise AnsibleFilterError(f"stapling_plan ({kind}): {error}") from error


class FilterModule:
    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"stapling_plan": stapling_plan}
