# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Processes named like web servers, for the detection tests: copies of sleep under another name.

The kernel names a process after its program file (/proc/<pid>/comm, what `ps -e -o comm=` prints),
so a copy of /bin/sleep called `httpd` is, to detection, a running httpd.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import List


class Programs:
    """start(name) runs a copy of sleep named `name` from `directory`; stop_all() kills every one."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: List[subprocess.Popen] = []

    def start(self, name: str) -> subprocess.Popen:
        program = self.directory / name
        shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
        process = subprocess.Popen([str(program), "600"])
        self.started.append(process)
        # Popen may return before the kernel renamed the child after its new program
        comm = Path("/proc/%d/comm" % process.pid)
        deadline = time.monotonic() + 5
        while comm.read_text().strip() != name and time.monotonic() < deadline:
            time.sleep(0.01)
        return process

    @staticmethod
    def stop(process: subprocess.Popen) -> None:
        process.kill()
        process.wait()

    def stop_all(self) -> None:
        for process in self.started:
            self.stop(process)
