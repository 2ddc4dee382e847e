#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: staple_info
short_description: Ask live TLS endpoints for their OCSP staple and verify it
version_added: 0.1.0
description:
  - Connects from the managed host to each endpoint with the C(status_request) extension and SNI,
    takes the OCSP response the server staples in the handshake, and verifies it against the
    certificate the server serves, with the issuer from the served chain or from O(ca_path).
  - Returns one entry per endpoint, in the order given. Many endpoints are checked concurrently
    in one call (up to 64 at once, on one event loop), each under its own O(timeout); a staple
    met at several endpoints is verified once and judged at each endpoint's own time.
  - A bad staple, a missing staple or an endpoint that cannot be reached is reported in
    RV(endpoints[].verdict), not as a module failure.
  - Servers may staple only after the first handshakes (nginx fetches the response per worker
    process, lazily); O(retries) and O(retry_delay) cover that.
author:
  - tlsops maintainers (@tlsops)
requirements:
  - cryptography >= 3.4.8
  - pyOpenSSL >= 21.0.0
options:
  host:
    description:
      - Host name or IP address of one endpoint.
      - Exactly one of O(host) and O(endpoints) is required.
    type: str
  port:
    description:
      - TCP port of O(host). V(443) when not given.
      - Only with O(host); give each entry of O(endpoints) its own port.
    type: int
  server_name:
    description:
      - The name sent as SNI to O(host), which picks the certificate on servers with several.
      - Defaults to O(host) unless that is an IP address, in which case no SNI is sent.
      - Only with O(host).
    type: str
  endpoints:
    description:
      - Several endpoints, checked concurrently.
      - Exactly one of O(host) and O(endpoints) is required.
    type: list
    elements: dict
    suboptions:
      host:
        description: Host name or IP address.
        type: str
        required: true
      port:
        description: TCP port.
        type: int
        default: 443
      server_name:
        description: The name sent as SNI; defaults to O(endpoints[].host) unless that is an IP address.
        type: str
  ca_path:
    description:
      - File with CA certificates (PEM bundle or one DER certificate) where the issuer of each
        served certificate is looked for when the server does not send it in its chain.
    type: path
  retries:
    description:
      - How many more handshakes to try per endpoint while it staples nothing or cannot be
        reached. Any other verdict is final at once.
    type: int
    default: 0
  retry_delay:
    description: Seconds to wait between two handshakes with the same endpoint.
    type: float
    default: 1
  timeout:
    description: Seconds one handshake (connection, TLS and staple) may take.
    type: float
    default: 10
  tls_version:
    description:
      - V(auto) takes whatever the server prefers (TLS 1.2 or 1.3); V(1.2) or V(1.3) pins the protocol,
        for servers that staple differently over each.
    type: str
    choices: [auto, "1.2", "1.3"]
    default: auto
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.attributes.info_module
  - tlsops.ocsp.verification
seealso:
  - module: tlsops.ocsp.responder_info
  - module: tlsops.ocsp.certificate_info
"""

EXAMPLES = r"""
- name: Check the staple of one site, giving nginx a few handshakes to fetch it
  tlsops.ocsp.staple_info:
    host: www.example.com
    retries: 5
    retry_delay: 2
  register: site

- name: Fail when the staple is not good
  ansible.builtin.assert:
    that: site.endpoints[0].verdict == 'good'
    fail_msg: "{{ site.endpoints[0].reason }}"

- name: Check every virtual host of this server over TLS 1.3 at once
  tlsops.ocsp.staple_info:
    endpoints:
      - host: 127.0.0.1
        server_name: www.example.com
      - host: 127.0.0.1
        server_name: shop.example.com
      - host: 127.0.0.1
        port: 8443
        server_name: api.example.com
    ca_path: /etc/ssl/certs/example-intermediates.pem
    tls_version: "1.3"
  register: staples
