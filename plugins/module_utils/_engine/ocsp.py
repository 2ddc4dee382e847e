# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OCSP: build requests, query responders (HTTP injected), verify responses per RFC 6960.

Pure Python on cryptography (3.4.8 .. newest) and the standard library. The
HTTP transport is a parameter (`fetch`): the modules pass one built on
Ansible's URL helpers (proxies, certificates); tests and scripts pass a
standard-library one. `verify_response` never raises on bad bytes: every
outcome is a verdict with a reason.
"""
from __future__ import annotations

import base64
import datetime
import http.client
import os
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ocsp
    from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, OCSPExtensionOID
except ImportError:
    pass  # compat.HAS_CRYPTOGRAPHY says so; the modules fail with missing_required_lib first

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.compat import (
    PARSE_ERRORS, BasicResponse, SingleResponse, as_utc, basic_response_algorithm, basic_response_from_der, iso,
    public_key_bits,
    signature_hash, signature_valid, unwrap_nonce, utc_attr, utcnow,
)
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.certificates import is_issued_by

# CertID hash algorithms a request may use, to the names of cryptography's hash classes.
HASH_ALGORITHMS: Dict[str, str] = {"sha1": "SHA1", "sha256": "SHA256", "sha384": "SHA384", "sha512": "SHA512"}
OCSP_REQUEST_TYPE = "application/ocsp-request"
NONCE_BYTES = 16
DEFAULT_MAX_AGE = 7 * 86400
MAX_RESPONSE_BYTES = 1024 * 1024
# What every verification result carries besides verdict and reason.
RESULT_FIELDS = ("cert_status", "this_update", "next_update", "revocation_time", "revocation_reason",
                 "produced_at", "responder", "signed_by", "seconds_until_next_update")

HttpFetch = Callable[[str, Optional[bytes], Dict[str, str], float], Tuple[int, bytes]]


@dataclass
class OcspRequestInfo:
    der: bytes
    nonce: Optional[bytes]
    hash_name: str


def build_request(cert: x509.Certificate, issuer: x509.Certificate, hash_name: str = "sha1",
                  nonce: bool = False) -> OcspRequestInfo:
    """A DER OCSP request for `cert`; CertID hashed with `hash_name`, with a random nonce on request."""
    if hash_name not in HASH_ALGORITHMS:
        raise ValueError("unsupported OCSP CertID hash %r; use one of %s"
                         % (hash_name, ", ".join(HASH_ALGORITHMS)))
    algorithm = getattr(hashes, HASH_ALGORITHMS[hash_name])()
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm)
    nonce_value = os.urandom(NONCE_BYTES) if nonce else None
    if nonce_value is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce_value), critical=False)
    der = builder.build().public_bytes(serialization.Encoding.DER)
    return OcspRequestInfo(der=der, nonce=nonce_value, hash_name=hash_name)


def get_url(base_url: str, request_der: bytes) -> str:
    """RFC 6960 A.1 GET form: the URL, '/', then the URL-encoded base64 of the DER request."""
    encoded = urllib.parse.quote(base64.b64encode(request_der).decode("ascii"), safe="")
    return base_url + ("" if base_url.endswith("/") else "/") + encoded


# --- Query ----------------------------------------------------------------

def query(url: str, request: Union[OcspRequestInfo, bytes], fetch: HttpFetch, method: str = "POST",
          timeout: float = 10.0) -> Dict[str, Any]:
    """Send `request` to the responder at `url` by POST or GET.

    Returns url, http_status, elapsed_ms, body, error, verdict and reason;
    verdict is UNREACHABLE (with the cause in error and reason) when no
    usable HTTP answer came back, else None.
    """
    der = request.der if isinstance(request, OcspRequestInfo) else request
    method = method.upper()
    if method == "GET":
        target, body, headers = get_url(url, der), None, {}
    else:
        target, body, headers = url, der, {"Content-Type": OCSP_REQUEST_TYPE}
    result: Dict[str, Any] = {"url": url, "http_status": None, "elapsed_ms": None, "body": None,
                              "error": None, "verdict": None, "reason": None}
    started = time.monotonic()
    try:
        status, payload = fetch(target, body, headers, timeout)
    except Exception as error:  # noqa: BLE001 -- the injected transport may raise anything; we name it
        result.update(http_status=_http_status(error), error=transport_error_cause(error, url, timeout))
    else:
        result.update(http_status=status, body=payload)
        if status != 200:
            result["error"] = "HTTP status %d from %s" % (status, url)
    result["elapsed_ms"] = int(round((time.monotonic() - started) * 1000))
    if result["error"] and result["http_status"] is not None:  # a server answered: the network is fine
        result.update(verdict=verdicts.UNREACHABLE, reason=http_status_reason(
            url, method, result["http_status"], result["body"]), body=None)
    elif result["error"]:
        result.update(verdict=verdicts.UNREACHABLE, body=None, reason=(
            "OCSP responder %s is unreachable by %s: %s; check DNS, firewall and proxy settings "
            "from this host, and the responder URL" % (url, method, result["error"])))
    return result


_RETRY_STATUSES = (429, 500, 502, 503, 504)


def http_status_reason(url: str, method: str, status: int, body: Optional[bytes]) -> str:
    """Why an HTTP error status from `url` means no OCSP answer, and what to do (not a network problem)."""
    answered = "OCSP responder URL %s answered HTTP %d %s to a %s request" % (
        url, status, http.client.responses.get(status, ""), method)
    answered = answered.replace("  ", " ")
    if status == 405:
        return "%s: it does not take %s; try %s instead" % (answered, method, "GET" if method == "POST" else "POST")
    if status in _RETRY_STATUSES:
        return ("%s: the responder is down or overloaded; ask again later, and check the URL if it persists"
                % answered)
    return ("%s with %s: it is not an OCSP responder, or not at that path; check the URL (the certificate's "
            "OCSP URL, or the url given)" % (answered, body_kind(body)))


def body_kind(body: Optional[bytes]) -> str:
    """What an HTTP body looks like, for reasons: empty, HTML/text (its start) or binary."""
    if not body:
        return "an empty body"
    start = body[:40].decode("utf-8", errors="replace").strip()
    if body.lstrip()[:1] == b"<":
        return "an HTML page (%r...)" % start
    if all(32 <= byte < 127 or byte in (9, 10, 13) for byte in body[:200]):
        return "text (%r...)" % start
    return "%d bytes that are not a DER OCSP response" % len(body)


def _looks_like_der(body: Optional[bytes]) -> bool:
    return bool(body) and body[:1] == b"\x30"


def ask(urls: List[str], cert: x509.Certificate, issuer: x509.Certificate, fetch: HttpFetch, method: str = "POST",
        timeout: float = 10.0, nonce: bool = False, hash_name: str = "sha1") -> Dict[str, Any]:
    """Ask each responder URL in turn until one answers, and verify that answer (or return the last failure).

    Returns url, http_status and elapsed_ms of the exchange plus verify_response's fields.
    """
    request = build_request(cert, issuer, hash_name=hash_name, nonce=nonce)
    answer: Dict[str, Any] = {}
    for url in urls:
        answer = query(url, request, method=method, timeout=timeout, fetch=fetch)
        if answer["error"] is None:
            break
    exchange = {key: answer[key] for key in ("url", "http_status", "elapsed_ms")}
    if answer["error"] is not None:
        return dict(exchange, **unverified(answer["verdict"], answer["reason"]))
    verified = verify_response(answer["body"], cert, issuer, expected_nonce=request.nonce)
    if verified["verdict"] == verdicts.MALFORMED and not _looks_like_der(answer["body"]):
        verified["reason"] = ("OCSP responder URL %s answered HTTP %d with %s, not an OCSP response: it is not an "
                              "OCSP responder, or not at that path; check the URL (the certificate's OCSP URL, or "
                              "the url given)" % (answer["url"], answer["http_status"], body_kind(answer["body"])))
    return dict(exchange, **verified)


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The error, then what it wraps (urllib's `reason`, `__cause__`, `__context__`)."""
    seen = set()
    pending: List[Any] = [error]
    while pending:
        current = pending.pop(0)
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        pending.extend((getattr(current, "reason", None), current.__cause__, current.__context__))


