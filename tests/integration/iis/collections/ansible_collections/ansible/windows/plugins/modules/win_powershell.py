# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only stand-in for ansible.windows.win_powershell: answers the IIS binding inventory."""
from __future__ import annotations

DOCUMENTATION = r"""
module: win_powershell
short_description: Test-only stand-in for ansible.windows.win_powershell
description:
  - Runs no PowerShell. It knows one script, the iis_stapling binding inventory (recognised by
    its first line), and returns as C(result.bindings) the raw C(Get-WebBinding) rows stored under
    C(bindings) in the JSON file named by C(TLSOPS_WINDOWS_STANDIN_STATE).
  - Like the real module it skips a script in check mode unless the script declares
    C([CmdletBinding(SupportsShouldProcess)]), and reports changed unless the script sets
    C($Ansible.Changed = $false).
options:
  script: {type: str, required: true, description: The script text.}
author: tlsops maintainers
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.ansible.windows.plugins.module_utils.standin_state import StandinError, host_state

BINDING_INVENTORY_MARKER = "# tlsops.ocsp iis_stapling: HTTPS binding inventory"


def main() -> None:
    module = AnsibleModule(argument_spec={"script": {"type": "str", "required": True}}, supports_check_mode=True)
    script = module.params["script"]
    if not script.startswith(BINDING_INVENTORY_MARKER):
        module.fail_json(msg="win_powershell stand-in: it emulates only the iis_stapling binding inventory script")
    if module.check_mode and "[CmdletBinding(SupportsShouldProcess)]" not in script:
        module.exit_json(changed=False, skipped=True, msg="skipped, running in check mode")
    try:
        with host_state(write=False) as state:
            bindings = state["bindings"]
    except StandinError as error:
        module.fail_json(msg=f"win_powershell stand-in: {error}")
    module.exit_json(changed="$Ansible.Changed = $false" not in script, result={"bindings": bindings},
                     output=[], error=[], host_out="", host_err="")


if __name__ == "__main__":
    main()
