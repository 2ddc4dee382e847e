# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The haproxy_stapling role's plan: the decisions live in module_utils/plan_haproxy.py.

Until the shared `tlsops.ocsp.stapling_plan` filter takes the HAProxy adapter,
the role reaches it through this one.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List

from ansible.errors import AnsibleFilterError
from ansible_collections.tlsops.ocsp.plugins.module_utils import plan_haproxy


def haproxy_stapling_plan(model: Dict[str, Any], certificates: List[Dict[str, Any]],
                          settings: Dict[str, Any]) -> Dict[str, Any]:
    """Mode (refresher or native), stanza, certificates to refresh, crt-lists to write, endpoints, gates."""
    try:
        return plan_haproxy.plan(model, certificates, settings)
    except (KeyError, ValueError) as error:
        raise AnsibleFilterError("haproxy_stapling_plan: %s" % error) from error


class FilterModule:
    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"haproxy_stapling_plan": haproxy_stapling_plan}
