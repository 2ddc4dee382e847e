#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: apache_stapling_plan
short_description: Decide where Apache httpd staples, from its virtual hosts and their certificates
version_added: 0.1.0
description:
  - Internal helper of the C(apache_stapling) role; pure computation, reads and changes nothing.
  - V(global) puts C(SSLUseStapling on) in server context, right when every TLS virtual host's
    certificate names an OCSP responder. V(vhost) includes it, through one marked line, in exactly
    the virtual hosts that can staple, so that Apache logs no AH02218 for the others.
    V(auto) picks V(global) when it can and V(vhost) when it must.
options:
  vhosts:
    description: RV(tlsops.ocsp.apache_config_info#module:vhosts).
    type: list
    elements: dict
    required: true
  certificates:
    description: RV(tlsops.ocsp.certificate_info#module:certificates) of the files the virtual hosts serve.
    type: list
    elements: dict
    default: []
  scope:
    description: Where C(SSLUseStapling on) goes.
    type: str
    choices: [auto, global, vhost]
    default: auto
  selected:
    description: Manage and report only the virtual hosts serving one of these certificate files; empty means all.
    type: list
    elements: path
    default: []
  check_host:
    description: Where to handshake with virtual hosts listening on a wildcard address.
    type: str
    default: 127.0.0.1
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.attributes.info_module
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Decide where stapling goes
  tlsops.ocsp.apache_stapling_plan:
    vhosts: "{{ apache.vhosts }}"
    certificates: "{{ inspected.certificates }}"
    scope: auto
  register: plan
"""

RETURN = r"""
scope:
  description: V(global), V(vhost), or V(none) when no TLS virtual host can staple.
  type: str
  returned: always
errors:
  description: Why the requested scope cannot be used; the role stops before touching anything.
  type: list
  elements: str
  returned: always
vhosts:
  description: The managed TLS virtual hosts, each with C(stapling_applicable), C(stapling_reason), C(must_staple).
  type: list
  elements: dict
  returned: always
include_targets:
  description: Per file, C(path) and C(after_lines) (opening lines of the virtual hosts that staple) for config_include.
  type: list
  elements: dict
  returned: always
vhost_files:
  description: Every file holding a virtual host Apache serves.
  type: list
  elements: str
  returned: always
endpoints:
  description: Per TLS virtual host, C(host), C(port), C(server_name), C(certificate_path), C(stapling_applicable),
    C(stapling_reason), C(must_staple).
  type: list
  elements: dict
  returned: always
checks:
  description: RV(endpoints) reduced to what staple_info takes, in the same order.
  type: list
  elements: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsops.ocsp.plugins.module_utils.apache_config import ApacheConfigError, plan_stapling


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            vhosts=dict(type="list", elements="dict", required=True),
            certificates=dict(type="list", elements="dict", default=[]),
            scope=dict(type="str", choices=["auto", "global", "vhost"], default="auto"),
            selected=dict(type="list", elements="path", default=[]),
            check_host=dict(type="str", default="127.0.0.1"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        plan = plan_stapling(params["vhosts"], params["certificates"], params["scope"], params["selected"],
                             params["check_host"])
    except ApacheConfigError as error:
        module.fail_json(msg=str(error))
    module.exit_json(changed=False, **plan)


if __name__ == "__main__":
    main()
