#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: config_include
short_description: "Internal: keep one marked include line right after chosen block-opening lines"
version_added: 0.1.0
description:
  - Internal helper of the C(nginx_stapling) and C(apache_stapling) roles.
  - With O(state=present) a file ends up with O(line) right after each opening line listed in
    its C(after_lines) (indented like the block's first directive) and nowhere else.
  - With O(state=absent) every line whose stripped text equals O(line) is removed, so a file
    returns to its bytes from before the role.
  - Edits one file (O(path)) or several in one call (O(targets), O(paths)). Every file is read and
    checked before any is written, so a bad line number in one file leaves all of them as they were.
  - Never reorders or rewrites any other line; keeps the file's line endings, owner and mode.
options:
  path:
    description:
      - The configuration file to edit.
      - Exactly one of O(path), O(targets) and O(paths) is required.
    type: path
  after_lines:
    description:
      - 1-based numbers of block-opening lines (C(server {), C(<VirtualHost *:443>)) of O(path) as
        the file is now. Required with O(path) and O(state=present).
    type: list
    elements: int
    default: []
  targets:
    description:
      - Several files to edit in one call, each with its own opening lines; the same O(line) and
        O(state) apply to each. The paths must differ.
    type: list
    elements: dict
    suboptions:
      path:
        description: The configuration file to edit.
        type: path
        required: true
      after_lines:
        description:
          - 1-based numbers of its block-opening lines as the file is now. Required with
            O(state=present); ignored with O(state=absent).
        type: list
        elements: int
        default: []
  paths:
    description:
      - Several files to take O(line) out of in one call. Only with O(state=absent).
    type: list
    elements: path
  line:
    description: The whole include line; its stripped text is its identity.
    type: str
    required: true
  state:
    description:
      - Whether the line should be present after the opening lines or absent everywhere.
      - A missing file is an error with V(present) and nothing to do with V(absent).
    type: str
    choices: [present, absent]
    default: present
  backup:
    description: Keep a timestamped copy of each original file beside it when it changes.
    type: bool
    default: false
extends_documentation_fragment:
  - tlsops.ocsp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - One diff per file that changes (with O(path), one diff for that file even when it does not change).
  platform:
    support: full
    platforms: posix
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Include the stapling snippet in two server blocks
  tlsops.ocsp.config_include:
    path: /etc/nginx/sites-enabled/example.conf
    line: "include /etc/nginx/tlsops-ocsp/stapling-server.conf;"
    after_lines: [12, 40]

- name: Include it in the server blocks of several files in one call
  tlsops.ocsp.config_include:
    targets:
      - path: /etc/nginx/sites-enabled/example.conf
        after_lines: [12, 40]
      - path: /etc/nginx/sites-enabled/shop.conf
        after_lines: [3]
    line: "include /etc/nginx/tlsops-ocsp/stapling-server.conf;"
  register: included

- name: Show which files changed
  ansible.builtin.debug:
    msg: "{{ included.files | selectattr('changed') | map(attribute='path') | list }}"

- name: Take the include lines out of several files
  tlsops.ocsp.config_include:
    paths:
      - /etc/nginx/sites-enabled/example.conf
      - /etc/nginx/sites-enabled/shop.conf
    line: "include /etc/nginx/tlsops-ocsp/stapling-server.conf;"
    state: absent
"""

RETURN = r"""
added:
  description: 1-based numbers of the added lines in the new file.
  type: list
  elements: int
  returned: when O(path) is given
removed:
  description: 1-based numbers of the removed lines in the old file.
  type: list
  elements: int
  returned: when O(path) is given
backup_file:
  description: Where the original was copied to.
  type: str
  returned: when O(path) is given, O(backup=true) and the file changed
files:
  description: One entry per file, in the order given.
  type: list
  elements: dict
  returned: always
  contains:
    path:
      description: The file.
      type: str
    changed:
      description: Whether the file changed (or would change, in check mode).
      type: bool
    added:
      description: 1-based numbers of the added lines in the new file.
      type: list
      elements: int
    removed:
      description: 1-based numbers of the removed lines in the old file.
      type: list
      elements: int
    backup_file:
      description: Where the original was copied to, when O(backup=true) and the file changed.
      type: str
      returned: when O(backup=true) and the file changed
  sample:
    - path: /etc/nginx/sites-enabled/example.conf
      changed: true
      added: [13, 42]
      removed: []
"""

import os
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.config_include import (
    ConfigEditError,
    EditResult,
    ensure_lines,
    remove_lines,
)
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.file_install import ENCODING, ERRORS, write_atomic


def _read(path: str) -> str:
    with open(path, "rb") as handle:
        return handle.read().decode(ENCODING, ERRORS)


def _targets(module: AnsibleModule) -> List[Tuple[str, List[int]]]:
    """(path, after_lines) for every file to edit, in the order given."""
    params = module.params
    if params["path"] is not None:
        return [(params["path"], params["after_lines"])]
    if params["paths"] is not None:
        if params["state"] == "present":
            module.fail_json(msg="paths is only for state=absent; to add the line, give targets "
                                 "(each file with its after_lines)")
        targets = [(path, []) for path in params["paths"]]
    else:
        targets = [(target["path"], target["after_lines"]) for target in params["targets"]]
    seen = set()
    for path, _lines in targets:
        if path in seen:
            module.fail_json(msg=f"{path}: given twice; give each file once, with all its after_lines")
        seen.add(path)
    return targets


def _edit(module: AnsibleModule, path: str, after_lines: List[int], text: str) -> EditResult:
    params = module.params
    if params["state"] == "absent":
        return remove_lines(text, params["line"])
    if not after_lines:
        module.fail_json(msg=f"{path}: state=present needs after_lines (the block-opening line numbers)")
    try:
        return ensure_lines(text, params["line"], after_lines, source=path)
    except ConfigEditError as error:
        module.fail_json(msg=str(error))
    raise AssertionError("fail_json returned")  # for type checkers: fail_json never returns


def _planned(module: AnsibleModule, path: str, after_lines: List[int]) -> Optional[Tuple[str, EditResult]]:
    """(the file's text now, the edit), or None for a missing file that state=absent leaves alone."""
    if not os.path.isfile(path):
        if module.params["state"] == "absent":
            return None
        module.fail_json(msg=f"{path}: no such file; the include line can only go into an existing file")
    before = _read(path)
    return before, _edit(module, path, after_lines, before)


def _apply(module: AnsibleModule, path: str, result: EditResult) -> Dict[str, Any]:
    """Write one planned edit (not in check mode); its entry in the module's `files`."""
    entry: Dict[str, Any] = dict(path=path, changed=result.changed, added=result.added, removed=result.removed)
    if result.changed and not module.check_mode:
        if module.params["backup"]:
            entry["backup_file"] = module.backup_local(path)
        write_atomic(module, path, result.text.encode(ENCODING, ERRORS))
    return entry


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path"),
            after_lines=dict(type="list", elements="int", default=[]),
            targets=dict(type="list", elements="dict", options=dict(
                path=dict(type="path", required=True),
                after_lines=dict(type="list", elements="int", default=[]),
            )),
            paths=dict(type="list", elements="path"),
            line=dict(type="str", required=True),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            backup=dict(type="bool", default=False),
        ),
        mutually_exclusive=[["path", "targets", "paths"], ["after_lines", "targets"], ["after_lines", "paths"]],
        required_one_of=[["path", "targets", "paths"]],
        supports_check_mode=True,
    )
    single = module.params["path"] is not None
    # read and check every file before writing any
    planned = [(path, _planned(module, path, after_lines)) for path, after_lines in _targets(module)]
    files = []
    diffs = []  # with path: that file's, even unchanged; with several files: the changed ones
    for path, edit in planned:
        if edit is None:
            files.append(dict(path=path, changed=False, added=[], removed=[]))
            continue
        before, result = edit
        files.append(_apply(module, path, result))
        if single or result.changed:
            diffs.append(dict(before=before, after=result.text, before_header=path, after_header=path))
    output: Dict[str, Any] = dict(changed=any(entry["changed"] for entry in files), files=files)
    if single:
        output.update({key: value for key, value in files[0].items() if key not in ("path", "changed")})
    if module._diff and diffs:
        output["diff"] = diffs[0] if single else diffs
    module.exit_json(**output)


if __name__ == "__main__":
    main()
