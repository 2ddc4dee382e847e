#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: config_snapshot
short_description: "Internal: remember configuration files before a change and put them back byte for byte"
version_added: 0.1.0
description:
  - Internal helper of the server roles (C(nginx_stapling), C(apache_stapling)), so that a
    configuration that fails the server's own validation (C(nginx -t), C(apache2ctl configtest))
    is undone. Backups are never written beside the files, where a glob such as
    C(sites-enabled/*) or C(IncludeOptional conf-enabled/*.conf) would make the server read them.
  - O(state=saved) reads the files (and whether each path exists) into RV(snapshot) and changes nothing.
  - O(state=restored) writes every saved file back with its bytes and mode, and removes the files
    and empty directories that did not exist when the snapshot was taken.
options:
  paths:
    description: Files and directories to remember (O(state=saved)).
    type: list
    elements: path
    default: []
  state:
    description: Take a snapshot, or restore one.
    type: str
    choices: [saved, restored]
    default: saved
  snapshot:
    description: RV(snapshot) of an earlier O(state=saved) call (O(state=restored)).
    type: dict
    default: {}
extends_documentation_fragment:
  - tlsops.ocsp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Remember the files
  tlsops.ocsp.config_snapshot:
    paths: [/etc/nginx/conf.d/stapling.conf, /etc/nginx/sites-enabled/default]
  register: before

- name: Put them back
  tlsops.ocsp.config_snapshot:
    state: restored
    snapshot: "{{ before.snapshot }}"
"""

RETURN = r"""
snapshot:
  description: Per path, C(kind) (C(file), C(directory) or C(missing)), and for files C(content) (base64), C(mode), C(uid) and C(gid).
  type: dict
  returned: O(state=saved)
restored:
  description: The paths written back or removed.
  type: list
  elements: str
  returned: O(state=restored)
"""

import base64
import os
import stat
from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule


def _remember(path: str) -> Dict[str, Any]:
    if os.path.isdir(path):
        return {"kind": "directory"}
    if not os.path.isfile(path):
        return {"kind": "missing"}
    with open(path, "rb") as handle:
        content = handle.read()
    status = os.stat(path)
    return {"kind": "file", "content": base64.b64encode(content).decode("ascii"),
            "mode": stat.S_IMODE(status.st_mode), "uid": status.st_uid, "gid": status.st_gid}


def _put_back(module: AnsibleModule, path: str, saved: Dict[str, Any]) -> bool:
    content = base64.b64decode(saved["content"])
    if os.path.isfile(path):
        with open(path, "rb") as handle:
            if handle.read() == content and stat.S_IMODE(os.stat(path).st_mode) == saved["mode"]:
                return False
    if not module.check_mode:
        temp_path = "%s.tlsops-ocsp-restore.%d" % (path, os.getpid())
        with open(temp_path, "wb") as handle:
            handle.write(content)
        os.chmod(temp_path, saved["mode"])
        if os.geteuid() == 0:
            os.chown(temp_path, saved["uid"], saved["gid"])
        os.replace(temp_path, path)
    return True


def _remove_new(module: AnsibleModule, path: str) -> bool:
    if os.path.isfile(path) or os.path.islink(path):
        if not module.check_mode:
            os.unlink(path)
        return True
    if os.path.isdir(path) and not os.listdir(path):
        if not module.check_mode:
            os.rmdir(path)
        return True
    return False


def _restore(module: AnsibleModule, snapshot: Dict[str, Dict[str, Any]]) -> List[str]:
    restored = [path for path, saved in snapshot.items()
                if saved["kind"] == "file" and _put_back(module, path, saved)]
    # files before directories, deepest first, so a new directory is empty when its turn comes
    new_paths = sorted((path for path, saved in snapshot.items() if saved["kind"] == "missing"),
                       key=lambda path: (os.path.isdir(path), -path.count("/")))
    return restored + [path for path in new_paths if _remove_new(module, path)]


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path", default=[]),
            state=dict(type="str", choices=["saved", "restored"], default="saved"),
            snapshot=dict(type="dict", default={}),
        ),
        supports_check_mode=True,
    )
    if module.params["state"] == "saved":
        module.exit_json(changed=False, snapshot={path: _remember(path) for path in module.params["paths"]})
    try:
        restored = _restore(module, module.params["snapshot"])
    except OSError as error:
        module.fail_json(msg="restoring %s failed: %s; restore it by hand before reloading the server"
                         % (error.filename, error.strerror))
    module.exit_json(changed=bool(restored), restored=restored)


if __name__ == "__main__":
    main()
