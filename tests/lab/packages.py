# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Debian packages the lab needs, installed when missing (never starting the system services)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.lab.processes import LabError

REPO_ROOT = Path(__file__).resolve().parents[2]
SYSTEM_DEPS_SCRIPT = REPO_ROOT / "tests" / "setup" / "system-deps.sh"
NEEDED_BINARIES = ("/usr/sbin/nginx", "/usr/sbin/apache2", "/usr/sbin/apache2ctl", "/usr/bin/openssl",
                   "/usr/sbin/haproxy")


def missing_binaries() -> list[str]:
    return [binary for binary in NEEDED_BINARIES if not os.access(binary, os.X_OK)]


def ensure_installed() -> None:
    """Install nginx, apache2 and openssl through tests/setup/system-deps.sh when one is missing."""
    missing = missing_binaries()
    if not missing:
        return
    completed = subprocess.run(["bash", str(SYSTEM_DEPS_SCRIPT)], capture_output=True, text=True, check=False)
    if completed.returncode != 0 or missing_binaries():
        raise LabError(f"{', '.join(missing)} missing and {SYSTEM_DEPS_SCRIPT} could not install them "
                       f"(exit {completed.returncode}): {completed.stderr.strip()[-2000:]}")