def transport_error_cause(error: BaseException, url: str, timeout: float) -> str:
    """A short cause: DNS failure, connection refused, timeout, HTTP status, or the error itself."""
    parsed = urllib.parse.urlsplit(url)
    host = parsed.hostname or url
    status = _http_status(error)
    if status is not None:
        return "HTTP status %d from %s" % (status, url)
    for cause in _causes(error):
        if isinstance(cause, socket.gaierror):
            return "DNS failure: cannot resolve %s (%s)" % (host, cause.strerror or cause)
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused by %s port %s: nothing listens there" % (host, _port(parsed))
        if isinstance(cause, (socket.timeout, TimeoutError)):
            return "timeout: no answer from %s within %g seconds" % (host, timeout)
    return _cause_from_text(error, host, timeout)


def _http_status(error: BaseException) -> Optional[int]:
    """The HTTP status an error carries (urllib's and Ansible's HTTPError), or None."""
    for cause in _causes(error):
        code = getattr(cause, "code", None)
        if isinstance(code, int) and 100 <= code < 600:
            return code
    return None


def _port(parsed: urllib.parse.SplitResult) -> int:
    try:
        return parsed.port or (443 if parsed.scheme == "https" else 80)
    except ValueError:
        return 80


_TEXT_CAUSES = (
    (("name or service not known", "nodename nor servname", "temporary failure in name resolution",
      "no address associated"), "DNS failure: cannot resolve %(host)s"),
    (("connection refused",), "connection refused by %(host)s: nothing listens there"),
    (("timed out", "timeout"), "timeout: no answer from %(host)s within %(timeout)g seconds"),
)


