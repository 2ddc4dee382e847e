# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only stand-in for ansible.windows.win_regedit: registry values in a JSON file."""
from __future__ import annotations

DOCUMENTATION = r"""
module: win_regedit
short_description: Test-only stand-in for ansible.windows.win_regedit
description:
  - Keeps registry values in the JSON file named by C(TLSOPS_WINDOWS_STANDIN_STATE).
  - Emulates C(state=present) and C(state=absent) of one named value, check mode and the
    real module's diff layout. Options the real module has beyond these are rejected.
options:
  path: {type: str, required: true, aliases: [key], description: Registry key.}
  name: {type: str, required: true, aliases: [entry, value], description: Value name.}
  data: {type: raw, description: Value data.}
  type: {type: str, default: string, choices: [dword, qword, string], description: Value type.}
  state: {type: str, default: present, choices: [present, absent], description: Wanted state.}
author: tlsops maintainers
"""

from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.standin_state import (
    StandinError, find_registry_key, host_state, registry_key_name,
)


def normalised_data(value_type: str, data: Any) -> Any:
    """DWORD/QWORD data as the real module accepts it: decimal or 0x hex."""
    if value_type in ("dword", "qword"):
        return int(str(data), 0)
    return "" if data is None else str(data)


def diff_value(value: dict[str, Any]) -> dict[str, Any]:
    """The real module's diff form: numbers as 0x-padded hex."""
    width = {"dword": 8, "qword": 16}.get(value["type"])
    shown = f"0x{value['data']:0{width}x}" if width else value["data"]
    return {"type": value["type"], "value": shown}


def apply(registry: dict[str, Any], params: dict[str, Any]) -> tuple[bool, dict[str, Any], dict[str, Any]]:
    """Change `registry` in place; return (changed, diff before, diff after)."""
    stored_key = find_registry_key(registry, params["path"])
    shown_key = stored_key or registry_key_name(params["path"])
    values = registry.get(stored_key, {}) if stored_key else {}
    current = values.get(params["name"])
    before = {shown_key: {params["name"]: diff_value(current)}} if current else ({shown_key: {}} if stored_key else {})
    if params["state"] == "absent":
        if current is None:
            return False, before, before
        del values[params["name"]]
        return True, before, {shown_key: {}}
    wanted = {"type": params["type"], "data": normalised_data(params["type"], params["data"])}
    if current == wanted:
        return False, before, before
    registry.setdefault(shown_key, values)[params["name"]] = wanted
    return True, before, {shown_key: {params["name"]: diff_value(wanted)}}


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "str", "required": True, "aliases": ["key"]},
            "name": {"type": "str", "required": True, "aliases": ["entry", "value"]},
            "data": {"type": "raw"},
            "type": {"type": "str", "default": "string", "choices": ["dword", "qword", "string"]},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        },
        supports_check_mode=True,
    )
    try:
        with host_state(write=not module.check_mode) as state:
            changed, before, after = apply(state["registry"], module.params)
    except (StandinError, ValueError) as error:
        module.fail_json(msg=f"win_regedit stand-in: {error}")
    result: dict[str, Any] = {"changed": changed, "data_changed": changed, "data_type_changed": False}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
