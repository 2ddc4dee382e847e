# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""outside_audit_info's controller half: the hosts of O(group) become endpoints, read from the inventory.

Only the controller knows the inventory: each host of the group is checked at its `tlsops_ocsp_endpoint`, else
at its name read as host[:port][/server_name] with its `ansible_host` and `ansible_port` in place of address
and port; `tlsops_ocsp_server_name` sets the server name. The module then checks them after O(endpoints).
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible.plugins.action import ActionBase
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.tls import parse_endpoint

MODULE = "tlsops.ocsp.outside_audit_info"


def group_endpoints(group: str, members: Sequence[str],
                    hostvars: Mapping[str, Mapping[str, Any]]) -> Tuple[List[Dict[str, Any]], List[str]]:
    """The group's hosts as the module's endpoint dictionaries, and what is wrong with those that cannot be read."""
    endpoints, problems = [], []
    for name in members:
        host_vars = hostvars[name]
        given = host_vars.get("tlsops_ocsp_endpoint")
        try:
            host, port, server_name = parse_endpoint(str(given or name))
        except ValueError as error:
            problems.append("%s (group %s): %s" % (name, group, error))
            continue
        if not given and host_vars.get("ansible_host"):
            host, server_name = str(host_vars["ansible_host"]), server_name or host
        if not given and host_vars.get("ansible_port"):
            port = int(host_vars["ansible_port"])
        endpoints.append({"host": host, "port": port, "name": name,
                          "server_name": host_vars.get("tlsops_ocsp_server_name") or server_name})
    return endpoints, problems


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        group = args.pop("group", None)
        if group:
            groups = task_vars.get("groups", {})
            if group not in groups:
                result.update(failed=True, msg="group: %s is not a group of the inventory; name an inventory group "
                              "whose hosts are the endpoints, or give them in endpoints" % group)
                return result
            found, problems = group_endpoints(group, groups[group], task_vars["hostvars"])
            if problems:
                result.update(failed=True, msg="group: %d of its hosts cannot be read as endpoints: %s"
                              % (len(problems), "; ".join(problems)), problems=problems)
                return result
            args["endpoints"] = list(args.get("endpoints") or []) + found
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
