# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the nginx_stapling role: the decisions live in module_utils/nginx_config.py."""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ansible.errors import AnsibleFilterError
from ansible_collections.tlsops.ocsp.plugins.module_utils import nginx_config


def nginx_stapling_plan(servers: List[Dict[str, Any]], certificates: List[Dict[str, Any]],
                        scope: str = "auto", selected: Optional[List[str]] = None) -> Dict[str, Any]:
    """Where stapling goes (http, server or none), which blocks get the include, what to check."""
    try:
        return nginx_config.plan_stapling(servers, certificates, scope, selected)
    except ValueError as error:
        raise AnsibleFilterError(str(error)) from error


def nginx_resolvers(resolv_conf: str) -> List[str]:
    """resolv.conf text -> nameservers for nginx's `resolver` (IPv6 in brackets)."""
    return nginx_config.resolvers(resolv_conf)


class FilterModule:
    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {
            "nginx_stapling_plan": nginx_stapling_plan,
            "nginx_resolvers": nginx_resolvers,
        }
