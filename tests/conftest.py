# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures shared by the unit and integration suites.

The checkout is made importable as `ansible_collections.tlsops.ocsp` through a
symlink in a directory outside the tree, so tests import the collection the
way Ansible does and `ansible-playbook` finds `tlsops.ocsp.*`.
"""
from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from tests.support import ansible_env as ansible_support  # noqa: E402  (needs the path above)

COLLECTIONS_PATH = ansible_support.collections_path()
if str(COLLECTIONS_PATH) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_PATH))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def collections_path() -> Path:
    return COLLECTIONS_PATH


@pytest.fixture(scope="session")
def ansible_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for ansible and ansible-playbook subprocesses."""
    return ansible_support.environment(
        tmp_path_factory.mktemp("ansible-home"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")


@dataclass
class PlaybookRun:
    """One ansible-playbook run, read through the json callback."""

    returncode: int
    report: dict[str, Any]
    stderr: str

    def stats(self, host: str = "localhost") -> dict[str, int]:
        return self.report["stats"][host]

    def changed(self, host: str = "localhost") -> int:
        return self.stats(host)["changed"]

    def failed(self, host: str = "localhost") -> bool:
        stats = self.stats(host)
        return bool(stats["failures"] or stats["unreachable"])

    def results(self, task_name: str, host: str = "localhost") -> list[dict[str, Any]]:
        """Results of every task whose name ends with `task_name`."""
        return [
            task["hosts"][host]
            for play in self.report["plays"]
            for task in play["tasks"]
            if task["task"]["name"].endswith(task_name) and host in task["hosts"]
        ]

    def failure_messages(self, host: str = "localhost") -> list[str]:
        return [
            str(task["hosts"][host].get("msg", ""))
            for play in self.report["plays"]
            for task in play["tasks"]
            if host in task["hosts"] and task["hosts"][host].get("failed")
        ]


@pytest.fixture(scope="session")
def run_playbook(ansible_env: dict[str, str]):
    """Run ansible-playbook and return a PlaybookRun.

    Usage: run_playbook(path, extra_vars={...}, check=False, diff=False,
    inventory="localhost,", extra_env={...}, prefix=[...]).
    """

    def run(
        playbook: Path | str,
        extra_vars: Optional[dict[str, Any]] = None,
        *,
        check: bool = False,
        diff: bool = False,
        inventory: str = "localhost,",
        extra_env: Optional[dict[str, str]] = None,
        args: tuple[str, ...] = (),
        prefix: Sequence[str] = (),
    ) -> PlaybookRun:
        command = [
            *prefix,  # e.g. a mount namespace with the lab's resolv.conf
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i", inventory, str(playbook),
            "-e", json.dumps(extra_vars or {}),
            *args,
        ]
        if inventory == "localhost,":
            command += ["-c", "local"]
        if check:
            command.append("--check")
        if diff:
            command.append("--diff")
        env = dict(ansible_env, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", **(extra_env or {}))
        completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        try:
            report = json.loads(completed.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"ansible-playbook printed no JSON report (rc={completed.returncode}):\n"
                        f"{completed.stdout[-4000:]}\n{completed.stderr[-4000:]}")
        return PlaybookRun(completed.returncode, report, completed.stderr)

    return run
