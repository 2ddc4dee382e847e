# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run ansible against this checkout: the collection path and the environment.

The checkout is made visible as `ansible_collections.tlsops.ocsp` through a
symlink in a directory outside the tree (ansible-lint and sanity never walk
into it). Used by tests/conftest.py, the demo and the benchmarks.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def collections_path() -> Path:
    """A directory holding ansible_collections/tlsops/ocsp -> this checkout (made once, atomically)."""
    digest = hashlib.sha256(str(REPO_ROOT).encode()).hexdigest()[:12]
    base = Path(tempfile.gettempdir()) / f"tlsops-ocsp-collections-{digest}"
    namespace = base / "ansible_collections" / "tlsops"
    namespace.mkdir(parents=True, exist_ok=True)
    link = namespace / "ocsp"
    if not (link.is_symlink() and Path(os.readlink(link)) == REPO_ROOT):
        tmp_link = namespace / f".ocsp.{os.getpid()}"
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(REPO_ROOT, target_is_directory=True)
        tmp_link.replace(link)  # atomic, so parallel runs never see a missing link
    return base


def environment(home: Path, **extra: str) -> dict[str, str]:
    """os.environ plus what ansible needs to run this checkout with this interpreter, quietly and offline."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path()),
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_LOCAL_TEMP": str(home / "local"),
        "ANSIBLE_REMOTE_TEMP": str(home / "remote"),
        "ANSIBLE_HOME": str(home),
        "ANSIBLE_HOST_KEY_CHECKING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_DEPRECATION_WARNINGS": "False",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    })
    env.update(extra)
    return env
