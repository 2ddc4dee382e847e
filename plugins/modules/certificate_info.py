#!/usr/bin/python
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
module: certificate_info
short_description: Inspect certificates for OCSP stapling
version_added: 0.1.0
description:
  - Reads one or more X.509 certificates and returns, for each, the facts that decide whether OCSP
    stapling applies to it and what it needs.
  - A file may hold a whole chain; every certificate in it is returned, in file order, and
    RV(certificates[].issuer_in_file) tells whether its issuer is in the same file.
  - Give all certificates of a host in one call; a thousand certificates take a few seconds.
  - Every file is inspected, whatever happens to the others. RV(files) says, file by file, how many
    certificates were read or why none were (missing file, directory, private key, not a certificate,
    unreadable); O(fail_on) says when that fails the call.
  - A certificate that loads but is odd (a subject or issuer name that is not valid UTF-8, an extension
    unknown to cryptography, X.509 version 1) still gets its facts, with the oddity named in
    RV(certificates[].oddities).
author:
  - tlsops maintainers (@tlsops)
requirements:
  - cryptography >= 3.4.8
options:
  path:
    description:
      - A file with one or more certificates, PEM (other PEM blocks such as keys are skipped
        without being read) or a single DER certificate.
      - Exactly one of O(path), O(content) and O(paths) is required.
    type: path
  content:
    description:
      - One or more certificates as PEM text.
      - Exactly one of O(path), O(content) and O(paths) is required.
    type: str
  paths:
    description:
      - A list of files, each read like O(path). The result lists the certificates file by file.
      - Exactly one of O(path), O(content) and O(paths) is required.
    type: list
    elements: path
  fail_on:
    description:
      - When files that give no certificate fail the call. The call always inspects every file first; the
        failure message names every such file with its cause, and the result still holds RV(certificates)
        and RV(files).
      - V(any) fails when one file or more gives no certificate.
      - V(all) fails only when no file gives a certificate.
      - V(none) never fails for a file; read RV(files) to find the ones that gave nothing.
      - Applies to O(content) too, as one item.
    type: str
    choices: [any, all, none]
    default: any
    version_added: 0.1.0
extends_documentation_fragment:
  - tlsops.ocsp.attributes
  - tlsops.ocsp.attributes.info_module
seealso:
  - module: tlsops.ocsp.staple_info
  - module: tlsops.ocsp.responder_info
"""

EXAMPLES = r"""
- name: Inspect the certificate chain nginx serves
  tlsops.ocsp.certificate_info:
    path: /etc/nginx/tls/example.com.fullchain.pem
  register: example_cert

- name: Say why stapling does not apply to the leaf
  ansible.builtin.debug:
    msg: "{{ example_cert.certificates[0].stapling_reason }}"
  when: not example_cert.certificates[0].stapling_applicable

- name: Inspect every certificate of the host in one call
  tlsops.ocsp.certificate_info:
    paths: "{{ tls_certificate_files }}"
  register: host_certs

- name: Fail when a Must-Staple certificate names no OCSP responder
  ansible.builtin.assert:
    that: item.ocsp_uris | length > 0
    fail_msg: "{{ item.path }} is Must-Staple but names no OCSP responder"
  loop: "{{ host_certs.certificates | selectattr('must_staple') }}"
  loop_control:
    label: "{{ item.path }}"

- name: Inspect whatever can be read, and list the files that could not be
  tlsops.ocsp.certificate_info:
    paths: "{{ tls_certificate_files }}"
    fail_on: none
  register: readable_certs

- name: Show why each file gave no certificate
  ansible.builtin.debug:
    msg: "{{ readable_certs.files | selectattr('error') | map(attribute='error') | list }}"
