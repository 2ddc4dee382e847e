# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The server roles' own files, read on the controller for plugins that act for a role without including it.

The stapling role's audit (the action plugin of tlsops.ocsp.stapling_audit_info) includes no server role, so
Ansible loads none of their defaults. It needs, per server kind, what including the role would give:

- ``roles/<kind>_stapling/defaults/main.yml``: the role's variables and their defaults;
- ``roles/<kind>_stapling/meta/argument_specs.yml``: the options of an entry point (``audit``), to check the
  host's values the way the role's own argument validation would.

This module is the one place that knows where those files are; a role's layout change is made here.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Tuple

import yaml

ROLES_DIR = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "roles"))
# libyaml where PyYAML has it: each host's worker process reads the roles' files
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return yaml.load(handle, Loader=LOADER)


def role_dir(kind: str) -> str:
    """The directory of the server role of `kind` (nginx -> roles/nginx_stapling)."""
    return os.path.join(ROLES_DIR, "%s_stapling" % kind)


def role_defaults(kind: str) -> Dict[str, Any]:
    """The server role's defaults (defaults/main.yml), by their full names."""
    return _load(os.path.join(role_dir(kind), "defaults", "main.yml")) or {}


def entry_point_options(kind: str, entry_point: str) -> Dict[str, Any]:
    """The options of one entry point of the server role's argument specification (meta/argument_specs.yml)."""
    return _load(os.path.join(role_dir(kind), "meta", "argument_specs.yml"))["argument_specs"][entry_point]["options"]


def role_files(kind: str, entry_point: str = "audit") -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(defaults, the entry point's options) of the server role of `kind`."""
    return role_defaults(kind), entry_point_options(kind, entry_point)
