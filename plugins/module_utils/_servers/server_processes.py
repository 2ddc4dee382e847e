# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The web servers running on a host, from the process names in /proc (or `ps` where /proc lists none).

Shared by server_facts (the stapling role's detection) and stapling_audit_info (the audit's one call).
"""
from __future__ import annotations

import os
from typing import List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule

# process name -> the server kind (the role) that handles it
SERVER_KINDS = {"nginx": "nginx", "apache2": "apache", "httpd": "apache", "haproxy": "haproxy"}
PS_FAILED = "listing the running programs failed: /proc lists no process and %s; %s"


def programs_from_proc() -> Optional[List[str]]:
    """The names of the running processes, or None when /proc lists none."""
    try:
        pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return None
    names = []
    for pid in pids:
        try:
            with open("/proc/%s/comm" % pid, encoding="utf-8", errors="replace") as handle:
                names.append(handle.read().strip())
        except OSError:  # gone meanwhile, or hidden from this user
            continue
    return names or None


def programs_from_ps(module: AnsibleModule, remedy: str) -> List[str]:
    ps = module.get_bin_path("ps")
    if ps is None:
        module.fail_json(msg=PS_FAILED % ("ps is not installed", remedy))
    rc, out, err = module.run_command([ps, "-e", "-o", "comm="])
    if rc != 0:
        module.fail_json(msg=PS_FAILED % ("`ps -e -o comm=` exited with %d: %s" % (rc, err.strip()), remedy))
    return [os.path.basename(line.strip()) for line in out.splitlines()]


def running_servers(module: AnsibleModule, remedy: str) -> Tuple[List[str], List[str]]:
    """(server kinds, the process names that made them), both sorted; `remedy` ends the message of a failure."""
    running = programs_from_proc()
    if running is None:
        running = programs_from_ps(module, remedy)
    found = sorted(set(running) & set(SERVER_KINDS))
    return sorted({SERVER_KINDS[name] for name in found}), found
