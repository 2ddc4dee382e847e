# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CRLs: download a certificate's CRLs (HTTP injected), verify them by the issuer, look up its serial.

RFC 5280 sections 5 and 6.3 for the common case, the one Let's Encrypt and
HARICA use since they dropped OCSP: a complete CRL, signed by the
certificate's issuer itself, at an http(s) distribution point. What this
module does not support (indirect CRLs, delta CRLs, distribution points with
a cRLIssuer, with reasons or with LDAP URLs only, CRLs with critical
extensions it does not know) is said plainly, as verdict `unknown`, never
guessed. Pure Python on cryptography (3.4.8 .. newest); never raises on bad
bytes: every outcome is a verdict with a reason.
"""
from __future__ import annotations

import datetime
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

try:
    from cryptography import x509
    from cryptography.x509.oid import CRLEntryExtensionOID, ExtensionOID
except ImportError:
    pass  # compat.HAS_CRYPTOGRAPHY says so; the modules fail with missing_required_lib first

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.compat import (
    PARSE_ERRORS, as_utc, certificate_algorithm, crl_next_update, iso, signature_hash, signature_valid, utc_attr,
    utcnow,
)
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.certificates import is_ca
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.ocsp import transport_error_cause

Download = Callable[[str, float, int], Tuple[int, bytes]]
"""(url, timeout, limit) -> (HTTP status, body): a GET that reads at most `limit` bytes of the body.

Raises on transport errors (DNS, refused, timeout), which the engine names.
The modules pass one built on Ansible's open_url (module_helpers.open_url_download).
"""

DEFAULT_MAX_SIZE = 10 * 1024 * 1024
# Without nextUpdate (RFC 5280 requires one) a CRL counts as current for this long after
# thisUpdate: the CA/Browser Forum's Baseline Requirements (4.9.7) allow at most 10 days.
DEFAULT_MAX_AGE = 10 * 86400
FETCHED_SCHEMES = ("http", "https")
# What each element of a result's `crls` carries.
ENTRY_FIELDS = ("url", "verdict", "reason", "this_update", "next_update", "crl_number", "size", "elapsed_ms")
# What a check of the certificate carries besides `crls`.
RESULT_FIELDS = ("verdict", "reason", "serial_number", "revocation_time", "revocation_reason")
# The verdict of several CRLs is the first of these that any of them gave: a verified
# revocation beats everything, a verified good beats every failure, and among failures
# the one that most needs a person comes first.
_PRECEDENCE = (verdicts.REVOKED, verdicts.GOOD, verdicts.BAD_SIGNATURE, verdicts.EXPIRED,
               verdicts.NOT_YET_VALID, verdicts.MALFORMED, verdicts.UNREACHABLE, verdicts.UNKNOWN)
_ANSWERS = (verdicts.GOOD, verdicts.REVOKED)


@dataclass
class Downloaded:
    """One URL's download: the body, or the error that kept it from coming."""

    url: str
    body: Optional[bytes]
    error: Optional[str]
    elapsed_ms: int


Cache = Dict[str, Downloaded]


@dataclass
class DistributionPoint:
    """A distribution point of the certificate: its http(s) URLs, or why it cannot be used."""

    urls: List[str]
    names: List[str]           # every URI it names, LDAP included, for the reasons
    unsupported: Optional[str]


class _Rejected(Exception):
    """A step of the CRL check failed: carries the verdict and its reason."""

    def __init__(self, verdict: str, reason: str) -> None:
        super().__init__(reason)
        self.verdict = verdict
        self.reason = reason


# --- Distribution points -------------------------------------------------------------

def distribution_points(cert: x509.Certificate) -> List[DistributionPoint]:
    """The certificate's CRL distribution points in order; [] when it names none."""
    try:
        extension = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS)
    except x509.ExtensionNotFound:
        return []
    return [_point(point) for point in extension.value]


def _point(point: x509.DistributionPoint) -> DistributionPoint:
    names = [name.value for name in point.full_name or () if isinstance(name, x509.UniformResourceIdentifier)]
    urls = [url for url in names if urllib.parse.urlsplit(url).scheme.lower() in FETCHED_SCHEMES]
    return DistributionPoint(urls, names, _unsupported_point(point, names, urls))