"""

RETURN = r"""
endpoints:
  description: One entry per endpoint, in the order given.
  returned: success
  type: list
  elements: dict
  contains:
    host:
      description: The host connected to.
      type: str
      sample: 127.0.0.1
    port:
      description: The port connected to.
      type: int
      sample: 443
    server_name:
      description: The SNI name given; V(null) when none was given.
      type: str
      sample: www.example.com
    protocol:
      description: The TLS protocol of the handshake (V(TLSv1.2), V(TLSv1.3)); V(null) when none completed.
      type: str
      sample: TLSv1.3
    stapled:
      description: Whether the server stapled anything.
      type: bool
      sample: true
    verdict:
      description: The verdict, one of the vocabulary in the notes.
      type: str
      sample: good
    reason:
      description: A sentence naming the endpoint and what is wrong and what to do when it is bad.
      type: str
      sample: "127.0.0.1:443 (SNI www.example.com): The OCSP response is valid and says the certificate is good."
    cert_status:
      description: The status the staple gives the certificate (V(good), V(revoked), V(unknown)); V(null) without a readable staple.
      type: str
      sample: good
    this_update:
      description: thisUpdate of the staple, ISO 8601 UTC.
      type: str
      sample: "2026-11-24T04:00:00Z"
    next_update:
      description: nextUpdate of the staple, ISO 8601 UTC.
      type: str
      sample: "2026-11-28T04:00:00Z"
    seconds_until_next_update:
      description: Seconds from now to RV(endpoints[].next_update).
      type: int
      sample: 345600
    must_staple:
      description: Whether the served certificate carries Must-Staple; V(null) when no certificate was served.
      type: bool
      sample: false
    ocsp_uris:
      description: The OCSP URLs of the served certificate.
      type: list
      elements: str
      sample: [http://ocsp.example.com]
    serial_number:
      description: Serial number of the served certificate.
      type: int
      sample: 1234567890123456789
    subject:
      description: Subject of the served certificate, RFC 4514.
      type: str
      sample: CN=www.example.com
    issuer:
      description: Issuer of the served certificate, RFC 4514.
      type: str
      sample: CN=Example Intermediate CA,O=Example
    not_after:
      description: End of validity of the served certificate, ISO 8601 UTC.
      type: str
      sample: "2027-01-30T00:00:00Z"
    lifetime_days:
      description: Validity of the served certificate in days.
      type: int
      sample: 90
    attempts:
      description: How many handshakes were made with the endpoint.
      type: int
      sample: 1
"""

import traceback
from typing import Any, Dict, List, Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import read_certificates, require_libraries

try:
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import staple
except ImportError:
    ENGINE_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    ENGINE_IMPORT_ERROR = None

DEFAULT_PORT = 443
ENDPOINT_KEYS = ("host", "port", "server_name")


def endpoints_to_check(params: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The endpoints as the engine takes them, from `endpoints` or from `host`/`port`/`server_name`."""
    if params["endpoints"]:
        return [{key: endpoint[key] for key in ENDPOINT_KEYS} for endpoint in params["endpoints"]]
    return [{"host": params["host"], "port": params["port"] or DEFAULT_PORT, "server_name": params["server_name"]}]


def port_problems(params: Dict[str, Any]) -> List[str]:
    """One sentence per port outside 1..65535, naming the option (port, or endpoints[N].port)."""
    ports = [("port", params["port"])] if params["port"] is not None else []
    ports += [("endpoints[%d].port" % index, endpoint["port"]) for index, endpoint in enumerate(params["endpoints"] or [])]
    return ["%s: %d is not a TCP port; give a port from 1 to 65535" % (option, port)
            for option, port in ports if not 1 <= port <= 65535]


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str"},
            "port": {"type": "int"},
            "server_name": {"type": "str"},
            "endpoints": {
                "type": "list",
                "elements": "dict",
                "options": {
                    "host": {"type": "str", "required": True},
                    "port": {"type": "int", "default": DEFAULT_PORT},
                    "server_name": {"type": "str"},
                },
            },
            "ca_path": {"type": "path"},
            "retries": {"type": "int", "default": 0},
            "retry_delay": {"type": "float", "default": 1},
            "timeout": {"type": "float", "default": 10},
            "tls_version": {"type": "str", "choices": ["auto", "1.2", "1.3"], "default": "auto"},
        },
        mutually_exclusive=[("host", "endpoints"), ("port", "endpoints"), ("server_name", "endpoints")],
        required_one_of=[("host", "endpoints")],
        supports_check_mode=True,
    )
    require_libraries(module, ENGINE_IMPORT_ERROR, pyopenssl=True)
    params = module.params
    problems = port_problems(params) + [
        "%s: %s is not allowed; give %s" % (option, params[option], advice)
        for option, bad, advice in (("retries", params["retries"] < 0, "0 or more"),
                                    ("retry_delay", params["retry_delay"] < 0, "0 or more seconds"),
                                    ("timeout", params["timeout"] <= 0, "a number of seconds greater than 0"))
        if bad]
    if problems:
        module.fail_json(msg="; ".join(problems))
    ca_certs = read_certificates(module, params["ca_path"], "ca_path") if params["ca_path"] else []
    checked = staple.check_endpoints(
        endpoints_to_check(params),
        ca_certs=ca_certs,
        retries=params["retries"],
        retry_delay=params["retry_delay"],
        timeout=params["timeout"],
        tls_version=None if params["tls_version"] == "auto" else params["tls_version"],
    )
    module.exit_json(changed=False, endpoints=checked)


if __name__ == "__main__":
    main()
