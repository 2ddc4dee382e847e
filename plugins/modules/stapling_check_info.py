#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: stapling_check_info
short_description: "Internal: check every endpoint of a stapling plan in one call"
version_added: 0.1.0
description:
  - Internal helper of the server roles' check phase (C(nginx_stapling), C(apache_stapling),
    C(haproxy_stapling)); its options and results may change between minor releases.
  - Handshakes with every endpoint and verifies its staple as M(tlsops.ocsp.staple_info) does; where an
    endpoint whose certificate has an OCSP URL staples nothing (or cannot be reached), asks the OCSP
    responder from this host as M(tlsops.ocsp.responder_info) does, to say why; asks the CRL once per
    certificate file without an OCSP URL, as M(tlsops.ocsp.crl_info) does. One round trip where the role
    made one per module.
  - A bad staple, an unanswered responder or a missing CRL is a result, not a module failure.
options:
  endpoints:
    description:
      - The plan's endpoints (the C(endpoints) of the C(tlsops.ocsp.stapling_plan) filter's result).
      - >-
        Each has C(host), C(port), C(server_name) (the SNI; none when null), C(certificate_path) (the file
        the endpoint serves, leaf first, then its chain) and C(stapling_applicable) (whether the
        certificate names an OCSP responder, so that a staple is expected); other keys are ignored.
    type: list
    elements: dict
    required: true
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.attributes.info_module
  - tlsops.ocsp.stapling_check.check_options
requirements:
  - cryptography >= 3.4.8
  - pyOpenSSL >= 21.0.0
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Check the endpoints the plan names
  tlsops.ocsp.stapling_check_info:
    endpoints: "{{ plan.endpoints }}"
    retries: 15
  register: checked
"""

RETURN = r"""
endpoints:
  description: One entry per endpoint, in the given order, as M(tlsops.ocsp.staple_info) returns it.
  type: list
  elements: dict
  returned: always
responders:
  description:
    - One entry per endpoint, as M(tlsops.ocsp.responder_info) returns it where the endpoint should staple
      but stapled nothing (C(skipped) elsewhere; C(failed) and C(msg) when the certificate file cannot be
      read or lacks its issuer).
  type: list
  elements: dict
  returned: always
crls:
  description:
    - One entry per certificate file without OCSP URL, as M(tlsops.ocsp.crl_info) returns it, with the
      file's path in C(item).
  type: list
  elements: dict
  returned: always
diagnoses:
  description:
    - One entry per endpoint, in the given order, saying why an endpoint that should staple staples nothing
      (C(skipped) elsewhere, and where the endpoint carries no C(diagnosis) hint of a server role's plan).
    - C(cause) (for example C(trusted_without_root), C(first_url_dead), C(responder_unreachable),
      C(no_resolver), C(issuer_not_served), C(not_fetched_yet)), C(sentence), C(remedy) naming the file,
      directive, URL or host to change, C(evidence) (the server's own error log lines since its workers
      started), C(settled) (whether the evidence and the engine agree) and C(fetch_due) (whether a fresh
      fetch by the server could help).
  type: list
  elements: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.check_glue import CHECK_OPTIONS, check_endpoints

REQUIRED_KEYS = ("host", "port", "server_name", "certificate_path", "stapling_applicable")


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            CHECK_OPTIONS,
            endpoints={"type": "list", "elements": "dict", "required": True},
        ),
        supports_check_mode=True,
    )
    endpoints = module.params["endpoints"]
    for index, endpoint in enumerate(endpoints):
        missing = [key for key in REQUIRED_KEYS if key not in endpoint]
        if missing:
            module.fail_json(msg="endpoints[%d] has no %s; pass the endpoints of the stapling plan"
                                 % (index, ", ".join(missing)))
    module.exit_json(changed=False, **check_endpoints(module, endpoints, module.params))


if __name__ == "__main__":
    main()
