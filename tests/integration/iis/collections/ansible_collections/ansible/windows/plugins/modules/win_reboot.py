# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only stand-in for ansible.windows.win_reboot: counts reboots in a JSON file."""
from __future__ import annotations

DOCUMENTATION = r"""
module: win_reboot
short_description: Test-only stand-in for ansible.windows.win_reboot
description:
  - The real one is an action plugin that reboots the host and waits for it. This module
    counts a reboot in the JSON file named by C(TLSOPS_WINDOWS_STANDIN_STATE), logs it and marks
    every service running again, as after a boot. Check mode reboots nothing.
options:
  reboot_timeout: {type: int, default: 600, description: Accepted and ignored.}
  msg: {type: str, description: Accepted and ignored.}
author: tlsops maintainers
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.standin_state import StandinError, host_state


def main() -> None:
    module = AnsibleModule(
        argument_spec={"reboot_timeout": {"type": "int", "default": 600}, "msg": {"type": "str"}},
        supports_check_mode=True,
    )
    if module.check_mode:
        module.exit_json(changed=True, rebooted=False)
    try:
        with host_state(write=True) as state:
            state["reboots"] += 1
            state["log"].append({"module": "win_reboot", "action": "rebooted"})
            for service in state["services"].values():
                service["state"] = "running"
    except StandinError as error:
        module.fail_json(msg=f"win_reboot stand-in: {error}")
    module.exit_json(changed=True, rebooted=True, elapsed=0)


if __name__ == "__main__":
    main()
