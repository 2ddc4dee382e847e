# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A playbook run inside the execution environment as AWX runs one: ansible-navigator, ansible-runner, podman.

Nothing of the controller's Ansible reaches the container: no ANSIBLE_*
variable is passed and no collection path is mounted, so the collection and
its dependencies resolve inside the EE only. ansible-navigator mounts the
inventory's directory (and the working directory) at their own paths, so the
SSH key, the known hosts, the extra variables and the report directory live
there.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.ee import build

NAVIGATOR = build.TOOLS / "ansible-navigator"
MQUEUE = Path("/dev/mqueue")
# ansible-runner's event markers (ESC[K base64 ESC[nD ESC[K) and any other escape sequence in stdout mode
RUNNER_MARKER = re.compile(r"\x1b\[K[A-Za-z0-9+/=]*\x1b\[\d+D\x1b\[K|\x1b\[[0-9;]*[A-Za-z]")
RECAP_LINE = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.MULTILINE)


@dataclass(frozen=True)
class NavigatorRun:
    returncode: int
    output: str  # what ansible-navigator printed, markers removed

    def recap(self) -> dict[str, dict[str, int]]:
        """PLAY RECAP: host -> ok, changed, unreachable, failed."""
        return {host: dict(zip(("ok", "changed", "unreachable", "failed"), map(int, counts)))
                for host, *counts in RECAP_LINE.findall(self.output)}


def ensure_mqueue() -> None:
    """ansible-runner starts the EE with --ipc=host, for which podman needs /dev/mqueue: systemd mounts it at boot;
    a machine without systemd as PID 1 has none, so it is mounted here the same way."""
    if not os.path.ismount(MQUEUE):
        MQUEUE.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "mqueue", "mqueue", str(MQUEUE)], check=True)


def run(playbook: str, inventory: Path, image: str, extra_vars: dict[str, Any], workdir: Path,
        timeout: float = 900) -> NavigatorRun:
    """`ansible-navigator run playbook` in `image` over `inventory`; extra_vars go through a file beside it."""
    ensure_mqueue()
    workdir.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="extra-vars-", suffix=".json", dir=inventory.parent)
    with os.fdopen(handle, "w") as extra_vars_file:
        json.dump(extra_vars, extra_vars_file)
    argv = [str(NAVIGATOR), "run", playbook, "--mode", "stdout",
            "--execution-environment", "true", "--container-engine", "podman",
            "--execution-environment-image", image, "--pull-policy", "never",
            "--playbook-artifact-enable", "false", "--log-file", str(workdir / "ansible-navigator.log"),
            "-i", str(inventory), "-e", f"@{name}"]
    env = {name: value for name, value in build.podman_env().items() if not name.startswith("ANSIBLE_")}
    completed = subprocess.run(argv, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout,
                               check=False)
    return NavigatorRun(completed.returncode, RUNNER_MARKER.sub("", completed.stdout + completed.stderr))
