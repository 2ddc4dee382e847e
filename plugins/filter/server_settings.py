# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings of every server role: the decisions live in module_utils/_servers/server_settings.py."""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping

from ansible.errors import AnsibleFilterError
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import server_settings as settings

DOCUMENTATION = r"""
name: server_settings
short_description: "Internal: settle a server role's paths, commands and plan settings"
version_added: 0.1.0
author:
  - tlsops maintainers (@tlsops)
positional: kind, os_family, service_mgr, audit, check_mode
description:
  - Builds the settings C(tlsops.ocsp.nginx_stapling), C(tlsops.ocsp.apache_stapling) and
    C(tlsops.ocsp.haproxy_stapling) work with (through the internal role C(tlsops.ocsp.stapling_phases)) from the role's
    variables and the host's OS family. Empty path variables take the OS family's packaged paths
    (Debian's for a family without its own).
  - The same code settles them on the host for the modules that audit a host in one call.
options:
  _input:
    description:
      - The role's variables by their full names (C(nginx_stapling_scope), ...), the role's defaults merged
        with the user's values.
    type: dict
    required: true
  kind:
    description: The server role.
    type: str
    choices: [nginx, apache, haproxy]
    required: true
  os_family:
    description: The host's C(ansible_facts.os_family).
    type: str
    required: true
  service_mgr:
    description: The host's C(ansible_facts.service_mgr); empty when unknown.
    type: str
    required: true
  audit:
    description: Whether the role audits (reads only) rather than configures.
    type: bool
    required: true
  check_mode:
    description: Whether the play runs in check mode (nothing is warmed up then).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Settle nginx's settings
  ansible.builtin.set_fact:
    nginx_settings: >-
      {{ dict(__names | zip(q('ansible.builtin.vars', *__names)))
         | tlsops.ocsp.server_settings('nginx', ansible_facts.os_family, ansible_facts.service_mgr, false) }}
  vars:
    __names: "{{ q('ansible.builtin.varnames', '^nginx_stapling_') }}"
"""

RETURN = r"""
_value:
  description:
    - The settings the role's plan, check and tasks read, for example C(state), C(audit), C(scope),
      C(selected), C(manage_includes), the server's paths and command, C(reload_method), C(service_mgr)
      and C(private) (a configuration the service manager does not run).
    - C(discovery) (the options of the server's discovery module), C(check) (retries, retry_delay, timeout),
      C(validate) (the command that checks the whole configuration), C(environment) and C(lock) (the name and
      wait of the lock runs that overlap take), the one mapping from the role's variables to module options.
  type: dict
"""


def server_settings(role_vars: Mapping[str, Any], kind: str, os_family: str, service_mgr: str,
                    audit: bool, check_mode: bool = False) -> Dict[str, Any]:
    """The settings the server roles' shared phases hold, from the role's variables and the host's facts."""
    try:
        return settings.server_settings(kind, role_vars, os_family, service_mgr, audit, check_mode)
    except KeyError as error:
        raise AnsibleFilterError(f"server_settings ({kind}): the role variable {error} is not set") from error
    except ValueError as error:
        raise AnsibleFilterError(f"server_settings: {error}") from error


class FilterModule:
    def filters(self) -> Dict[str, Callable[..., Any]]:
        return {"server_settings": server_settings}
