# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdict vocabulary shared by the engine, the modules, the roles and reports.

Every result carries a `verdict` (one of `ALL`) and a `reason`: a specific
sentence. `sentence()` gives the default sentence for a verdict; `severity()`
tells reports and roles how bad a verdict is for a certificate.
"""
from __future__ import annotations

from typing import Dict, Tuple

GOOD = "good"
REVOKED = "revoked"
UNKNOWN = "unknown"
NO_STAPLE = "no_staple"
NOT_APPLICABLE = "not_applicable"
BAD_SIGNATURE = "bad_signature"
UNAUTHORIZED_SIGNER = "unauthorized_signer"
WRONG_CERTIFICATE = "wrong_certificate"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
RESPONDER_ERROR = "responder_error"
MALFORMED = "malformed"
UNREACHABLE = "unreachable"

ALL: Tuple[str, ...] = (
    GOOD, REVOKED, UNKNOWN, NO_STAPLE, NOT_APPLICABLE, BAD_SIGNATURE,
    UNAUTHORIZED_SIGNER, WRONG_CERTIFICATE, EXPIRED, NOT_YET_VALID,
    RESPONDER_ERROR, MALFORMED, UNREACHABLE,
)

_SENTENCES: Dict[str, str] = {
    GOOD: "The OCSP response is valid and says the certificate is good.",
    REVOKED: "The OCSP response says the certificate is revoked: replace the certificate.",
    UNKNOWN: "The OCSP responder does not know the certificate: check that the responder serves its issuer.",
    NO_STAPLE: "The server sent no OCSP response in the handshake: check that stapling is on and the "
               "server can reach the responder.",
    NOT_APPLICABLE: "The certificate names no OCSP responder, so stapling does not apply to it.",
    BAD_SIGNATURE: "The OCSP response signature does not verify: the response is corrupt or forged.",
    UNAUTHORIZED_SIGNER: "The OCSP response is signed by a certificate the issuer did not authorise "
                         "for OCSP signing.",
    WRONG_CERTIFICATE: "The OCSP response is about another certificate: the server staples a stale "
                       "or wrong response.",
    EXPIRED: "The OCSP response is out of date (nextUpdate has passed): the server must fetch a fresh one.",
    NOT_YET_VALID: "The OCSP response is not valid yet (thisUpdate is in the future): check the clocks.",
    RESPONDER_ERROR: "The OCSP responder answered with an error status instead of a response.",
    MALFORMED: "The bytes are not a well-formed OCSP response.",
    UNREACHABLE: "The OCSP responder could not be reached.",
}

OK = "ok"
WARNING = "warning"
CRITICAL = "critical"

# Verdicts that mean "nothing to do" for a certificate without Must-Staple.
_HEALTHY = frozenset((GOOD, NOT_APPLICABLE))


def sentence(verdict: str) -> str:
    """The default human sentence for `verdict`; ValueError for a word outside the vocabulary."""
    try:
        return _SENTENCES[verdict]
    except KeyError:
        raise ValueError("unknown verdict %r; expected one of %s" % (verdict, ", ".join(ALL))) from None


def severity(verdict: str, must_staple: bool = False) -> str:
    """OK, WARNING or CRITICAL for `verdict` on a certificate.

    A revoked certificate is always critical. A Must-Staple certificate served
    without a good staple is a hard outage for clients that enforce it, so any
    other verdict is critical there; without Must-Staple it is a warning.
    """
    sentence(verdict)  # validates the word
    if verdict == REVOKED:
        return CRITICAL
    if must_staple:
        return OK if verdict == GOOD else CRITICAL
    return OK if verdict in _HEALTHY else WARNING