def _unsupported_point(point: x509.DistributionPoint, names: List[str], urls: List[str]) -> Optional[str]:
    if point.crl_issuer:
        return ("the distribution point names a cRLIssuer, so its CRL is an indirect CRL that another "
                "authority signs; indirect CRLs are not supported")
    if point.reasons:
        return ("the distribution point covers only some revocation reasons (%s); CRLs partitioned by "
                "reason are not supported" % ", ".join(sorted(reason.value for reason in point.reasons)))
    if point.relative_name is not None:
        return ("the distribution point names its CRL relative to the issuer's name, not by URL; "
                "that is not supported")
    if not urls and any(name.lower().startswith("ldap") for name in names):
        return ("the distribution point offers only LDAP URLs (%s); LDAP is not supported: only http "
                "and https CRLs are fetched" % ", ".join(names))
    if not urls:
        return "the distribution point names no http or https URL; only those are fetched"
    return None


# --- Download ------------------------------------------------------------------------------

def download(url: str, fetch: Download, timeout: float = 10.0, max_size: int = DEFAULT_MAX_SIZE,
             cache: Optional[Cache] = None) -> Downloaded:
    """GET `url` once: a second call with the same `cache` returns the first download."""
    if cache is not None and url in cache:
        return cache[url]
    started = time.monotonic()
    body: Optional[bytes] = None
    try:
        status, payload = fetch(url, timeout, max_size + 1)
    except Exception as error:  # noqa: BLE001 -- the injected transport may raise anything; we name it
        problem: Optional[str] = "%s; check DNS, firewall and proxy settings from this host" % (
            transport_error_cause(error, url, timeout))
    else:
        problem = _payload_problem(url, status, payload, max_size)
        body = None if problem else payload
    downloaded = Downloaded(url, body, problem, int(round((time.monotonic() - started) * 1000)))
    if cache is not None:
        cache[url] = downloaded
    return downloaded


def _payload_problem(url: str, status: int, payload: bytes, max_size: int) -> Optional[str]:
    if status != 200:
        return "HTTP status %d from %s; check the URL, and that the CA still publishes there" % (status, url)
    if len(payload) > max_size:
        return ("it is larger than max_size (%d bytes), so it was not read whole; raise max_size if this "
                "CA's CRLs are that large" % max_size)
    return None


# --- Verification of one CRL ---------------------------------------------------------

def verify_crl(data: bytes, cert: x509.Certificate, issuer: x509.Certificate,
               at: Optional[datetime.datetime] = None, skew: int = 300,
               max_age: int = DEFAULT_MAX_AGE) -> Dict[str, Any]:
    """Judge a CRL (DER or PEM) for `cert`, issued by `issuer`, at `at` (default now).

    Returns verdict, reason, this_update, next_update, crl_number,
    revocation_time and revocation_reason (RFC 5280's name, e.g.
    keyCompromise). Checks, in order: the CRL parses; its issuer name is the
    certificate's issuer; the issuer's key signed it (and may sign CRLs); it
    is a complete, direct CRL whose scope covers the certificate; the
    certificate's serial; thisUpdate/nextUpdate within `skew` seconds (a
    CRL without nextUpdate counts as current for `max_age` seconds after
    thisUpdate). A listed serial is revoked even on an out-of-date CRL:
    revocation is permanent.
    """
    result: Dict[str, Any] = dict.fromkeys(("this_update", "next_update", "crl_number", "revocation_time",
                                            "revocation_reason"))
    try:
        verdict, reason = _verify(data, cert, issuer, as_utc(at) if at else utcnow(), skew, max_age, result)
    except _Rejected as rejected:
        verdict, reason = rejected.verdict, rejected.reason
    except PARSE_ERRORS as error:
        verdict, reason = verdicts.MALFORMED, ("a field cannot be parsed (%s); the CA publishes a broken CRL "
                                               "or the download was damaged" % type(error).__name__)
    result.update(verdict=verdict, reason=reason)
    return result


def _verify(data: bytes, cert: x509.Certificate, issuer: x509.Certificate, at: datetime.datetime,
            skew: int, max_age: int, result: Dict[str, Any]) -> Tuple[str, str]:
    crl = load_crl(data)
    this_update, next_update = utc_attr(crl, "last_update"), crl_next_update(crl)
    result.update(this_update=iso(this_update), next_update=iso(next_update), crl_number=_crl_number(crl))
    _check_issuer(crl, cert, issuer)
    _check_scope(crl, cert)
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is not None:
        result.update(revocation_time=iso(utc_attr(entry, "revocation_date")), revocation_reason=_reason(entry))
        # Revocation is permanent: even an out-of-date signed CRL proves it.
        return verdicts.REVOKED, "the CRL lists the certificate as revoked on %s (reason: %s); replace it now" % (
            result["revocation_time"], result["revocation_reason"] or "unspecified")
    return verdicts.GOOD, _fresh(this_update, next_update, at, skew, max_age)


