# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_report's controller half: what only the controller knows, then the module.

- A relative O(dest) or O(metrics_dest) is where ansible-playbook runs. Run on the controller (a local
  connection), the module's working directory is the playbook's directory: for the collection's own playbooks
  that is inside the installed collection, where no one looks for a report.
- O(outside_group) is read from the inventory: each of its hosts is checked at its `tlsops_ocsp_endpoint`, else
  at its name read as host[:port][/server_name] with its `ansible_host` and `ansible_port` in place of address
  and port; `tlsops_ocsp_server_name` sets the server name. They join O(outside_endpoints).
"""
from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible.plugins.action import ActionBase
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.tls import parse_endpoint

MODULE = "tlsops.ocsp.audit_report"
DIRECTORIES = ("dest", "metrics_dest")


def resolved(args: Dict[str, Any], cwd: str) -> Dict[str, Any]:
    """`args` with each relative directory option joined to `cwd` (a `~` path is left to the module)."""
    return dict(args, **{key: os.path.join(cwd, str(args[key])) for key in DIRECTORIES
                         if args.get(key) and not os.path.isabs(str(args[key])) and not str(args[key]).startswith("~")})


def group_endpoints(group: str, members: Sequence[str],
                    hostvars: Mapping[str, Mapping[str, Any]]) -> Tuple[List[Dict[str, Any]], List[str]]:
    """The group's hosts as outside endpoints (dictionaries with their inventory name), and what is wrong with
    those that cannot be read."""
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
        if self._connection.transport in ("local", "ansible.builtin.local"):
            args = resolved(args, os.getcwd())
        group = args.pop("outside_group", None)
        if group:
            groups = task_vars.get("groups", {})
            if group not in groups:
                result.update(failed=True, msg="outside_group: %s is not a group of the inventory; name the inventory "
                              "group whose hosts are the endpoints, or list them in outside_endpoints" % group)
                return result
            found, problems = group_endpoints(group, groups[group], task_vars["hostvars"])
            if problems:
                result.update(failed=True, msg="outside_group: %d of its hosts cannot be read as endpoints: %s"
                              % (len(problems), "; ".join(problems)), problems=problems)
                return result
            args["outside_endpoints"] = list(args.get("outside_endpoints") or []) + found
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