def _cause_from_text(error: BaseException, host: str, timeout: float) -> str:
    """Transports that flatten errors into text (Ansible's ConnectionError) still get a named cause."""
    text = str(error)
    for needles, template in _TEXT_CAUSES:
        if any(needle in text.lower() for needle in needles):
            return "%s (%s)" % (template % {"host": host, "timeout": timeout}, text)
    return "%s: %s" % (type(error).__name__, text or "no details")


# --- Parsing, on any cryptography release ----------------------------------

def single_responses(response: ocsp.OCSPResponse) -> List[SingleResponse]:
    """Every SingleResponse: `responses` (cryptography >= 37); older releases hold only one."""
    if hasattr(type(response), "responses"):
        return [_single_from_api(single) for single in response.responses]
    return [_single_from_api(response)]  # the response-level accessors read its only SingleResponse


def _single_from_api(single: Any) -> SingleResponse:
    try:
        hash_algorithm: Optional[hashes.HashAlgorithm] = single.hash_algorithm
    except UnsupportedAlgorithm:
        hash_algorithm = None
    revoked = single.certificate_status == ocsp.OCSPCertStatus.REVOKED
    return SingleResponse(
        hash_algorithm, single.issuer_name_hash, single.issuer_key_hash, single.serial_number,
        single.certificate_status, utc_attr(single, "this_update"), utc_attr(single, "next_update"),
        utc_attr(single, "revocation_time") if revoked else None,
        single.revocation_reason if revoked else None,
    )


def basic_response(response: ocsp.OCSPResponse) -> BasicResponse:
    """The parts of a successful response that verification reads."""
    name = response.responder_name
    try:
        nonce: Optional[bytes] = unwrap_nonce(
            response.extensions.get_extension_for_oid(OCSPExtensionOID.NONCE).value.nonce)
    except x509.ExtensionNotFound:
        nonce = None
    return BasicResponse(
        response.tbs_response_bytes, response.signature, response.signature_algorithm_oid,
        signature_hash(response, basic_response_algorithm), utc_attr(response, "produced_at"), name,
        name.public_bytes() if name is not None else None, response.responder_key_hash,
        list(response.certificates), nonce, single_responses(response),
    )


# cryptography < 37 refuses responses with several SingleResponses with this message.
_SEVERAL_SINGLES = "more than one SINGLERESP"

# --- Verification -----------------------------------------------------------

