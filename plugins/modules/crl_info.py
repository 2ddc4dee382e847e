#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: crl_info
short_description: Tell from its CRLs whether a certificate is revoked
version_added: 0.1.0
description:
  - Downloads, from the host the module runs on, the CRL of each CRL distribution point that the
    certificate names, verifies that the certificate's issuer signed it, judges its freshness and
    looks up the certificate's serial number.
  - For certificates without an OCSP URL, such as those Let's Encrypt (since 2025) and HARICA (since
    2026) issue, the CRL is the only source of their revocation status; OCSP stapling does not apply
    to them.
  - Each distribution point is checked; when one names several URLs they are tried in order until one
    gives a verified answer. Each URL is downloaded at most once per call.
  - A CRL that cannot be downloaded (DNS, connection refused, timeout, HTTP error status, larger than
    O(max_size)) is RV(verdict=unreachable) with the cause in RV(reason), not a module failure.
  - HTTP goes through Ansible's URL helpers, so the host's C(http_proxy), C(https_proxy) and
    C(no_proxy) environment variables apply.
author:
  - tlsops maintainers (@tlsops)
requirements:
  - cryptography >= 3.4.8
options:
  certificate_path:
    description:
      - File with the certificate whose status is checked, PEM or DER.
      - It may hold the whole chain (leaf first or in any order); the leaf is the certificate that
        issued no other certificate in the file, and its issuer is searched for in the same file when
        O(issuer_path) is not given.
      - Exactly one of O(certificate_path) and O(certificate) is required.
    type: path
  certificate:
    description:
      - The certificate (or the chain) as PEM text, instead of a file in O(certificate_path).
    type: str
  issuer_path:
    description:
      - File with the certificate of the CA that issued the certificate, PEM or DER. A bundle with
        several CA certificates is searched for the right one.
      - Optional when the certificate file or text already holds the issuer. The CRL must be signed by
        this CA's key.
    type: path
  timeout:
    description: Seconds to wait for each CRL server.
    type: float
    default: 10
  max_size:
    description:
      - The largest CRL, in bytes, that is downloaded. A larger one is not read whole and is
        RV(verdict=unreachable).
      - The default, 10 MiB, is far above what Let's Encrypt and most public CAs publish per CRL;
        some private and government CAs publish larger ones.
    type: int
    default: 10485760
  skew:
    description:
      - Seconds of clock difference allowed between this host and the CA when judging the CRL's
        thisUpdate and nextUpdate.
    type: int
    default: 300
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.attributes.info_module
notes:
  - >-
    The result's RV(verdict) comes from the vocabulary the other tlsops.ocsp modules use, with a
    RV(reason) sentence beside it. V(good): a verified, current CRL does not list the certificate.
    V(revoked): a CRL signed by the issuer lists it (even an out-of-date one: revocation is
    permanent). V(expired): the CRL's nextUpdate has passed (a CRL without nextUpdate, which RFC 5280
    forbids, counts as current for 10 days after its thisUpdate). V(not_yet_valid): its thisUpdate is
    in the future. V(bad_signature): the issuer's key did not sign it, it comes from another CA, or the
    issuer may not sign CRLs. V(malformed): the bytes are not a CRL. V(unreachable): it could not be
    downloaded. V(not_applicable): the certificate names no CRL distribution point. V(unknown): the
    CRL or distribution point is of a kind this module does not support, and the reason says which.
  - >-
    Not supported, and said so as V(unknown): indirect CRLs, delta CRLs, distribution points that name
    a cRLIssuer, cover only some revocation reasons, or offer only LDAP URLs, CRLs that cover only CA or
    only end-entity certificates when the certificate is the other kind, CRLs whose issuing distribution
    point is another partition than the certificate's, and CRLs with a critical extension the module
    does not know.
  - When several CRLs were checked, RV(verdict) is V(revoked) if any says so, else V(good) if any
    verified one says so, else the most serious failure; RV(crls) has each one's own verdict.
seealso:
  - module: tlsops.ocsp.responder_info
  - module: tlsops.ocsp.certificate_info
  - name: RFC 5280, section 5 (CRL profile) and 6.3 (CRL validation)
    description: What a CRL holds and how a client checks it.
    link: https://www.rfc-editor.org/rfc/rfc5280
"""

EXAMPLES = r"""
- name: Is this Let's Encrypt certificate revoked? (it has no OCSP URL, only a CRL)
  tlsops.ocsp.crl_info:
    certificate_path: /etc/nginx/tls/example.com.fullchain.pem
  register: crl

