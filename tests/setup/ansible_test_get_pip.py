# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip script that ansible-test downloads.

ansible-test bootstraps pip into every virtual environment it makes with a
get-pip script fetched from a host this machine cannot reach. `make sanity`
saves this file in ansible-test's cache under that script's name instead: it
installs the pip bundled with Python (ensurepip), then lets that pip install
the exact packages ansible-test asked for from the configured package index.
"""

from __future__ import annotations

import subprocess
import sys

# Options that only the real get-pip script understands.
GET_PIP_ONLY_OPTIONS = frozenset(("--no-setuptools", "--no-wheel"))


def main(arguments: list[str]) -> int:
    """Install pip, then pip-install the requested packages; return the exit code."""
    subprocess.run([sys.executable, "-m", "ensurepip", "--default-pip"], check=True, stdout=subprocess.DEVNULL)
    pip_arguments = [argument for argument in arguments if argument not in GET_PIP_ONLY_OPTIONS]
    return subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *pip_arguments], check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