_RESPONDER_ERRORS = {
    "MALFORMED_REQUEST": (
        "malformedRequest", "the responder could not parse the request: check the request encoding "
                            "(try POST instead of GET) and the CertID hash algorithm"),
    "INTERNAL_ERROR": (
        "internalError", "the responder failed internally: retry later, and tell the CA if it persists"),
    "TRY_LATER": (
        "tryLater", "the responder is temporarily unable to answer: retry later"),
    "SIG_REQUIRED": (
        "sigRequired", "the responder wants signed requests, which servers do not send: use another responder"),
    "UNAUTHORIZED": (
        "unauthorized", "the responder is not authoritative for this certificate: check that the OCSP URL "
                        "belongs to the certificate's issuer and that the responder serves that CA"),
}


class _Rejected(Exception):
    """A verification step failed: carries the verdict and its reason."""

    def __init__(self, verdict: str, reason: str) -> None:
        super().__init__(reason)
        self.verdict = verdict
        self.reason = reason


def unverified(verdict: Optional[str], reason: Optional[str]) -> Dict[str, Any]:
    """A verification result with every field null: for when there is no response to verify."""
    return dict(dict.fromkeys(RESULT_FIELDS), verdict=verdict, reason=reason)


def verify_response(response_der: bytes, cert: x509.Certificate, issuer: x509.Certificate,
                    at: Optional[datetime.datetime] = None, skew: int = 300,
                    max_age: int = DEFAULT_MAX_AGE, expected_nonce: Optional[bytes] = None) -> Dict[str, Any]:
    """Verify a DER OCSP response for `cert`, issued by `issuer`, at `at` (default now), per RFC 6960 4.2.2.2.

    Returns verdict, reason, cert_status, this_update, next_update,
    revocation_time, revocation_reason, produced_at, responder, signed_by
    ('issuer' | 'delegate' | None) and seconds_until_next_update.
    """
    return judge_checked(check_response(response_der, cert, issuer), at, skew, max_age, expected_nonce)


@dataclass(frozen=True)
class CheckedResponse:
    """What verification finds without looking at the clock: parsing, CertID, signer and signatures.

    It depends only on the response bytes, the certificate and the issuer, so
    a caller that meets byte-identical inputs again may reuse it;
    `judge_checked` then applies the time-dependent rules at its own time.
    """

    fields: Dict[str, Any]                   # result fields found so far (never mutated)
    single: Optional[SingleResponse]         # the SingleResponse for the certificate, once found
    rejected: Optional[Tuple[str, str]]      # (verdict, reason) of a failure found here
    signed_by: Optional[str]
    delegate: Optional[x509.Certificate]     # the delegated responder, whose validity depends on the time
    nonce: Optional[bytes]
    described: str                           # the certificate, as reasons name it


def check_response(response_der: bytes, cert: x509.Certificate, issuer: x509.Certificate) -> CheckedResponse:
    """The time-independent steps of verify_response; never raises on bad bytes."""
    fields = unverified(None, None)
    found: Dict[str, Any] = {"single": None, "signed_by": None, "delegate": None, "nonce": None}
    rejected: Optional[Tuple[str, str]] = None
    try:
        _check(response_der, cert, issuer, fields, found)
    except _Rejected as rejection:
        rejected = (rejection.verdict, rejection.reason)
    except PARSE_ERRORS as error:
        rejected = _unparsable(error)
    return CheckedResponse(fields=fields, rejected=rejected, described=_describe(cert), **found)


def judge_checked(checked: CheckedResponse, at: Optional[datetime.datetime] = None, skew: int = 300,
                  max_age: int = DEFAULT_MAX_AGE, expected_nonce: Optional[bytes] = None) -> Dict[str, Any]:
    """The verify_response result of a CheckedResponse at `at` (default now): freshness and the rest."""
    moment = as_utc(at) if at else utcnow()
    result = dict(checked.fields)
    single = checked.single
    if single is not None and single.next_update is not None:
        result["seconds_until_next_update"] = int((single.next_update - moment).total_seconds())
    try:
        verdict, reason = _judge(checked, moment, skew, max_age, expected_nonce, result)
    except _Rejected as rejected:
        verdict, reason = rejected.verdict, rejected.reason
    except PARSE_ERRORS as error:
        verdict, reason = _unparsable(error)
    result.update(verdict=verdict, reason="OCSP response for %s: %s" % (checked.described, reason))
    return result


