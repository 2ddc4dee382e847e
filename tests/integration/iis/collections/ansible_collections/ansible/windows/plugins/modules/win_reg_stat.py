# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only stand-in for ansible.windows.win_reg_stat: reads a value from the JSON registry."""
from __future__ import annotations

DOCUMENTATION = r"""
module: win_reg_stat
short_description: Test-only stand-in for ansible.windows.win_reg_stat
description:
  - Reads one named value from the registry kept in the JSON file named by
    C(TLSOPS_WINDOWS_STANDIN_STATE) and returns it as the real module does
    (C(exists), C(type) such as C(REG_DWORD), C(value), C(raw_value)).
options:
  path: {type: str, required: true, aliases: [key], description: Registry key.}
  name: {type: str, required: true, aliases: [entry, value], description: Value name.}
author: tlsops maintainers
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.standin_state import (
    StandinError, find_registry_key, host_state,
)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "str", "required": True, "aliases": ["key"]},
            "name": {"type": "str", "required": True, "aliases": ["entry", "value"]},
        },
        supports_check_mode=True,
    )
    try:
        with host_state(write=False) as state:
            key = find_registry_key(state["registry"], module.params["path"])
            value = state["registry"][key].get(module.params["name"]) if key else None
    except StandinError as error:
        module.fail_json(msg=f"win_reg_stat stand-in: {error}")
    if value is None:
        module.exit_json(changed=False, exists=False)
    module.exit_json(changed=False, exists=True, type=f"REG_{value['type'].upper()}",
                     value=value["data"], raw_value=value["data"])


if __name__ == "__main__":
    main()