def load_crl(data: Any) -> x509.CertificateRevocationList:
    """The CRL in `data` (PEM or DER), else _Rejected(MALFORMED)."""
    if not isinstance(data, bytes) or not data:
        raise _Rejected(verdicts.MALFORMED, "no bytes to read; expected a DER or PEM CRL")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except PARSE_ERRORS:
        raise _Rejected(verdicts.MALFORMED, "the %d bytes are not a CRL in DER or PEM (an HTML error page, "
                                            "another kind of file, or truncated data?)" % len(data)) from None


def _crl_number(crl: x509.CertificateRevocationList) -> Optional[int]:
    try:
        return crl.extensions.get_extension_for_oid(ExtensionOID.CRL_NUMBER).value.crl_number
    except x509.ExtensionNotFound:
        return None


def _reason(entry: x509.RevokedCertificate) -> Optional[str]:
    try:
        return entry.extensions.get_extension_for_oid(CRLEntryExtensionOID.CRL_REASON).value.reason.value
    except x509.ExtensionNotFound:
        return None


def _check_issuer(crl: x509.CertificateRevocationList, cert: x509.Certificate, issuer: x509.Certificate) -> None:
    """RFC 5280 6.3.3 (f), (g): the certificate's issuer issued the CRL, may sign CRLs, and its key signed it."""
    if crl.issuer != cert.issuer:
        raise _Rejected(verdicts.BAD_SIGNATURE, (
            "the CRL is issued by %s, not by the certificate's issuer %s: the distribution point serves another "
            "CA's CRL, or the CRL is an indirect one (not supported)"
            % (crl.issuer.rfc4514_string(), cert.issuer.rfc4514_string())))
    if not _may_sign_crls(issuer):
        raise _Rejected(verdicts.BAD_SIGNATURE, (
            "the issuer %s lacks the cRLSign key usage, so no CRL may carry its signature; the CA must sign its "
            "CRLs with a certificate that has it" % issuer.subject.rfc4514_string()))
    if not signature_valid(issuer.public_key(), crl.signature, crl.tbs_certlist_bytes,
                           signature_hash(crl, certificate_algorithm), crl.signature_algorithm_oid):
        raise _Rejected(verdicts.BAD_SIGNATURE, (
            "the signature does not verify with the key of the issuer %s: the CRL is corrupt or forged, or "
            "signed with another key of the CA (not supported)" % issuer.subject.rfc4514_string()))


def _may_sign_crls(issuer: x509.Certificate) -> bool:
    try:
        return bool(issuer.extensions.get_extension_for_oid(ExtensionOID.KEY_USAGE).value.crl_sign)
    except x509.ExtensionNotFound:
        return True  # no key usage extension: every use is allowed (RFC 5280 4.2.1.3)


# CRL extensions this module acts on or may ignore whatever their criticality; any other
# critical one stops it (a critical FreshestCRL, say, would mean the deltas must be read).
_UNDERSTOOD = ("ISSUING_DISTRIBUTION_POINT", "DELTA_CRL_INDICATOR", "CRL_NUMBER", "AUTHORITY_KEY_IDENTIFIER")


def _check_scope(crl: x509.CertificateRevocationList, cert: x509.Certificate) -> None:
    """A complete, direct CRL for every reason, whose issuing distribution point covers the certificate."""
    understood = [getattr(ExtensionOID, name) for name in _UNDERSTOOD]
    for extension in crl.extensions:
        if extension.critical and extension.oid not in understood:
            raise _Rejected(verdicts.UNKNOWN, (
                "the CRL carries the critical extension %s, which this module does not know, so RFC 5280 forbids "
                "using it; check the certificate by OCSP instead" % extension.oid.dotted_string))
    try:
        crl.extensions.get_extension_for_oid(ExtensionOID.DELTA_CRL_INDICATOR)
    except x509.ExtensionNotFound:
        pass
    else:
        raise _Rejected(verdicts.UNKNOWN, "the CRL is a delta CRL (it lists only changes since a base CRL); "
                                          "delta CRLs are not supported: point the check at the complete CRL")
    try:
        point = crl.extensions.get_extension_for_oid(ExtensionOID.ISSUING_DISTRIBUTION_POINT).value
    except x509.ExtensionNotFound:
        return
    _check_issuing_point(point, cert)


