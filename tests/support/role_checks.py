# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the server role tests check against the lab: a real TLS client, the role's facts, the config tree."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path
from typing import Any

# per lab server: the state key of its configuration directory, and the directories the server writes
# there by itself (apache: a2enmod keeps its markers in state/, the lab's APACHE_STATE_DIRECTORY)
CONFIG_TREES = {
    "nginx": ("prefix", ("logs", "temp")),
    "apache": ("confdir", ("run", "lock", "logs", "state")),
    "haproxy": ("prefix", ()),
}


def tree_digest(state: dict[str, Any], server: str) -> dict[str, str]:
    """sha256 of every configuration file, the target of every symlink, under the server's directory."""
    key, runtime_dirs = CONFIG_TREES[server]
    root = Path(state[server][key])
    digest = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in runtime_dirs:
            continue
        if path.is_symlink():
            digest[str(relative)] = "-> " + os.readlink(path)
        else:
            digest[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
    return digest


def s_client_status(state: dict[str, Any], server: str, leaf: str, port: int | None = None) -> str:
    """What `openssl s_client -status` prints for the leaf's server name on the server's port (or `port`)."""
    completed = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port or state[server]['port']}",
         "-servername", state["leaves"][leaf]["server_name"], "-status",
         "-CAfile", state["pki"]["root"]["cert"]],
        input="", capture_output=True, text=True, timeout=30, check=False)
    return completed.stdout


def endpoint_facts(run: Any, role: str) -> dict[str, dict[str, Any]]:
    """`<role>_endpoints` by server name, from the run's last report task."""
    recorded = run.results("Record the result of every endpoint")
    assert recorded, "the role recorded no result"
    return {entry["server_name"]: entry for entry in recorded[-1]["ansible_facts"][f"{role}_endpoints"]}


def by_leaf(state: dict[str, Any], facts: dict[str, dict[str, Any]], leaf: str) -> dict[str, Any]:
    return facts[state["leaves"][leaf]["server_name"]]
