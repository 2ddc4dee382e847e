#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: response_info
short_description: Verify an OCSP response held in a file or in memory
version_added: 0.1.0
description:
  - Verifies a DER-encoded OCSP response for one certificate, as RFC 6960 says a client must,
    and returns the verdict with the response's fields.
  - Checks the signature (by the issuer, or by a delegated responder certificate that the issuer
    signed for OCSP signing and that is valid), that the response is about the certificate, and that it
    is current at O(valid_at).
  - Useful before deploying a pre-fetched response, such as a HAProxy C(.ocsp) file.
  - A response that does not verify is reported by RV(verdict), not as a module failure; the
    module fails only when its inputs cannot be read.
author:
  - tlsops maintainers (@tlsops)
requirements:
  - cryptography >= 3.4.8
options:
  path:
    description:
      - File with the DER-encoded OCSP response.
      - Exactly one of O(path) and O(content_base64) is required.
    type: path
  content_base64:
    description:
      - The DER-encoded OCSP response, base64-encoded (for example from P(ansible.builtin.slurp#module)).
      - Exactly one of O(path) and O(content_base64) is required.
    type: str
  valid_at:
    description:
      - The time at which the response must be current, ISO 8601 (V(2026-11-24T04:03:19Z));
        a time without offset is UTC.
      - Defaults to now.
    type: str
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.attributes.info_module
  - tlsops.ocsp.verification
  - tlsops.ocsp.verification.certificate_pair
seealso:
  - module: tlsops.ocsp.responder_info
  - module: tlsops.ocsp.staple_info
"""

EXAMPLES = r"""
- name: Check the response HAProxy will staple before deploying it
  tlsops.ocsp.response_info:
    path: /etc/haproxy/certs/example.com.pem.ocsp
    certificate_path: /etc/haproxy/certs/example.com.pem
  register: staple_file

- name: Refuse a response that is not good
  ansible.builtin.assert:
    that: staple_file.verdict == 'good'
    fail_msg: "{{ staple_file.reason }}"

- name: Verify a response fetched elsewhere, as of a given time
  tlsops.ocsp.response_info:
    content_base64: "{{ fetched_response.content }}"
    certificate_path: /etc/ssl/certs/example.com.pem
    issuer_path: /etc/ssl/certs/example-intermediate.pem
    valid_at: "2026-11-24T04:00:00Z"
"""

RETURN = r"""
verdict:
  description: The verdict, one of the vocabulary in the notes.
  returned: always
  type: str
  sample: good
reason:
  description: A sentence about this response; when it is bad, what is wrong and what to do.
  returned: always
  type: str
  sample: The OCSP response is valid and says the certificate is good.
cert_status:
  description: The status the response gives the certificate (V(good), V(revoked), V(unknown)).
  returned: always; null when the response could not be read
  type: str
  sample: good
this_update:
  description: thisUpdate of the certificate's entry, ISO 8601 UTC.
  returned: always; null when the response could not be read
  type: str
  sample: "2026-11-24T04:00:00Z"
next_update:
  description: nextUpdate of the certificate's entry, ISO 8601 UTC; V(null) when the responder gives none.
  returned: always; null when the response could not be read
  type: str
  sample: "2026-11-28T04:00:00Z"
seconds_until_next_update:
  description: Seconds from O(valid_at) to RV(next_update); negative when it has passed.
  returned: always; null when the response could not be read
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
  returned: always; null when the response could not be read
  type: str
  sample: "2026-11-24T04:00:00Z"
responder:
  description: The responder ID, as a distinguished name (RFC 4514) or V(keyHash:) and the key hash in hex.
  returned: always; null when the response could not be read
  type: str
  sample: CN=Example Intermediate CA,O=Example
signed_by:
  description: Who signed the response; V(null) when no acceptable signer was found.
  returned: always; null when the response could not be read
  type: str
  choices: [issuer, delegate]
  sample: issuer
"""

import base64
import binascii
import traceback
from typing import Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import (
    CERTIFICATE_PAIR_SPEC,
    certificate_and_issuer,
    parse_time,
    read_file,
    require_libraries,
)

try:
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
except ImportError:
    ENGINE_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    ENGINE_IMPORT_ERROR = None


def response_bytes(module: AnsibleModule) -> bytes:
    """The response from `path` or `content_base64`, or fail naming the option and what to do."""
    if module.params["path"] is not None:
        return read_file(module, module.params["path"], "path")
    try:
        return base64.b64decode(module.params["content_base64"], validate=True)
    except (binascii.Error, ValueError) as error:
        module.fail_json(msg="content_base64: not valid base64 (%s); give the DER response base64-encoded, "
                             "for example the content that ansible.builtin.slurp returns" % error)
    raise AssertionError("fail_json returned")


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            CERTIFICATE_PAIR_SPEC,
            path={"type": "path"},
            content_base64={"type": "str"},
            valid_at={"type": "str"},
        ),
        mutually_exclusive=[("path", "content_base64")],
        required_one_of=[("path", "content_base64")],
        supports_check_mode=True,
    )
    require_libraries(module, ENGINE_IMPORT_ERROR)
    at = parse_time(module, "valid_at")
    cert, issuer = certificate_and_issuer(module)
    result = ocsp.verify_response(response_bytes(module), cert, issuer, at=at)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
