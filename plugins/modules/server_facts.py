#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: server_facts
short_description: "Internal: the facts the stapling roles read and the web servers running, in one light call"
version_added: 0.1.0
description:
  - Internal helper of the C(stapling) role and the server roles (C(nginx_stapling), C(apache_stapling),
    C(haproxy_stapling)). One round trip replaces C(ansible.builtin.setup) with C(gather_subset=min)
    followed by C(ps).
  - Sets the facts C(os_family), C(service_mgr) and C(python), computed by ansible-core's own fact
    collectors (platform, distribution, service manager, Python), so they are what
    C(ansible.builtin.setup) gives.
  - Lists the web servers running on the host from the process names in C(/proc/<pid>/comm), or from
    C(ps -e -o comm=) where C(/proc) cannot be read.
options:
  detect_servers:
    description: Look for running web servers. V(false) returns the facts only.
    type: bool
    default: true
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.attributes.info_module
notes:
  - Runs on Linux and other POSIX hosts; Windows hosts need C(ansible.builtin.setup).
seealso:
  - module: ansible.builtin.setup
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Read the OS family, service manager, Python and the running web servers
  tlsops.ocsp.server_facts:
  register: host

- name: Show the servers found
  ansible.builtin.debug:
    msg: "{{ ansible_facts.os_family }} ({{ ansible_facts.service_mgr }}) runs {{ host.servers }}"

- name: The facts only
  tlsops.ocsp.server_facts:
    detect_servers: false
"""

RETURN = r"""
ansible_facts:
  description: The facts, as C(ansible.builtin.setup) names them.
  returned: always
  type: dict
  contains:
    ansible_os_family:
      description: The OS family (C(Debian), C(RedHat), ...).
      type: str
      sample: Debian
    ansible_service_mgr:
      description: The service manager (C(systemd), C(sysvinit), C(service), ...).
      type: str
      sample: systemd
    ansible_python:
      description: The Python that runs the modules (C(executable), C(version), C(version_info), C(type), C(has_sslcontext)).
      type: dict
      sample: {executable: /usr/bin/python3, type: cpython, has_sslcontext: true}
servers:
  description: The server kinds running, sorted (C(nginx); C(apache) for C(apache2) or C(httpd); C(haproxy)).
  returned: always (empty with O(detect_servers=false))
  type: list
  elements: str
  sample: [apache, nginx]
programs:
  description: The process names that made RV(servers), sorted.
  returned: always (empty with O(detect_servers=false))
  type: list
  elements: str
  sample: [apache2, nginx]
"""

from typing import Any, Dict, List

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.facts.namespace import PrefixFactNamespace
from ansible.module_utils.facts.system.distribution import DistributionFactCollector
from ansible.module_utils.facts.system.platform import PlatformFactCollector
from ansible.module_utils.facts.system.python import PythonFactCollector
from ansible.module_utils.facts.system.service_mgr import ServiceMgrFactCollector

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.server_processes import running_servers

# in the order setup runs them: the service manager collector reads the platform and distribution facts
COLLECTORS = (PlatformFactCollector, DistributionFactCollector, ServiceMgrFactCollector, PythonFactCollector)
RETURNED_FACTS = ("ansible_os_family", "ansible_service_mgr", "ansible_python")


def collect_facts(module: AnsibleModule) -> Dict[str, Any]:
    namespace = PrefixFactNamespace(namespace_name="ansible", prefix="ansible_")
    collected: Dict[str, Any] = {}
    for collector_class in COLLECTORS:
        collected.update(collector_class(namespace=namespace).collect_with_namespace(
            module=module, collected_facts=collected))
    return {name: collected[name] for name in RETURNED_FACTS}


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(detect_servers=dict(type="bool", default=True)),
        supports_check_mode=True,
    )
    servers: List[str] = []
    programs: List[str] = []
    if module.params["detect_servers"]:
        servers, programs = running_servers(module, "pass detect_servers=false and name the servers yourself")
    module.exit_json(changed=False, ansible_facts=collect_facts(module), servers=servers, programs=programs)


if __name__ == "__main__":
    main()
