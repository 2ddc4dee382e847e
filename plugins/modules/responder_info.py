#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: responder_info
short_description: Ask a certificate's OCSP responder from the managed host and verify the answer
version_added: 0.1.0
description:
  - Builds an OCSP request for the certificate, sends it from the host the module runs on to the
    responder that the certificate names (or to O(url)), and verifies the response as
    M(tlsops.ocsp.response_info) does.
  - Tells whether a web server on this host can fetch a staple at all. A responder that cannot
    be reached (DNS, connection refused, timeout, HTTP error status) is RV(verdict=unreachable)
    with the cause in RV(reason), not a module failure.
  - When the certificate names several OCSP URLs and O(url) is not set, they are asked in order
    until one answers.
  - HTTP goes through Ansible's URL helpers, so the host's C(http_proxy), C(https_proxy) and
    C(no_proxy) environment variables apply.
author:
  - tlsops maintainers (@tlsops)
requirements:
  - cryptography >= 3.4.8
options:
  url:
    description:
      - The responder URL to ask instead of the certificate's own OCSP URLs.
      - Needed for a certificate that names no OCSP responder; without it such a certificate
        is RV(verdict=not_applicable).
    type: str
  method:
    description:
      - V(POST) sends the request as the body; V(GET) puts it base64-encoded in the URL (RFC 6960
        appendix A.1), which caching proxies and CDNs in front of responders prefer.
    type: str
    choices: [POST, GET]
    default: POST
  timeout:
    description: Seconds to wait for the responder, for each URL asked.
    type: float
    default: 10
  nonce:
    description:
      - Send a random nonce in the request. A response that carries another nonce answers another
        request and is RV(verdict=wrong_certificate).
      - A response without a nonce is accepted, since most responders ignore nonces and serve
        pre-signed responses (RFC 8954).
    type: bool
    default: false
  hash_algorithm:
    description: The hash of the CertID in the request (RFC 6960 allows both; SHA-1 is what responders expect).
    type: str
    choices: [sha1, sha256]
    default: sha1
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.attributes.info_module
  - tlsops.ocsp.verification
  - tlsops.ocsp.verification.certificate_pair
seealso:
  - module: tlsops.ocsp.response_info
  - module: tlsops.ocsp.staple_info
"""

EXAMPLES = r"""
- name: Check that this web server can reach its certificate's OCSP responder
  tlsops.ocsp.responder_info:
    certificate_path: /etc/nginx/tls/example.com.fullchain.pem
  register: responder

- name: Warn when the responder cannot be reached from here
  ansible.builtin.debug:
    msg: "{{ responder.reason }}"
  when: responder.verdict == 'unreachable'

- name: Ask a mirror of the responder by GET, with a nonce
  tlsops.ocsp.responder_info:
    certificate_path: /etc/ssl/certs/example.com.pem
    issuer_path: /etc/ssl/certs/example-intermediate.pem
    url: http://ocsp-mirror.example.com
    method: GET
    nonce: true
    timeout: 5
"""

RETURN = r"""
url:
  description: The URL that was asked last (the one that answered, when any did); V(null) when there was none.
  returned: always
  type: str
  sample: http://ocsp.example.com
http_status:
  description: The HTTP status of the answer; V(null) when no HTTP answer came.
  returned: always
  type: int
  sample: 200
elapsed_ms:
  description: Milliseconds the request took; V(null) when nothing was asked.
  returned: always
  type: int
  sample: 84
verdict:
  description: The verdict, one of the vocabulary in the notes.
  returned: always
  type: str
  sample: good
reason:
  description: A sentence about the answer; when it is bad, what is wrong and what to do.
  returned: always
  type: str
  sample: The OCSP response is valid and says the certificate is good.
cert_status:
  description: The status the response gives the certificate (V(good), V(revoked), V(unknown)).
  returned: always; null when no response was read
  type: str
  sample: good
this_update:
  description: thisUpdate of the certificate's entry, ISO 8601 UTC.
  returned: always; null when no response was read
  type: str
  sample: "2026-11-24T04:00:00Z"
next_update:
  description: nextUpdate of the certificate's entry, ISO 8601 UTC; V(null) when the responder gives none.
  returned: always; null when no response was read
  type: str
  sample: "2026-11-28T04:00:00Z"
seconds_until_next_update:
  description: Seconds from now to RV(next_update).
  returned: always; null when no response was read
  type: int
  sample: 345600
revocation_time:
  description: When the certificate was revoked, ISO 8601 UTC.
  returned: always; null unless the certificate is revoked
  type: str
  sample: "2026-11-20T10:00:00Z"
revocation_reason:
  description: The revocation reason, as RFC 5280 names it (V(keyCompromise), V(superseded), ...); V(null) when none is given.
  returned: always; null unless the certificate is revoked
  type: str
  sample: keyCompromise
produced_at:
  description: producedAt of the response, ISO 8601 UTC.
  returned: always; null when no response was read
  type: str
  sample: "2026-11-24T04:00:00Z"
responder:
  description: The responder ID, as a distinguished name (RFC 4514) or V(keyHash:) and the key hash in hex.
  returned: always; null when no response was read
  type: str
  sample: CN=Example OCSP Responder,O=Example
signed_by:
  description: Who signed the response; V(null) when no acceptable signer was found.
  returned: always; null when no response was read
  type: str
  choices: [issuer, delegate]
  sample: delegate
"""

import traceback
from typing import Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import (
    CERTIFICATE_PAIR_SPEC,
    certificate_and_issuer,
    open_url_fetch,
    require_libraries,
)

try:
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
except ImportError:
    ENGINE_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    ENGINE_IMPORT_ERROR = None


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            CERTIFICATE_PAIR_SPEC,
            url={"type": "str"},
            method={"type": "str", "choices": ["POST", "GET"], "default": "POST"},
            timeout={"type": "float", "default": 10},
            nonce={"type": "bool", "default": False},
            hash_algorithm={"type": "str", "choices": ["sha1", "sha256"], "default": "sha1"},
        ),
        supports_check_mode=True,
    )
    require_libraries(module, ENGINE_IMPORT_ERROR)
    params = module.params
    cert, issuer = certificate_and_issuer(module)
    urls = [params["url"]] if params["url"] else certificates.ocsp_uris(cert)
    if not urls:
        reason = ("%s names no OCSP responder, so there is nothing to ask; set url to ask a responder anyway"
                  % params["certificate_path"])
        module.exit_json(changed=False, url=None, http_status=None, elapsed_ms=None,
                         **ocsp.unverified(verdicts.NOT_APPLICABLE, reason))
    module.exit_json(changed=False, **ocsp.ask(urls, cert, issuer, open_url_fetch, method=params["method"],
                                               timeout=params["timeout"], nonce=params["nonce"],
                                               hash_name=params["hash_algorithm"]))


if __name__ == "__main__":
    main()
