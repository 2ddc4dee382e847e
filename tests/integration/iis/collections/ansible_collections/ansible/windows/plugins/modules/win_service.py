# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only stand-in for ansible.windows.win_service: service states in a JSON file."""
from __future__ import annotations

DOCUMENTATION = r"""
module: win_service
short_description: Test-only stand-in for ansible.windows.win_service
description:
  - Keeps service states in the JSON file named by C(TLSOPS_WINDOWS_STANDIN_STATE) and logs
    every start, stop and restart there.
  - C(restarted) behaves like C(Restart-Service -Force), which the real module runs; running
    dependent services are stopped first and started again after the service.
  - Without I(force_dependent_services), stopping or restarting a service whose dependents run
    fails, as on Windows.
options:
  name: {type: str, required: true, description: Service name.}
  state: {type: str, required: true, choices: [started, stopped, restarted], description: Wanted state.}
  force_dependent_services: {type: bool, default: false, description: Also stop running dependents.}
author: tlsops maintainers
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.standin_state import StandinError, host_state


def running_dependents(services: dict[str, Any], name: str) -> list[str]:
    """Running services that depend on `name`, directly or through another dependent."""
    found: list[str] = []
    for dependent in services[name].get("depended_by", []):
        if services.get(dependent, {}).get("state") == "running":
            found += [d for d in running_dependents(services, dependent) if d not in found]
            found.append(dependent)
    return found


def set_state(services: dict[str, Any], log: list[dict[str, str]], name: str, new_state: str, action: str) -> None:
    services[name]["state"] = new_state
    log.append({"module": "win_service", "service": name, "action": action})


def apply(services: dict[str, Any], log: list[dict[str, str]], params: dict[str, Any]) -> bool:
    """Change `services` in place, log each action; return changed."""
    name, wanted = params["name"], params["state"]
    if name not in services:
        raise StandinError(f"Service '{name}' is not installed")
    running = services[name]["state"] == "running"
    if wanted == "started":
        if not running:
            set_state(services, log, name, "running", "started")
        return not running
    dependents = running_dependents(services, name)
    if dependents and not params["force_dependent_services"]:
        raise StandinError(f"Cannot stop service '{name}' because it has running dependent services: "
                           f"{', '.join(dependents)}; use force_dependent_services")
    for dependent in dependents:
        set_state(services, log, dependent, "stopped", "stopped")
    if wanted == "stopped":
        if running:
            set_state(services, log, name, "stopped", "stopped")
        return running or bool(dependents)
    set_state(services, log, name, "running", "restarted")
    for dependent in reversed(dependents):
        set_state(services, log, dependent, "running", "started")
    return True


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "required": True, "choices": ["started", "stopped", "restarted"]},
            "force_dependent_services": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    try:
        with host_state(write=not module.check_mode) as state:
            changed = apply(state["services"], state["log"], module.params)
            service = state["services"][module.params["name"]]
    except StandinError as error:
        module.fail_json(msg=f"win_service stand-in: {error}")
    module.exit_json(changed=changed, name=module.params["name"], state=service["state"],
                     depended_by=service.get("depended_by", []))


if __name__ == "__main__":
    main()
