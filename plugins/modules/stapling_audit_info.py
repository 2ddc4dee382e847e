#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: stapling_audit_info
short_description: "Internal: audit every web server of a host in one read-only call"
version_added: 0.1.0
description:
  - Internal helper of the C(stapling) role's audit (C(stapling_action=audit) on Linux hosts); its options
    and results may change between minor releases.
  - Finds the running web servers (as M(tlsops.ocsp.server_facts) does) unless O(servers) names them, and
    for each one settles the server role's settings from its variables, discovers what the server serves,
    inspects the certificates, plans stapling and checks every endpoint, as the server role's own C(audit)
    tasks do with M(tlsops.ocsp.nginx_config_info), M(tlsops.ocsp.apache_config_info) or
    M(tlsops.ocsp.haproxy_config_info) and their O(tlsops.ocsp.nginx_config_info#module:check) option.
    One round trip per host, where the role made one per server and phase.
  - Its action plugin, on the controller, reads each server role's defaults and the host's values of
    its variables, checks them against the role's argument specification, and passes them in
    O(role_vars).
  - Changes nothing. A bad staple or a revoked certificate is a result, not a failure; a server whose
    configuration cannot be read is one too (RV(unreadable), with the server's message), and the host's
    other servers are still audited.
options:
  servers:
    description:
      - The servers to audit. Empty finds the running ones.
    type: list
    elements: str
    choices: [nginx, apache, haproxy]
    default: []
  role_vars:
    description:
      - Per server kind (C(nginx), C(apache), C(haproxy)), the variables of its role (C(nginx_stapling_*),
        ...), defaults included. The action plugin fills it; given values win.
    type: dict
    default: {}
  os_family:
    description:
      - The host's OS family, which picks the roles' default paths. Empty reads it from C(/etc/os-release)
        (C(RedHat) for RHEL-like systems, C(Debian) paths for any other).
    type: str
    default: ""
  service_mgr:
    description: The host's service manager, as the settings of the roles record it.
    type: str
    default: ""
  host:
    description: The name every endpoint entry carries as C(inventory_host), and the summary as C(host).
    type: str
    required: true
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.attributes.info_module
requirements:
  - cryptography >= 3.4.8
  - pyOpenSSL >= 21.0.0
seealso:
  - module: tlsops.ocsp.server_facts
  - module: tlsops.ocsp.nginx_config_info
  - module: tlsops.ocsp.audit_report
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Audit every web server of the host in one read-only call
  tlsops.ocsp.stapling_audit_info:
    host: "{{ inventory_hostname }}"
  register: audit

- name: Audit nginx only, with a private instance's paths
  tlsops.ocsp.stapling_audit_info:
    host: "{{ inventory_hostname }}"
    servers: [nginx]
    role_vars:
      nginx:
        nginx_stapling_prefix: /srv/nginx
"""

RETURN = r"""
servers:
  description: The servers audited (given or found running), sorted.
  type: list
  elements: str
  returned: always
  sample: [nginx]
endpoints:
  description:
    - Every endpoint entry of every server, as the server roles record them (C(nginx_stapling_endpoints),
      ...), each with C(inventory_host).
  type: list
  elements: dict
  returned: always
summary:
  description: The C(stapling) role's C(stapling_summary) of the host.
  type: dict
  returned: always
  sample: {host: web1, servers: [nginx], endpoints: 4, verdicts: {good: 3, no_ocsp_url: 1}, changed: false}
unreadable:
  description:
    - The servers whose configuration could not be read, each with C(host), C(server), C(state) (V(unreadable))
      and C(reason) (the server's own message), as M(tlsops.ocsp.audit_report)'s O(tlsops.ocsp.audit_report#module:not_audited)
      takes them.
  type: list
  elements: dict
  returned: always
  sample: [{host: web1, server: nginx, state: unreadable, reason: "nginx -T failed: unknown directive \"sll\""}]
lines:
  description: The host's summary line, then one line per endpoint.
  type: list
  elements: str
  returned: always
"""

import os
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Mapping

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import os_family
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import server_settings
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import stapling_report
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.check_glue import server_params
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.server_processes import running_servers

KINDS = ("nginx", "apache", "haproxy")


def discovery_of(kind: str) -> Any:
    """The discovery of one kind, imported only when that server is audited (each import costs host CPU)."""
    if kind == "nginx":
        from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx import discovery
    elif kind == "apache":
        from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache import discovery
    else:
        from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import discovery
    return discovery


@contextmanager
def environment(values: Mapping[str, Any]) -> Iterator[None]:
    """The role's environment for the server's commands (apache_stapling_environment: APACHE_CONFDIR, ...)."""
    saved = dict(os.environ)
    os.environ.update({name: str(value) for name, value in values.items()})
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class ServerUnreadable(Exception):
    """One server's configuration could not be read: its discovery's message."""


class OneServer:
    """The module as one server's discovery sees it: its fail_json ends that server's audit, not the host's, so
    the host's other servers are still audited."""

    def __init__(self, module: AnsibleModule) -> None:
        self._module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)

    def fail_json(self, msg: str, **unused: Any) -> None:
        raise ServerUnreadable(msg)


def audit_server(module: AnsibleModule, kind: str, role_vars: Mapping[str, Any], family: str) -> Dict[str, Any]:
    """The server role's report (endpoints, summary lines) of one server: settle, discover, plan, check."""
    settings = server_settings.server_settings(kind, role_vars, family, module.params["service_mgr"], True)
    check = dict(server_settings.check_options(kind, role_vars, module.check_mode), settings=settings)
    discovery = discovery_of(kind)
    given = dict(server_settings.discovery_options(kind, role_vars, settings), check=check)
    params = server_params(module, discovery.ARGUMENT_SPEC, given, "role_vars.%s." % kind)
    with environment(role_vars.get("%s_stapling_environment" % kind) or {}):
        found = discovery.discover(OneServer(module), params)
    for warning in found.get("warnings", []):  # no TLS served, certificate files that cannot be read
        module.warn(warning)
    checked = found["checked"]
    return stapling_report.stapling_report(found["plan"]["endpoints"], checked["endpoints"], False, kind,
                                           checked["responders"], checked["crls"])


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            servers=dict(type="list", elements="str", choices=list(KINDS), default=[]),
            role_vars=dict(type="dict", default={}),
            os_family=dict(type="str", default=""),
            service_mgr=dict(type="str", default=""),
            host=dict(type="str", required=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    servers: List[str] = sorted(set(params["servers"]))
    if not servers:
        # the kinds of server_processes.SERVER_KINDS: the ones this module audits
        servers, _programs = running_servers(module, "name the servers in the servers option instead")
    missing = [kind for kind in servers if not isinstance(params["role_vars"].get(kind), dict)]
    if missing:
        module.fail_json(msg="role_vars has no variables for %s; pass each audited server's role variables "
                             "(the action plugin fills them from the roles' defaults)" % ", ".join(missing))
    family = params["os_family"] or os_family.read_os_family()
    endpoints: List[Dict[str, Any]] = []
    lines: List[str] = []
    unreadable: List[Dict[str, str]] = []
    for kind in servers:
        try:
            report = audit_server(module, kind, params["role_vars"][kind], family)
        except ServerUnreadable as error:
            unreadable.append({"host": params["host"], "server": kind, "state": "unreadable", "reason": str(error)})
            lines.append("%s could not be read: %s" % (kind, error))
            continue
        endpoints += [dict(entry, inventory_host=params["host"]) for entry in report["endpoints"]]
        lines += report["summary"]
    summary = stapling_report.host_summary(params["host"], servers, endpoints)
    module.exit_json(changed=False, servers=servers, endpoints=endpoints, summary=summary, unreadable=unreadable,
                     lines=[stapling_report.host_summary_line(summary)] + lines)


if __name__ == "__main__":
    main()
