# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation shared by the tlsops.ocsp modules that verify OCSP responses.

C(tlsops.ocsp.verification) explains the verdict vocabulary;
C(tlsops.ocsp.verification.certificate_pair) documents the certificate and issuer options.
"""
from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
notes:
  - >-
    Every check ends in one C(verdict) with a C(reason) sentence beside it. The verdicts are
    C(good); C(revoked); C(unknown) (the responder does not know the certificate);
    C(no_staple) (the server sent no OCSP response in the handshake);
    C(not_applicable) (the certificate names no OCSP responder, so stapling does not apply);
    C(bad_signature); C(unauthorized_signer) (signed neither by the issuer nor by a responder
    certificate that the issuer signed with id-kp-OCSPSigning);
    C(wrong_certificate) (the response is about another certificate);
    C(expired) (nextUpdate has passed, or no nextUpdate and the response is too old);
    C(not_yet_valid) (thisUpdate is in the future); C(responder_error) (tryLater,
    unauthorized, malformedRequest, internalError, sigRequired); C(malformed) (the bytes are
    not an OCSP response); C(unreachable) (the responder or server could not be reached; the
    reason names the cause).
  - Responses are verified as RFC 6960 section 4.2.2.2 says, with a clock skew of five minutes.
"""

    CERTIFICATE_PAIR = r"""
options:
  certificate_path:
    description:
      - File with the certificate whose status is checked, PEM or DER.
      - It may hold the whole chain (leaf first or in any order); the leaf is the certificate
        that issued no other certificate in the file, and its issuer is searched for in the
        same file when O(issuer_path) is not given.
    type: path
    required: true
  issuer_path:
    description:
      - File with the certificate of the CA that issued the certificate in O(certificate_path),
        PEM or DER. A bundle with several CA certificates is searched for the right one.
      - Optional when O(certificate_path) already holds the issuer.
    type: path
"""
