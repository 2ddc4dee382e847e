#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
short_description: "Internal: write the files a server role owns and remove the ones it no longer uses, in one call"
version_added: 0.1.0
description:
  - Internal helper of the C(nginx_stapling) and C(apache_stapling) roles, in place of a loop of
    M(ansible.builtin.copy) and one of M(ansible.builtin.file), which cost several round trips per file
    over SSH; this is one.
  - Each file in O(files) is written only when its content or mode differs, atomically (a temporary
    file in the same directory, renamed over the old one); an existing file keeps its owner and group.
  - Each path in O(absent) is removed when it is there (a file or a symbolic link; never a directory).
  - Every path is checked before any is changed, so a wrong path leaves all of them as they were.
options:
  files:
    description: The files to write. Their directories must exist.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Where the file goes.
        type: path
        required: true
      content:
        description: The whole text of the file.
        type: str
        required: true
  mode:
    description:
      - The permissions of every file in O(files), in the forms M(ansible.builtin.file) takes
        (V('0644'), V(u=rw,g=r,o=r)). Required when O(files) is not empty.
    type: raw
  absent:
    description: Paths that must not exist.
    type: list
    elements: path
    default: []
extends_documentation_fragment:
  - tlsops.ocsp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - One diff per file written or removed.
  platform:
    support: full
    platforms: posix
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Write the stapling snippet and remove the drop-in of the other scope
  tlsops.ocsp.config_files:
    files:
      - path: /etc/nginx/tlsops-ocsp/stapling-server.conf
        content: "ssl_stapling on;\n"
    mode: "0644"
    absent: [/etc/nginx/conf.d/tlsops-ocsp-stapling.conf]
"""

RETURN = r"""
files:
  description: One entry per path of O(files), then of O(absent), in the order given.
  type: list
  elements: dict
  returned: always
  contains:
    path:
      description: The path.
      type: str
    state:
      description: V(file) for a path of O(files), V(absent) for one of O(absent).
      type: str
    changed:
      description: Whether it was (or, in check mode, would be) written, given its mode, or removed.
      type: bool
  sample:
    - path: /etc/nginx/tlsops-ocsp/stapling-server.conf
      state: file
      changed: true
    - path: /etc/nginx/conf.d/tlsops-ocsp-stapling.conf
      state: absent
      changed: false
"""

import os
from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.file_install import (
    ENCODING,
    ERRORS,
    diff_entry,
    install,
    read_current,
    require_directory,
)


def _check(module: AnsibleModule) -> None:
    """Fail, naming the path, before anything changes: every path given once, files into existing directories."""
    paths = [item["path"] for item in module.params["files"]] + module.params["absent"]
    for index, path in enumerate(paths):
        if path in paths[:index]:
            module.fail_json(msg=f"{path}: given twice; give each path once, in files or in absent")
        if os.path.isdir(path) and not os.path.islink(path):
            module.fail_json(msg=f"{path}: is a directory; config_files writes and removes only files")
    if not module.check_mode:  # in check mode the directory may be one the run has not made yet
        for item in module.params["files"]:
            require_directory(module, item["path"])


def _remove(module: AnsibleModule, path: str) -> Dict[str, Any]:
    """Remove path when it is there (not in check mode): {changed, diff}."""
    if not os.path.lexists(path):
        return dict(changed=False)
    before = None if os.path.islink(path) else read_current(module, path)
    if not module.check_mode:
        os.unlink(path)
    return dict(changed=True, diff=diff_entry(path, before, None))


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", default=[], options=dict(
                path=dict(type="path", required=True),
                content=dict(type="str", required=True),
            )),
            mode=dict(type="raw"),
            absent=dict(type="list", elements="path", default=[]),
        ),
        supports_check_mode=True,
    )
    if module.params["files"] and module.params["mode"] is None:
        module.fail_json(msg="mode is required with files: give the files' permissions, such as '0644'")
    _check(module)
    entries: List[Dict[str, Any]] = []
    diffs: List[Dict[str, str]] = []
    for item in module.params["files"]:
        result = install(module, item["path"], item["content"].encode(ENCODING, ERRORS), module.params["mode"])
        entries.append(dict(path=item["path"], state="file", changed=result["changed"]))
        if result["changed"] and "diff" in result:
            diffs.append(result["diff"])
    for path in module.params["absent"]:
        result = _remove(module, path)
        entries.append(dict(path=path, state="absent", changed=result["changed"]))
        if result["changed"] and module._diff:
            diffs.append(result["diff"])
    output: Dict[str, Any] = dict(changed=any(entry["changed"] for entry in entries), files=entries)
    if module._diff:
        output["diff"] = diffs
    module.exit_json(**output)


if __name__ == "__main__":
    main()