def _unparsable(error: Exception) -> Tuple[str, str]:
    return verdicts.MALFORMED, ("a field cannot be parsed (%s); fetch a fresh response from the responder"
                                % type(error).__name__)


def _describe(cert: x509.Certificate) -> str:
    try:
        return "%s (serial %d)" % (cert.subject.rfc4514_string(), cert.serial_number)
    except PARSE_ERRORS:
        return "the certificate"


def _check(der: bytes, cert: x509.Certificate, issuer: x509.Certificate, fields: Dict[str, Any],
           found: Dict[str, Any]) -> None:
    """Fill `fields` and `found` step by step, in verification order; _Rejected at the first failure."""
    response = _load(der)
    fields["produced_at"] = iso(response.produced_at)
    fields["responder"] = _responder_label(response, [issuer] + response.certificates)
    single = _matching_single(response, cert, issuer)
    found["single"] = single
    _record_single(single, fields)
    found["nonce"] = response.nonce
    found["signed_by"], found["delegate"] = _check_signer(response, issuer)


def _judge(checked: CheckedResponse, at: datetime.datetime, skew: int, max_age: int,
           expected_nonce: Optional[bytes], result: Dict[str, Any]) -> Tuple[str, str]:
    """The (verdict, reason) of a valid response at `at`, else _Rejected; continues `_check`'s order."""
    if checked.rejected is not None:
        raise _Rejected(*checked.rejected)
    single = checked.single
    if single is None:  # set whenever nothing was rejected
        raise _Rejected(verdicts.MALFORMED, "the response holds no answer for this certificate")
    if checked.delegate is not None:
        _check_delegate_validity(checked.delegate, at, skew)
    result["signed_by"] = checked.signed_by
    _check_nonce(checked.nonce, expected_nonce)
    if single.cert_status == ocsp.OCSPCertStatus.REVOKED:
        # Revocation is permanent: even an out-of-date signed answer proves it.
        raise _Rejected(verdicts.REVOKED, "the certificate was revoked on %s (reason: %s); replace it now"
                        % (result["revocation_time"], result["revocation_reason"] or "unspecified"))
    _check_freshness(single, at, skew, max_age)
    if single.cert_status == ocsp.OCSPCertStatus.UNKNOWN:
        raise _Rejected(verdicts.UNKNOWN, "the responder does not know this certificate; check that "
                                          "the OCSP URL belongs to the certificate's issuer")
    return verdicts.GOOD, "good, signed by the %s, valid until %s" % (
        result["signed_by"], result["next_update"] or "the maximum age after thisUpdate")


def _load(der: Any) -> BasicResponse:
    """The successful response in `der`, else _Rejected (MALFORMED or RESPONDER_ERROR)."""
    if not isinstance(der, bytes) or not der:
        raise _Rejected(verdicts.MALFORMED, "no bytes to verify; expected a DER OCSP response")
    try:
        response = ocsp.load_der_ocsp_response(der)
    except PARSE_ERRORS as error:
        if _SEVERAL_SINGLES in str(error):
            return basic_response_from_der(der)
        raise _Rejected(verdicts.MALFORMED, "the %d bytes are not a DER OCSP response (a PEM or base64 file, "
                                            "an HTML error page, or truncated data?)" % len(der)) from None
    status = response.response_status
    if status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        name, advice = _RESPONDER_ERRORS.get(status.name, (status.name, "ask the responder again later"))
        raise _Rejected(verdicts.RESPONDER_ERROR, "the responder answered %s instead of a response; %s"
                        % (name, advice))
    return basic_response(response)


def _responder_label(response: BasicResponse, known: List[x509.Certificate]) -> Optional[str]:
    """The responder ID: its RFC 4514 name, or `keyHash:<hex>`."""
    if response.responder_key_hash is not None:
        return "keyHash:" + response.responder_key_hash.hex()
    if response.responder_name is not None:
        return response.responder_name.rfc4514_string()
    named = next((cert for cert in known if _identifies(response, cert)), None)
    return named.subject.rfc4514_string() if named is not None else "a responder name that matches no certificate at hand"