- name: Stop when it is revoked
  ansible.builtin.assert:
    that: crl.verdict != 'revoked'
    fail_msg: "{{ crl.reason }}"

- name: Check a certificate held in a variable, with its issuer in another file and a tighter cap
  tlsops.ocsp.crl_info:
    certificate: "{{ lookup('ansible.builtin.file', 'files/example.com.pem') }}"
    issuer_path: /etc/ssl/certs/example-intermediate.pem
    max_size: 2097152
    timeout: 5
"""

RETURN = r"""
verdict:
  description:
    - The certificate's revocation status from its CRLs, in the vocabulary in the notes.
  returned: always
  type: str
  choices: [good, revoked, expired, not_yet_valid, bad_signature, unreachable, malformed, not_applicable, unknown]
  sample: good
reason:
  description: A sentence naming the certificate and the CRL; when the verdict is bad, what is wrong and what to do.
  returned: always
  type: str
  sample: >-
    CN=www.example.com (serial 3054...): CRL http://r11.c.lencr.org/42.crl: the CRL does not list
    the certificate; it is valid until 2026-12-08T10:00:00Z
serial_number:
  description: The certificate's serial number.
  returned: always
  type: int
  sample: 305437981937659874218460419318431826871349
revocation_time:
  description: When the certificate was revoked, ISO 8601 UTC.
  returned: always; null unless the certificate is revoked
  type: str
  sample: "2026-11-20T10:00:00Z"
revocation_reason:
  description:
    - The revocation reason as RFC 5280 names it (V(keyCompromise), V(superseded), ...); V(null) when
      the CRL entry gives none.
  returned: always; null unless the certificate is revoked
  type: str
  sample: keyCompromise
crls:
  description: One entry per CRL URL that was checked, in the order of the distribution points.
  returned: always
  type: list
  elements: dict
  contains:
    url:
      description: The CRL's URL; for a distribution point that was not fetched, its first URI or V(null).
      type: str
      sample: http://r11.c.lencr.org/42.crl
    verdict:
      description: This CRL's verdict.
      type: str
      sample: good
    reason:
      description: A sentence about this CRL.
      type: str
      sample: "CRL http://r11.c.lencr.org/42.crl: the CRL does not list the certificate; it is valid until 2026-12-08T10:00:00Z"
    this_update:
      description: The CRL's thisUpdate, ISO 8601 UTC; V(null) when it was not read.
      type: str
      sample: "2026-12-01T10:00:00Z"
    next_update:
      description: The CRL's nextUpdate, ISO 8601 UTC; V(null) when it has none or was not read.
      type: str
      sample: "2026-12-08T10:00:00Z"
    crl_number:
      description: The CRL number extension; V(null) when it has none or was not read.
      type: int
      sample: 1764583200
    size:
      description: Bytes downloaded; V(null) when the download failed.
      type: int
      sample: 7322
    elapsed_ms:
      description: Milliseconds the download took; V(null) when nothing was downloaded.
      type: int
      sample: 41
"""

import traceback
from typing import Optional

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import (
    certificate_and_issuer,
    open_url_download,
    require_libraries,
)

try:
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import crl
except ImportError:
    ENGINE_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    ENGINE_IMPORT_ERROR = None


# option -> (lowest allowed value, what to give instead)
LIMITS = {
    "timeout": (0.001, "a number of seconds greater than 0"),
    "max_size": (1, "a number of bytes greater than 0"),
    "skew": (0, "a number of seconds, 0 or more"),
}


def check_limits(module: AnsibleModule) -> None:
    """Fail naming the option when a limit cannot work."""
    for option, (lowest, advice) in LIMITS.items():
        if module.params[option] < lowest:
            module.fail_json(msg="%s: %s is not allowed; give %s" % (option, module.params[option], advice))


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            certificate_path={"type": "path"},
            certificate={"type": "str"},
            issuer_path={"type": "path"},
            timeout={"type": "float", "default": 10},
            max_size={"type": "int", "default": 10 * 1024 * 1024},
            skew={"type": "int", "default": 300},
        ),
        mutually_exclusive=[("certificate_path", "certificate")],
        required_one_of=[("certificate_path", "certificate")],
        supports_check_mode=True,
    )
    require_libraries(module, ENGINE_IMPORT_ERROR)
    check_limits(module)
    cert, issuer = certificate_and_issuer(module)
    result = crl.check_certificate(cert, issuer, open_url_download, skew=module.params["skew"],
                                   timeout=module.params["timeout"], max_size=module.params["max_size"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