def _check_issuing_point(point: x509.IssuingDistributionPoint, cert: x509.Certificate) -> None:
    """RFC 5280 6.3.3 (b): the issuing distribution point's scope includes the certificate."""
    if point.indirect_crl:
        raise _Rejected(verdicts.UNKNOWN, "the CRL is an indirect CRL (it lists certificates of other issuers "
                                          "too); indirect CRLs are not supported")
    if point.only_some_reasons:
        raise _Rejected(verdicts.UNKNOWN, (
            "the CRL covers only some revocation reasons (%s); CRLs partitioned by reason are not supported"
            % ", ".join(sorted(reason.value for reason in point.only_some_reasons))))
    ca = is_ca(cert)
    scope = ("certificates of attribute authorities" if point.only_contains_attribute_certs
             else "CA certificates" if point.only_contains_ca_certs and not ca
             else "end-entity certificates" if point.only_contains_user_certs and ca else None)
    if scope:
        raise _Rejected(verdicts.UNKNOWN, "the CRL lists only %s, so it says nothing about this certificate; "
                                          "it is the wrong CRL for it" % scope)
    if point.relative_name is not None:
        raise _Rejected(verdicts.UNKNOWN, "the CRL names its distribution point relative to the issuer's name; "
                                          "that is not supported")
    if point.full_name and not set(point.full_name) & set(_point_names(cert)):
        raise _Rejected(verdicts.UNKNOWN, (
            "the CRL is the partition for %s, not for any distribution point of the certificate, so it does not "
            "cover it (another shard of the CA's CRL?)" % ", ".join(_name_text(name) for name in point.full_name)))


def _name_text(name: x509.GeneralName) -> str:
    return name.value.rfc4514_string() if isinstance(name, x509.DirectoryName) else str(name.value)


def _point_names(cert: x509.Certificate) -> List[x509.GeneralName]:
    try:
        points = cert.extensions.get_extension_for_oid(ExtensionOID.CRL_DISTRIBUTION_POINTS).value
    except x509.ExtensionNotFound:
        return []
    return [name for point in points for name in point.full_name or ()]


def _fresh(this_update: datetime.datetime, next_update: Optional[datetime.datetime], at: datetime.datetime,
           skew: int, max_age: int) -> str:
    """The reason of a good answer when the CRL is current at `at` within `skew`; else _Rejected."""
    margin = datetime.timedelta(seconds=skew)
    if this_update > at + margin:
        raise _Rejected(verdicts.NOT_YET_VALID, (
            "thisUpdate %s is after %s (allowed clock skew %d s): check the clocks of this host and of the CA's "
            "CRL publisher" % (iso(this_update), iso(at), skew)))
    if next_update is not None:
        if next_update < at - margin:
            raise _Rejected(verdicts.EXPIRED, (
                "nextUpdate %s has passed (checked at %s): the CA no longer publishes fresh CRLs there, or a cache "
                "or proxy serves an old copy" % (iso(next_update), iso(at))))
        return "the CRL does not list the certificate; it is valid until %s" % iso(next_update)
    until = this_update + datetime.timedelta(seconds=max_age)
    if until < at - margin:
        raise _Rejected(verdicts.EXPIRED, (
            "the CRL has no nextUpdate (RFC 5280 requires one) and thisUpdate %s is older than the maximum age of "
            "%d s: it cannot count as current" % (iso(this_update), max_age)))
    return ("the CRL does not list the certificate; it has no nextUpdate (RFC 5280 requires one), so it counts "
            "as current until %s, %d s after thisUpdate" % (iso(until), max_age))


# --- The certificate's status from all its CRLs ---------------------------------------

