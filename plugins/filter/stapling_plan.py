# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stapling plan of every server role: the decisions live in module_utils/_servers/stapling_plan.py and its adapters (_servers/<kind>/adapter.py)."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.registry import plan_for


def stapling_plan(discovery: Mapping[str, Any], kind: str, certificates: List[Mapping[str, Any]],
                  settings: Mapping[str, Any]) -> Dict[str, Any]:
    """What the role does on this server: scope, include targets, files, gates, reload, endpoints to check."""
    try:
        return plan_for(kind, discovery, certificates, settings)
    except (KeyError, ValueError) as error:
        raise AnsibleFilterError(f"stapling_plan ({kind}): {error}") from error


class FilterModule:
    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"stapling_plan": stapling_plan}
