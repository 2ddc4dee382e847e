# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""stapling_audit_info's controller half: the server roles' variables, defaults included, for the host.

The stapling role's audit includes no server role (each include costs a task per host), so the roles'
defaults are not loaded. This reads them through plugin_utils/role_files.py, takes the host's values of their
variables, checks them against each role's `audit` argument specification, and runs the module once.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.plugins.action import ActionBase
from ansible_collections.tlsops.ocsp.plugins.plugin_utils.role_files import role_files

KINDS = ("nginx", "apache", "haproxy")
MODULE = "tlsops.ocsp.stapling_audit_info"
# the stapling role passes its stapling_state to every server role as <kind>_stapling_state
STATE_FROM = "stapling_state"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("servers", "role_vars", "os_family", "service_mgr", "host"))

    def run(self, tmp: Optional[str] = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        given = args.get("role_vars") or {}
        role_vars = {}
        for kind in KINDS:
            values, error = self._role_vars(kind, task_vars)
            if error:
                result.update(failed=True, msg=error)
                return result
            role_vars[kind] = dict(values, **given.get(kind, {}))
        facts = task_vars.get("ansible_facts", {})
        args.update(role_vars=role_vars, host=args.get("host") or task_vars.get("inventory_hostname", ""))
        args.setdefault("os_family", facts.get("os_family", ""))
        args.setdefault("service_mgr", facts.get("service_mgr", ""))
        result.update(self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars))
        return result

    def _role_vars(self, kind: str, task_vars: Dict[str, Any]) -> Tuple[Dict[str, Any], Optional[str]]:
        """The role's variables as the host sees them (templated), and the argument spec's error, if any."""
        defaults, options = role_files(kind)
        values = {name: self._templar.template(task_vars[name]) if name in task_vars else default
                  for name, default in defaults.items()}
        if STATE_FROM in task_vars:
            values["%s_stapling_state" % kind] = self._templar.template(task_vars[STATE_FROM])
        checked = ArgumentSpecValidator(options).validate({name: values[name] for name in options if name in values})
        if checked.error_messages:
            return values, ("the variables of tlsops.ocsp.%s_stapling do not match its argument specification: %s"
                            % (kind, "; ".join(checked.error_messages)))
        values.update(checked.validated_parameters)
        return values, None
