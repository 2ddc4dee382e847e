#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: config_include
short_description: "Internal: keep one marked include line right after chosen block-opening lines"
version_added: 0.1.0
description:
  - Internal helper of the C(nginx_stapling) and C(apache_stapling) roles.
  - With O(state=present) the file ends up with O(line) right after each opening line listed in
    O(after_lines) (indented like the block's first directive) and nowhere else.
  - With O(state=absent) every line whose stripped text equals O(line) is removed, so a file
    returns to its bytes from before the role.
  - Never reorders or rewrites any other line; keeps the file's line endings, owner and mode.
options:
  path:
    description: The configuration file to edit.
    type: path
    required: true
  line:
    description: The whole include line; its stripped text is its identity.
    type: str
    required: true
  after_lines:
    description:
      - 1-based numbers of block-opening lines (C(server {), C(<VirtualHost *:443>)) as the file
        is now. Required with O(state=present).
    type: list
    elements: int
    default: []
  state:
    description: Whether the line should be present after the opening lines or absent everywhere.
    type: str
    choices: [present, absent]
    default: present
  backup:
    description: Keep a timestamped copy of the original file beside it when it changes.
    type: bool
    default: false
extends_documentation_fragment:
  - tlsops.ocsp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
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

- name: Take the include lines out again
  tlsops.ocsp.config_include:
    path: /etc/nginx/sites-enabled/example.conf
    line: "include /etc/nginx/tlsops-ocsp/stapling-server.conf;"
    state: absent
"""

RETURN = r"""
added:
  description: 1-based numbers of the added lines in the new file.
  type: list
  elements: int
  returned: always
removed:
  description: 1-based numbers of the removed lines in the old file.
  type: list
  elements: int
  returned: always
backup_file:
  description: Where the original was copied to.
  type: str
  returned: when O(backup=true) and the file changed
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsops.ocsp.plugins.module_utils.config_edit import (
    ConfigEditError,
    EditResult,
    ensure_lines,
    remove_lines,
)

# surrogateescape keeps every byte of files that are not valid UTF-8
ENCODING = "utf-8"
ERRORS = "surrogateescape"


def _read(path: str) -> str:
    with open(path, "rb") as handle:
        return handle.read().decode(ENCODING, ERRORS)


def _write(module: AnsibleModule, path: str, text: str) -> None:
    directory = os.path.dirname(path) or "."
    temp_path = os.path.join(directory, f".{os.path.basename(path)}.tlsops-ocsp.{os.getpid()}")
    with open(temp_path, "wb") as handle:
        handle.write(text.encode(ENCODING, ERRORS))
    module.atomic_move(temp_path, path, unsafe_writes=module.params.get("unsafe_writes", False))


def _edit(module: AnsibleModule, path: str, text: str) -> EditResult:
    params = module.params
    if params["state"] == "absent":
        return remove_lines(text, params["line"])
    if not params["after_lines"]:
        module.fail_json(msg=f"{path}: state=present needs after_lines (the block-opening line numbers)")
    try:
        return ensure_lines(text, params["line"], params["after_lines"], source=path)
    except ConfigEditError as error:
        module.fail_json(msg=str(error))
    raise AssertionError("fail_json returned")  # for type checkers: fail_json never returns


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            line=dict(type="str", required=True),
            after_lines=dict(type="list", elements="int", default=[]),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            backup=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    if not os.path.isfile(path):
        if module.params["state"] == "absent":
            module.exit_json(changed=False, added=[], removed=[])
        module.fail_json(msg=f"{path}: no such file; the include line can only go into an existing file")
    before = _read(path)
    result = _edit(module, path, before)
    output = dict(changed=result.changed, added=result.added, removed=result.removed)
    if module._diff:
        output["diff"] = dict(before=before, after=result.text,
                              before_header=path, after_header=path)
    if result.changed and not module.check_mode:
        if module.params["backup"]:
            output["backup_file"] = module.backup_local(path)
        _write(module, path, result.text)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