def check_certificate(cert: x509.Certificate, issuer: x509.Certificate, fetch: Download,
                      at: Optional[datetime.datetime] = None, skew: int = 300, timeout: float = 10.0,
                      max_size: int = DEFAULT_MAX_SIZE, max_age: int = DEFAULT_MAX_AGE,
                      cache: Optional[Cache] = None) -> Dict[str, Any]:
    """The certificate's revocation status from the CRLs of its distribution points.

    Returns verdict, reason, serial_number, revocation_time,
    revocation_reason and crls (one entry per URL asked: ENTRY_FIELDS).
    Each distribution point is checked; within one, its URLs are tried in
    order until one gives a verified answer. Every URL is downloaded once per
    `cache` (one is made per call when none is given).
    """
    cache = {} if cache is None else cache
    subject = _describe(cert)
    result: Dict[str, Any] = dict(dict.fromkeys(RESULT_FIELDS), serial_number=_serial(cert), crls=[])
    try:
        points = distribution_points(cert)
    except PARSE_ERRORS as error:
        result.update(verdict=verdicts.MALFORMED, reason="%s: its CRL distribution points cannot be parsed (%s)"
                      % (subject, type(error).__name__))
        return result
    if not points:
        result.update(verdict=verdicts.NOT_APPLICABLE, reason=(
            "%s names no CRL distribution point, so no CRL says whether it is revoked; ask its OCSP responder "
            "(tlsops.ocsp.responder_info) instead" % subject))
        return result
    judged: Dict[str, Dict[str, Any]] = {}
    for point in points:
        result["crls"].extend(_check_point(point, cert, issuer, fetch, judged, cache,
                                           at=at, skew=skew, timeout=timeout, max_size=max_size, max_age=max_age))
    return _conclude(result, subject)


def _check_point(point: DistributionPoint, cert: x509.Certificate, issuer: x509.Certificate, fetch: Download,
                 judged: Dict[str, Dict[str, Any]], cache: Cache, **options: Any) -> List[Dict[str, Any]]:
    """Entries for the URLs of one distribution point, tried in order until one answers; URLs judged before are skipped."""
    if point.unsupported:
        return [_entry(point.names[0] if point.names else None, verdicts.UNKNOWN, point.unsupported)]
    entries = []
    for url in point.urls:
        if url in judged:
            if judged[url]["verdict"] in _ANSWERS:
                break
            continue
        judged[url] = _check_url(url, cert, issuer, fetch, cache, **options)
        entries.append(judged[url])
        if judged[url]["verdict"] in _ANSWERS:
            break
    return entries


def _check_url(url: str, cert: x509.Certificate, issuer: x509.Certificate, fetch: Download, cache: Cache,
               at: Optional[datetime.datetime], skew: int, timeout: float, max_size: int,
               max_age: int) -> Dict[str, Any]:
    downloaded = download(url, fetch, timeout, max_size, cache)
    if downloaded.body is None:
        entry = _entry(url, verdicts.UNREACHABLE, "the CRL cannot be downloaded: %s" % downloaded.error)
    else:
        verified = verify_crl(downloaded.body, cert, issuer, at=at, skew=skew, max_age=max_age)
        entry = _entry(url, verified.pop("verdict"), verified.pop("reason"), **verified)
        entry["size"] = len(downloaded.body)
    entry["elapsed_ms"] = downloaded.elapsed_ms
    return entry


def _entry(url: Optional[str], verdict: str, reason: str, **fields: Any) -> Dict[str, Any]:
    entry = dict(dict.fromkeys(ENTRY_FIELDS), url=url, verdict=verdict,
                 reason="CRL %s: %s" % (url, reason) if url else reason)
    entry.update(fields)
    return entry


def _conclude(result: Dict[str, Any], subject: str) -> Dict[str, Any]:
    """The verdict of the best entry (see _PRECEDENCE), with its revocation data and a reason naming the certificate."""
    best = min(result["crls"], key=lambda entry: _PRECEDENCE.index(entry["verdict"]))
    result.update(verdict=best["verdict"], reason="%s: %s" % (subject, best["reason"]),
                  revocation_time=best.get("revocation_time"), revocation_reason=best.get("revocation_reason"))
    for entry in result["crls"]:  # the entries carry ENTRY_FIELDS only
        entry.pop("revocation_time", None)
        entry.pop("revocation_reason", None)
    return result


def _serial(cert: x509.Certificate) -> Optional[int]:
    try:
        return cert.serial_number
    except PARSE_ERRORS:
        return None


def _describe(cert: x509.Certificate) -> str:
    try:
        return "%s (serial %d)" % (cert.subject.rfc4514_string(), cert.serial_number)
    except PARSE_ERRORS:
        return "the certificate"
