# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every server kind's plan adapter: the one lookup the plan filter and the audit's one-call check share."""
from __future__ import annotations

from types import ModuleType
from typing import Any, Dict, List, Mapping

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.stapling_plan import stapling_plan

# the server kinds, one adapter module _servers/<kind>/adapter.py each (stapling_plan.py documents the interface)
KINDS = ("nginx", "apache", "haproxy", "iis")


def adapter(kind: str) -> ModuleType:
    """The adapter of `kind`, imported only when asked: a module run plans one kind (AnsiballZ still packs each,
    as it reads every import statement); ValueError for an unknown kind."""
    if kind == "nginx":
        from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx import adapter as found
    elif kind == "apache":
        from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache import adapter as found
    elif kind == "haproxy":
        from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import adapter as found
    elif kind == "iis":
        from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.iis import adapter as found
    else:
        raise ValueError(f"the server kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return found


def plan_for(kind: str, discovery: Mapping[str, Any], certificates: List[Mapping[str, Any]],
             settings: Mapping[str, Any]) -> Dict[str, Any]:
    """The stapling plan of one server of `kind`; ValueError for an unknown kind, KeyError for a missing setting."""
    return stapling_plan(discovery, adapter(kind), certificates, settings)
