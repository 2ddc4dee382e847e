# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_report's controller half: a relative O(dest) or O(metrics_dest) is where ansible-playbook runs.

Run on the controller (a local connection), the module's working directory is the playbook's directory: for
the collection's own playbooks that is inside the installed collection, where no one looks for a report.
This resolves relative directories against the controller's working directory, then runs the module.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Optional

from ansible.plugins.action import ActionBase

MODULE = "tlsops.ocsp.audit_report"
DIRECTORIES = ("dest", "metrics_dest")


def resolved(args: Dict[str, Any], cwd: str) -> Dict[str, Any]:
    """`args` with each relative directory option joined to `cwd` (a `~` path is left to the module)."""
    return dict(args, **{key: os.path.join(cwd, str(args[key])) for key in DIRECTORIES
                         if args.get(key) and not os.path.isabs(str(args[key])) and not str(args[key]).startswith("~")})


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = super().run(tmp, task_vars or {})
        args = dict(self._task.args)
        if self._connection.transport in ("local", "ansible.builtin.local"):
            args = resolved(args, os.getcwd())
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result
