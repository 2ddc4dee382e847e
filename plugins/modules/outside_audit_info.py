#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: outside_audit_info
short_description: Audit TLS endpoints you cannot log in to, from the controller
version_added: 0.1.0
description:
  - Checks endpoints that no playbook can log in to (load balancers, appliances, CDN edges, partners' sites)
    from where the module runs, usually the controller, and returns them as the fleet audit reports its own
    endpoints, so that M(tlsops.ocsp.audit_report) puts them in the same report and metrics. The playbook
    C(tlsops.ocsp.audit) runs it on the controller with C(tlsops_ocsp_outside_endpoints) and the inventory
    group C(tlsops_ocsp_outside).
  - For each endpoint, a handshake with the C(status_request) extension and SNI, and the staple verified
    against the served certificate and its issuer (from the served chain, else O(ca_path)): signature,
    signer authority, CertID, freshness, as M(tlsops.ocsp.staple_info) does.
  - Where nothing is stapled, the served certificate's OCSP responder is asked from here; where the
    certificate names no OCSP URL, its CRL is downloaded and verified. Either gives the revocation status
    (RV(endpoints[].revocation_status)). A certificate served at many endpoints is asked about once.
  - Every entry is marked as checked from outside (RV(endpoints[].checked_from), RV(endpoints[].server_kind)
    and, unless the endpoint has an inventory name, RV(endpoints[].inventory_host) are V(outside)).
  - A bad staple, a revoked certificate or an endpoint that cannot be reached is a result, not a failure.
    Endpoints that cannot be read as given fail the call, all of them named, before any is checked.
author:
  - tlsops maintainers (@tlsops)
requirements:
  - cryptography >= 3.4.8
  - pyOpenSSL >= 21.0.0
options:
  endpoints:
    description:
      - The endpoints to check. Each is a string C(host[:port][/server_name]) (an IPv6 address in
        brackets, C([2001:db8::1]:443/www.example.com); port 443 when not given; the server name sent as
        SNI defaults to the host unless that is an address), or a dictionary with C(host), C(port),
        C(server_name) and C(name) (the name its entry carries as C(inventory_host)).
    type: list
    elements: raw
    default: []
  group:
    description:
      - An inventory group whose hosts are endpoints to check from outside; their entries carry their
        inventory names. Read on the controller by the module's action plugin.
      - Each host is checked at its C(tlsops_ocsp_endpoint) (C(host[:port][/server_name])) when set, else at
        its name read the same way, its C(ansible_host) and C(ansible_port) taking the place of the address
        and port when set (the name is then the server name). C(tlsops_ocsp_server_name) sets the server name.
      - A group that is not in the inventory fails the call.
    type: str
  ca_path:
    description:
      - File with CA certificates (PEM bundle or one DER certificate) where the issuer of a served
        certificate is looked for when the endpoint does not serve it in its chain.
    type: path
  timeout:
    description: Seconds one handshake, one OCSP request or one CRL download may take.
    type: float
    default: 10
  retries:
    description: How many more handshakes to try per endpoint while it staples nothing or cannot be reached.
    type: int
    default: 0
  retry_delay:
    description: Seconds between two handshakes with the same endpoint.
    type: float
    default: 1
  tls_version:
    description: V(auto) takes what the server prefers; V(1.2) or V(1.3) pins the protocol.
    type: str
    choices: [auto, "1.2", "1.3"]
    default: auto
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.attributes.info_module
  - tlsops.ocsp.verification
notes:
  - The responders and CRL servers are asked from where the module runs, with its proxy settings: the
    endpoint's own server may reach them differently.
seealso:
  - module: tlsops.ocsp.staple_info
  - module: tlsops.ocsp.audit_report
"""

EXAMPLES = r"""
- name: Check the load balancers and a partner's site from the controller
  tlsops.ocsp.outside_audit_info:
    endpoints:
      - lb1.example.com
      - 192.0.2.10:8443/www.example.com
      - {host: edge.example.net, port: 443, server_name: shop.example.com, name: cdn-edge}
    group: appliances
  delegate_to: localhost
  run_once: true
  register: outside

- name: Put them in the fleet report beside the audited hosts' endpoints
  tlsops.ocsp.audit_report:
    endpoints: "{{ outside.endpoints }}"
    dest: /srv/reports/ocsp
  delegate_to: localhost
  run_once: true
"""

RETURN = r"""
endpoints:
  description:
    - One entry per endpoint, in the order given (the group's hosts after O(endpoints)), with the fields
      of M(tlsops.ocsp.staple_info)'s entries and those below; M(tlsops.ocsp.audit_report) takes them as
      they are.
  returned: always
  type: list
  elements: dict
  contains:
    checked_from:
      description: V(outside).
      type: str
      sample: outside
    server_kind:
      description: V(outside) (the server behind the endpoint is not known).
      type: str
      sample: outside
    inventory_host:
      description: The endpoint's inventory name, or V(outside).
      type: str
      sample: lb1.example.com
    verdict:
      description: The staple's verdict (see M(tlsops.ocsp.staple_info)).
      type: str
      sample: no_staple
    reason:
      description: Why, in words; where nothing was stapled, with what the responder said when asked from here.
      type: str
    responder_verdict:
      description: Where nothing was stapled, the verdict of the served certificate's OCSP responder.
      type: str
      returned: when the responder was asked
      sample: good
    crl_verdict:
      description: Where the certificate names no OCSP URL, the verdict of its CRL.
      type: str
      returned: when a CRL was checked
      sample: good
    revocation_status:
      description: V(good), V(revoked) or V(unknown) from the staple, else the responder, else the CRL; null
        when none of them could say.
      type: str
      sample: good
    revocation_source:
      description: V(staple), V(responder) or V(crl).
      type: str
      sample: staple
"""

import traceback
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import (
    open_url_download, open_url_fetch, read_certificates, require_libraries)

try:
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import stapling_check
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import tls
    from ansible_collections.tlsops.ocsp.plugins.module_utils._report import stapling_report
except ImportError:
    ENGINE_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    ENGINE_IMPORT_ERROR = None

DICT_KEYS = ("host", "port", "server_name", "name")


def read_endpoint(index: int, given: Any) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """(endpoint, None) or (None, what is wrong with endpoints[index])."""
    where = "endpoints[%d]" % index
    if isinstance(given, str):
        try:
            host, port, server_name = tls.parse_endpoint(given)
        except ValueError as error:
            return None, "%s: %s" % (where, error)
        return {"host": host, "port": port, "server_name": server_name, "name": None}, None
    if not isinstance(given, dict) or not isinstance(given.get("host"), str) or not given["host"]:
        return None, "%s: give a string host[:port][/server_name] or a dictionary with host" % where
    unknown = sorted(set(given) - set(DICT_KEYS))
    if unknown:
        return None, "%s: unknown keys %s; a dictionary takes %s" % (where, ", ".join(unknown), ", ".join(DICT_KEYS))
    try:
        port = int(given.get("port") or 443)
    except (TypeError, ValueError):
        port = 0
    if not 1 <= port <= 65535:
        return None, "%s: port %r is not a TCP port; give a port from 1 to 65535" % (where, given.get("port"))
    return {"host": given["host"], "port": port, "server_name": given.get("server_name"),
            "name": given.get("name")}, None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "endpoints": {"type": "list", "elements": "raw", "default": []},
            "group": {"type": "str"},  # the action plugin has turned it into endpoints
            "ca_path": {"type": "path"},
            "timeout": {"type": "float", "default": 10},
            "retries": {"type": "int", "default": 0},
            "retry_delay": {"type": "float", "default": 1},
            "tls_version": {"type": "str", "choices": ["auto", "1.2", "1.3"], "default": "auto"},
        },
        supports_check_mode=True,
    )
    require_libraries(module, ENGINE_IMPORT_ERROR, pyopenssl=True)
    params = module.params
    read = [read_endpoint(index, given) for index, given in enumerate(params["endpoints"])]
    problems: List[str] = [problem for _endpoint, problem in read if problem]
    problems += ["%s: %s is not allowed; give %s" % (option, params[option], advice)
                 for option, bad, advice in (("retries", params["retries"] < 0, "0 or more"),
                                             ("retry_delay", params["retry_delay"] < 0, "0 or more seconds"),
                                             ("timeout", params["timeout"] <= 0, "a number of seconds above 0"))
                 if bad]
    if problems:
        module.fail_json(msg="nothing was checked; fix these %d problems: %s" % (len(problems), "; ".join(problems)),
                         problems=problems)
    endpoints = [endpoint for endpoint, _problem in read if endpoint]
    ca_certs = read_certificates(module, params["ca_path"], "ca_path") if params["ca_path"] else []
    checked = stapling_check.check_outside(
        endpoints, fetch=open_url_fetch, download=open_url_download, ca_certs=ca_certs,
        retries=params["retries"], retry_delay=params["retry_delay"], timeout=params["timeout"],
        tls_version=None if params["tls_version"] == "auto" else params["tls_version"])
    entries = stapling_report.outside_entries(checked["endpoints"], checked["responders"], checked["crls"],
                                              names=[endpoint["name"] for endpoint in endpoints])
    module.exit_json(changed=False, endpoints=entries)


if __name__ == "__main__":
    main()
