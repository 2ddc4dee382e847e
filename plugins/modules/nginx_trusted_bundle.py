#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: nginx_trusted_bundle
short_description: "Internal: assemble (and write) the issuer chain nginx needs to verify OCSP responses"
version_added: 0.1.0
description:
  - Internal helper of the C(nginx_stapling) role. Returns the PEM text for
    C(ssl_trusted_certificate) and, given O(dest), writes it there, so one call does both.
  - For every served certificate file, walks from the leaf up to a self-signed root, taking each
    issuer from the served file first, from O(ca_paths) (the host's trust store, or a given CA
    file) next, and with O(ca_issuers_urls) from the CA Issuers URL last. The result holds every issuer once, in a stable order, and never a leaf.
options:
  chain_paths:
    description: The certificate files nginx serves (C(ssl_certificate)), leaf first.
    type: list
    elements: path
    required: true
  ca_paths:
    description: Files with trusted CA certificates where the roots are found.
    type: list
    elements: path
    default: []
  ca_issuers_urls:
    description:
      - Where an issuer is neither in the served file nor in O(ca_paths), download it from the CA Issuers URL
        of the certificate the walk stopped at (Authority Information Access), and go on from there. A
        downloaded certificate is taken only when it is a CA whose signature on that certificate verifies.
      - So a served file with the leaf alone, or a private CA whose root is not in the host's trust store,
        still gives nginx the issuer and the root it needs.
    type: bool
    default: false
    version_added: 0.1.0
  dest:
    description:
      - Write the bundle to this file, atomically (a temporary file in the same directory, then
        renamed over it), only when its content or mode differs. The directory must exist.
      - An existing file keeps its owner and group.
      - Without O(dest) the module changes nothing and only returns RV(content).
    type: path
  mode:
    description:
      - The permissions of O(dest), in the forms M(ansible.builtin.file) takes (V('0644'), V(u=rw,g=r,o=r)).
      - Required with O(dest).
    type: raw
extends_documentation_fragment:
  - tlsops.ocsp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - With O(dest), the file's content before and after.
  platform:
    support: full
    platforms: posix
requirements:
  - cryptography >= 3.4.8
author:
  - tlsops maintainers (@tlsops)
"""

EXAMPLES = r"""
- name: Assemble the trusted bundle
  tlsops.ocsp.nginx_trusted_bundle:
    chain_paths: [/etc/nginx/tls/example.pem]
    ca_paths: [/etc/ssl/certs/ca-certificates.crt]
  register: bundle

- name: Assemble it and write it for nginx in the same call
  tlsops.ocsp.nginx_trusted_bundle:
    chain_paths: [/etc/nginx/tls/example.pem]
    ca_paths: [/etc/ssl/certs/ca-certificates.crt]
    dest: /etc/nginx/tlsops-ocsp/trusted.pem
    mode: "0644"
"""

RETURN = r"""
content:
  description: The issuers as PEM text, intermediates before roots (what O(dest) holds when given).
  type: str
  returned: always
subjects:
  description: The subject of each certificate in RV(content).
  type: list
  elements: str
  returned: always
missing:
  description: One sentence per chain whose issuer or root was not found.
  type: list
  elements: str
  returned: always
"""

import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.file_install import install
from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import (
    open_url_download,
    read_certificates,
    require_libraries,
)

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates, issuer_lookup
except ImportError:
    ENGINE_IMPORT_ERROR = traceback.format_exc()
else:
    ENGINE_IMPORT_ERROR = None


def _issuers(path: str, chain: List[Any], anchors: List[Any], ca_paths: List[str],
             download: Optional[Callable[..., Any]]) -> Tuple[List[Any], Optional[str]]:
    """(issuers from the leaf up to its root, a sentence when the walk stopped short)."""
    ordered = certificates.order_chain(chain)
    pool = ordered[1:] + anchors
    found: List[Any] = []
    current = ordered[0]
    while True:
        issuer = certificates.find_issuer(current, pool)
        tried: List[str] = []
        if issuer is None and download is not None:
            fetched = issuer_lookup.from_ca_issuers_urls(current, download)
            issuer, tried = fetched["certificate"], fetched.get("tried", [])
        if issuer is None:
            searched = " and ".join([path] + ca_paths + tried)
            return found, ("%s: no certificate in %s issued %s; give the issuing CA in ca_paths"
                           % (path, searched, current.subject.rfc4514_string()))
        if any(issuer is known for known in found):
            return found, None  # a cross-signing loop: what was found is complete
        found.append(issuer)
        if certificates.is_issued_by(issuer, issuer):
            return found, None
        current = issuer


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            chain_paths=dict(type="list", elements="path", required=True),
            ca_paths=dict(type="list", elements="path", default=[]),
            ca_issuers_urls=dict(type="bool", default=False),
            dest=dict(type="path"),
            mode=dict(type="raw"),
        ),
        required_together=[("dest", "mode")],
        supports_check_mode=True,
    )
    require_libraries(module, ENGINE_IMPORT_ERROR)
    ca_paths = module.params["ca_paths"]
    anchors = [cert for path in ca_paths for cert in read_certificates(module, path, "ca_paths")]
    download = open_url_download if module.params["ca_issuers_urls"] else None
    bundle: Dict[bytes, Any] = {}
    missing: List[str] = []
    for path in module.params["chain_paths"]:
        issuers, problem = _issuers(path, read_certificates(module, path, "chain_paths"), anchors, ca_paths, download)
        for issuer in issuers:
            bundle.setdefault(issuer.fingerprint(hashes.SHA256()), issuer)
        if problem:
            missing.append(problem)
            module.warn(problem)
    content = "".join(cert.public_bytes(serialization.Encoding.PEM).decode("ascii") for cert in bundle.values())
    dest = module.params["dest"]
    written = install(module, dest, content.encode("ascii"), module.params["mode"]) if dest else dict(changed=False)
    module.exit_json(
        content=content,
        subjects=[cert.subject.rfc4514_string() for cert in bundle.values()],
        missing=missing,
        **written,
    )


if __name__ == "__main__":
    main()