def _cert_id_hashes(issuer: x509.Certificate, algorithm: hashes.HashAlgorithm) -> Tuple[bytes, bytes]:
    """(issuerNameHash, issuerKeyHash) of `issuer` with `algorithm`."""
    return (_digest(algorithm, issuer.subject.public_bytes()),
            _digest(algorithm, _key_bits(issuer)))


def _key_bits(cert: x509.Certificate) -> bytes:
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return public_key_bits(spki)


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    digest = hashes.Hash(algorithm)
    digest.update(data)
    return digest.finalize()


CertIdHashes = Callable[["hashes.HashAlgorithm"], Tuple[bytes, bytes]]


def find_single_response(singles: List[SingleResponse], serial_number: int,
                         cert_id_hashes: CertIdHashes) -> Optional[SingleResponse]:
    """The SingleResponse whose CertID is (serial_number, cert_id_hashes(its hash algorithm)), or None.

    `cert_id_hashes` gives (issuerNameHash, issuerKeyHash) for a hash
    algorithm, so every response is compared with its own algorithm.
    """
    for single in singles:
        if single.hash_algorithm is not None and single.serial_number == serial_number \
                and cert_id_hashes(single.hash_algorithm) == (single.issuer_name_hash, single.issuer_key_hash):
            return single
    return None


def _matching_single(response: BasicResponse, cert: x509.Certificate,
                     issuer: x509.Certificate) -> SingleResponse:
    computed: Dict[str, Tuple[bytes, bytes]] = {}

    def issuer_hashes(algorithm: hashes.HashAlgorithm) -> Tuple[bytes, bytes]:
        if algorithm.name not in computed:
            computed[algorithm.name] = _cert_id_hashes(issuer, algorithm)
        return computed[algorithm.name]

    single = find_single_response(response.singles, cert.serial_number, issuer_hashes)
    if single is None:
        raise _Rejected(verdicts.WRONG_CERTIFICATE, _mismatch_reason(response.singles, cert))
    return single


def _mismatch_reason(singles: List[SingleResponse], cert: x509.Certificate) -> str:
    serials = ", ".join(str(single.serial_number) for single in singles[:5])
    more = " and %d more" % (len(singles) - 5) if len(singles) > 5 else ""
    same_serial = any(single.serial_number == cert.serial_number for single in singles)
    detail = ("its serial number appears, but with another issuer's name and key hashes: is the issuer "
              "certificate given the one that issued it?" if same_serial
              else "it covers serial %s%s" % (serials, more))
    return ("the response is about another certificate (%s); the server staples a stale or foreign "
            "response: clear its OCSP cache or response file and fetch a fresh one" % detail)


def _record_single(single: SingleResponse, result: Dict[str, Any]) -> None:
    result.update(
        cert_status=single.cert_status.name.lower(),
        this_update=iso(single.this_update),
        next_update=iso(single.next_update),
        revocation_time=iso(single.revocation_time),
        revocation_reason=single.revocation_reason.value if single.revocation_reason else None,
    )


def _check_signer(response: BasicResponse,
                  issuer: x509.Certificate) -> Tuple[str, Optional[x509.Certificate]]:
    """('issuer', None) or ('delegate', the delegate) when the signer is authorised and its signature
    verifies, else _Rejected. The delegate's validity period is left to the caller, who knows the time."""
    if _identifies(response, issuer):
        _check_signature(response, issuer, "the issuer %s" % issuer.subject.rfc4514_string())
        return "issuer", None
    delegates = [candidate for candidate in response.certificates if _identifies(response, candidate)]
    if not delegates:
        raise _Rejected(verdicts.UNAUTHORIZED_SIGNER, (
            "the responder ID %s names neither the issuer %s nor a certificate included in the response; "
            "the response comes from another CA's responder or lacks its delegate certificate"
            % (_responder_label(response, [issuer]), issuer.subject.rfc4514_string())))
    delegate = delegates[0]
    _check_signature(response, delegate, "the delegated responder %s" % delegate.subject.rfc4514_string())
    _check_delegate(delegate, issuer)
    return "delegate", delegate


