# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a file a role owns the way ansible.builtin.copy would, inside a module call of our own.

A `copy` task is several round trips over SSH (a temporary directory, a stat,
the transfer, the module, the clean-up); a module that assembles or holds the
content writes it itself with these helpers: atomically (a temporary file in
the same directory, renamed over the old one by `atomic_move`, which keeps an
existing file's owner and group), only when the bytes or the mode differ, with
check and diff mode.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Dict, Optional

from ansible.module_utils.basic import AnsibleModule

# surrogateescape keeps every byte of files that are not valid UTF-8
ENCODING = "utf-8"
ERRORS = "surrogateescape"


def read_current(module: AnsibleModule, path: str) -> Optional[bytes]:
    """The bytes at path now, or None when there is no file."""
    if not os.path.lexists(path):
        return None
    if not os.path.isfile(path):
        module.fail_json(msg=f"{path}: exists but is not a regular file; remove it or choose another path")
    with open(path, "rb") as handle:
        return handle.read()


def require_directory(module: AnsibleModule, path: str) -> str:
    """The directory path goes in; fail naming both when it is not there."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        module.fail_json(msg=f"{path}: the directory {directory} does not exist; create it first")
    return directory


def write_atomic(module: AnsibleModule, path: str, data: bytes) -> None:
    """Replace path with data in one rename; its directory must exist."""
    directory = require_directory(module, path)
    handle, temp_path = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.tlsops-ocsp.")
    with os.fdopen(handle, "wb") as temp:
        temp.write(data)
    module.atomic_move(temp_path, path)


def diff_entry(path: str, before: Optional[bytes], after: Optional[bytes]) -> Dict[str, str]:
    """One entry of a module's diff: the text before and after (empty where there is no file)."""
    return dict(before=(before or b"").decode(ENCODING, ERRORS), after=(after or b"").decode(ENCODING, ERRORS),
                before_header=path, after_header=path)


def install(module: AnsibleModule, path: str, data: bytes, mode: Any) -> Dict[str, Any]:
    """Make path hold data with mode (not in check mode): {changed, diff} (diff only in diff mode)."""
    before = read_current(module, path)
    changed = before != data
    if changed and not module.check_mode:
        write_atomic(module, path, data)
    if os.path.exists(path):  # in check mode a new file is not there
        changed = module.set_mode_if_different(path, mode, changed)
    result: Dict[str, Any] = dict(changed=changed)
    if module._diff:
        result["diff"] = diff_entry(path, before, data)
    return result
