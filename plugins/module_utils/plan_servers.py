# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every server kind's plan adapter: the one lookup the plan filter and the audit's one-call check share."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping

from ansible_collections.tlsops.ocsp.plugins.module_utils import plan_apache, plan_haproxy, plan_iis, plan_nginx
from ansible_collections.tlsops.ocsp.plugins.module_utils.stapling_plan import stapling_plan

# one adapter per server kind (stapling_plan.py documents the interface)
ADAPTERS = {"nginx": plan_nginx, "apache": plan_apache, "haproxy": plan_haproxy, "iis": plan_iis}


def plan_for(kind: str, discovery: Mapping[str, Any], certificates: List[Mapping[str, Any]],
             settings: Mapping[str, Any]) -> Dict[str, Any]:
    """The stapling plan of one server of `kind`; ValueError for an unknown kind, KeyError for a missing setting."""
    if kind not in ADAPTERS:
        raise ValueError(f"the server kind must be one of {', '.join(ADAPTERS)}, not {kind!r}")
    return stapling_plan(discovery, ADAPTERS[kind], certificates, settings)