"""

RETURN = r"""
certificates:
  description: One entry per certificate, in the order of the files and of the certificates in each file.
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: The file the certificate came from; V(null) for O(content).
      type: str
      sample: /etc/nginx/tls/example.com.fullchain.pem
    index:
      description: Position of the certificate in its file (or in O(content)), from 0.
      type: int
      sample: 0
    subject:
      description: Subject distinguished name, RFC 4514.
      type: str
      sample: CN=www.example.com,O=Example
    issuer:
      description: Issuer distinguished name, RFC 4514.
      type: str
      sample: CN=Example Intermediate CA,O=Example
    serial_number:
      description: Serial number.
      type: int
      sample: 1234567890123456789
    ocsp_uris:
      description: Every OCSP responder URL of the Authority Information Access extension, in order.
      type: list
      elements: str
      sample: [http://ocsp.example.com]
    ca_issuers_uris:
      description: Every CA Issuers URL of the Authority Information Access extension, in order.
      type: list
      elements: str
      sample: [http://ca.example.com/intermediate.der]
    crl_distribution_points:
      description: Every URL of the CRL Distribution Points extension.
      type: list
      elements: str
      sample: [http://crl.example.com/intermediate.crl]
    must_staple:
      description: Whether the certificate carries the TLS Feature extension with status_request (Must-Staple).
      type: bool
      sample: false
    must_staple_critical:
      description: Whether that TLS Feature extension is marked critical.
      type: bool
      sample: false
    not_before:
      description: Start of validity, ISO 8601 UTC.
      type: str
      sample: "2026-11-01T00:00:00Z"
    not_after:
      description: End of validity, ISO 8601 UTC.
      type: str
      sample: "2027-01-30T00:00:00Z"
    lifetime_days:
      description: Days from RV(certificates[].not_before) to RV(certificates[].not_after).
      type: int
      sample: 90
    is_ca:
      description: Whether Basic Constraints mark the certificate as a CA.
      type: bool
      sample: false
    stapling_applicable:
      description: Whether OCSP stapling applies to the certificate.
      type: bool
      sample: true
    stapling_reason:
      description: A sentence saying why stapling does not apply, or what it needs.
      type: str
      sample: OCSP responder http://ocsp.example.com; the server needs the issuer certificate to verify responses
    sha256_fingerprint:
      description: SHA-256 fingerprint of the DER encoding, upper-case hex pairs joined by colons.
      type: str
      sample: "5C:0E:...:9A"
    subject_alt_names:
      description: Subject Alternative Names, each with its kind (V(DNS:), V(IP:), V(email:), V(URI:), ...).
      type: list
      elements: str
      sample: ["DNS:www.example.com", "DNS:example.com"]
    issuer_in_file:
      description: Whether a certificate in the same file (or in O(content)) issued this one.
      type: bool
      sample: true
    oddities:
      description:
        - What is odd but not broken in the certificate, one sentence each; empty for most certificates.
        - A name that is not valid in its string type (then RV(certificates[].subject) or
          RV(certificates[].issuer) shows U+FFFD for the bytes that do not decode), an extension unknown to
          cryptography (critical or not), an X.509 version 1 certificate.
      type: list
      elements: str
      sample: ["the subject's CN is not valid UTF-8 (16 bytes), shown with U+FFFD where bytes do not decode; ..."]
      version_added: 0.1.0
files:
  description: One entry per file of O(path) or O(paths) (one entry with a null path for O(content)), in order.
  returned: always
  type: list
  elements: dict
  version_added: 0.1.0
  contains:
    path:
      description: The file; V(null) for O(content).
      type: str
      sample: /etc/nginx/tls/example.com.fullchain.pem
    certificates:
      description: How many certificates were read from it.
      type: int
      sample: 2
    error:
      description: Why the file gave no certificate, naming it and what to do; V(null) when it was read.
      type: str
      sample: "/etc/nginx/tls/example.com.key: holds a private key, not a certificate (...); give the certificate file ..."
"""

import traceback
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible.module_helpers import require_libraries

try:
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
except ImportError:
    ENGINE_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    ENGINE_IMPORT_ERROR = None


def describe(module: AnsibleModule) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """(the facts of every certificate the options name, one entry per file or content), every item inspected."""
    if module.params["content"] is None:
        return certificates.inspect_files(module.params["paths"] or [module.params["path"]])
    try:
        found = certificates.describe_certificates(
            certificates.load_certificates(module.params["content"].encode("utf-8"), "the PEM text"))
    except certificates.CertificateError as error:
        return [], [{"path": None, "certificates": 0, "error": str(error)}]
    return found, [{"path": None, "certificates": len(found), "error": None}]


def failure(files: List[Dict[str, Any]], fail_on: str, option: str) -> Optional[str]:
    """The message that fails the call under `fail_on`, naming every file that gave nothing; None: no failure."""
    failed = [entry for entry in files if entry["error"]]
    if not failed or fail_on == "none" or (fail_on == "all" and len(failed) < len(files)):
        return None
    if len(files) == 1:
        return "%s: %s" % (option, failed[0]["error"])
    culprits = " ".join("[%s]" % entry["error"] for entry in failed)
    advice = "fix or remove each"
    if len(failed) < len(files):
        advice += ", or set fail_on=none to get the facts of the others without failing"
    return "%s: %d of %d files gave no certificate: %s; %s" % (option, len(failed), len(files), culprits, advice)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path"},
            "content": {"type": "str"},
            "paths": {"type": "list", "elements": "path"},
            "fail_on": {"type": "str", "choices": ["any", "all", "none"], "default": "any"},
        },
        mutually_exclusive=[("path", "content", "paths")],
        required_one_of=[("path", "content", "paths")],
        supports_check_mode=True,
    )
    require_libraries(module, ENGINE_IMPORT_ERROR)
    described, files = describe(module)
    option = next(name for name in ("paths", "path", "content") if module.params[name] is not None)
    message = failure(files, module.params["fail_on"], option)
    if message:
        module.fail_json(msg=message, certificates=described, files=files)
    module.exit_json(changed=False, certificates=described, files=files)


if __name__ == "__main__":
    main()