def _identifies(response: BasicResponse, candidate: x509.Certificate) -> bool:
    """Whether the response's responder ID names `candidate`, by name or by SHA-1 key hash."""
    if response.responder_name is not None:
        return response.responder_name == candidate.subject
    if response.responder_name_der is not None:
        return response.responder_name_der == candidate.subject.public_bytes()
    return response.responder_key_hash == _digest(hashes.SHA1(), _key_bits(candidate))  # RFC 6960 KeyHash


def _check_signature(response: BasicResponse, signer: x509.Certificate, who: str) -> None:
    if not signature_valid(signer.public_key(), response.signature, response.tbs_response_bytes,
                           response.signature_hash, response.signature_algorithm_oid):
        raise _Rejected(verdicts.BAD_SIGNATURE, "the signature does not verify with the key of %s: the "
                                                "response is corrupt or forged; do not staple it" % who)


def _check_delegate(delegate: x509.Certificate, issuer: x509.Certificate) -> None:
    """RFC 6960 4.2.2.2: the issuer signed the delegate, which has id-kp-OCSPSigning."""
    name = delegate.subject.rfc4514_string()
    if not is_issued_by(delegate, issuer):
        raise _Rejected(verdicts.UNAUTHORIZED_SIGNER, (
            "the delegated responder %s was not issued by the certificate's issuer %s, so it may not sign "
            "for it; the response comes from another CA" % (name, issuer.subject.rfc4514_string())))
    if not _has_ocsp_signing(delegate):
        raise _Rejected(verdicts.UNAUTHORIZED_SIGNER, (
            "the delegated responder %s lacks the id-kp-OCSPSigning extended key usage; the CA must "
            "reissue the responder certificate with it" % name))


def _check_delegate_validity(delegate: x509.Certificate, at: datetime.datetime, skew: int) -> None:
    """The delegate must be valid at `at`, within `skew`."""
    not_before, not_after = utc_attr(delegate, "not_valid_before"), utc_attr(delegate, "not_valid_after")
    margin = datetime.timedelta(seconds=skew)
    if not not_before - margin <= at <= not_after + margin:
        raise _Rejected(verdicts.UNAUTHORIZED_SIGNER, (
            "the delegated responder certificate %s is valid from %s to %s, not at %s; the responder "
            "must be given a current certificate"
            % (delegate.subject.rfc4514_string(), iso(not_before), iso(not_after), iso(at))))


def _has_ocsp_signing(cert: x509.Certificate) -> bool:
    try:
        usages = cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.OCSP_SIGNING in list(usages)


def _check_nonce(nonce: Optional[bytes], expected: Optional[bytes]) -> None:
    """A nonce that differs from the request's means the answer belongs to another request (a replay).

    A response without any nonce is accepted: most responders serve
    pre-generated responses and ignore nonces (RFC 8954 allows that).
    """
    if expected is None or nonce is None:
        return
    if nonce != unwrap_nonce(expected):
        raise _Rejected(verdicts.WRONG_CERTIFICATE, (
            "the response carries nonce %s, not the request's %s: it answers another request (a replayed "
            "or cached response); query the responder again" % (nonce.hex(), expected.hex())))


def _check_freshness(single: SingleResponse, at: datetime.datetime, skew: int, max_age: int) -> None:
    """thisUpdate not in the future and nextUpdate not in the past, within `skew`; else max_age applies."""
    margin = datetime.timedelta(seconds=skew)
    if single.this_update > at + margin:
        raise _Rejected(verdicts.NOT_YET_VALID, (
            "thisUpdate %s is after %s (allowed clock skew %d s): check the clocks of this host, the "
            "server and the responder" % (iso(single.this_update), iso(at), skew)))
    if single.next_update is not None and single.next_update < at - margin:
        raise _Rejected(verdicts.EXPIRED, (
            "nextUpdate %s has passed (checked at %s): the server keeps an out-of-date response; make it "
            "fetch a fresh one (check it can reach the responder)" % (iso(single.next_update), iso(at))))
    if single.next_update is None and single.this_update < at - datetime.timedelta(seconds=max_age):
        raise _Rejected(verdicts.EXPIRED, (
            "it has no nextUpdate and thisUpdate %s is older than the maximum age of %d s: fetch a "
            "fresh response" % (iso(single.this_update), max_age)))
