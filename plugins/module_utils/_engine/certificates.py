# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Certificates: load PEM, DER and bundles; facts; issuer search; chain order; applicability.

Pure Python on cryptography (3.4.8 .. newest). Errors are `CertificateError`s
whose message names the source; the content of non-certificate PEM blocks
(private keys) is never read or echoed.
"""
from __future__ import annotations

import base64
import errno
import getpass
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID
except ImportError:
    pass  # compat.HAS_CRYPTOGRAPHY says so; the modules fail with missing_required_lib first

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import names
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.compat import (
    PARSE_ERRORS, certificate_signed_by, iso, utc_attr,
)


class CertificateError(ValueError):
    """A certificate that cannot be loaded or read; the message names the source."""


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]{1,64})-----(.*?)-----END \1-----", re.DOTALL)
_CERTIFICATE_LABELS = (b"CERTIFICATE", b"X509 CERTIFICATE")

NO_OCSP_REASON = ("no OCSP responder URL in the Authority Information Access extension: stapling "
                  "does not apply (Let's Encrypt has issued such certificates since 2025)")

_SECONDS_PER_DAY = 86400


def load_certificates(data: bytes, source: str) -> List[x509.Certificate]:
    """Every certificate in `data`: PEM with one or more CERTIFICATE blocks, or one DER certificate."""
    if not data or not data.strip():
        raise CertificateError("%s: is empty; expected a PEM or DER certificate" % source)
    if b"-----BEGIN " in data:
        return _load_pem(data, source)
    try:
        return [_fully_read(x509.load_der_x509_certificate(data))]
    except PARSE_ERRORS:
        raise CertificateError(
            "%s: is neither PEM with a CERTIFICATE block nor a readable DER certificate; "
            "give the server certificate file (PEM or DER)" % source) from None


def _fully_read(cert: x509.Certificate) -> x509.Certificate:
    """`cert`, once every field the engine reads has parsed.

    cryptography parses fields lazily; a broken one must fail at load time,
    where the error names the file, not later in the middle of an issuer search.
    """
    try:
        cert.subject, cert.issuer  # pylint: disable=pointless-statement
    except PARSE_ERRORS:
        names.subject_and_issuer(cert.tbs_certificate_bytes)  # odd but readable names load; others raise
    for field in ("serial_number", "extensions"):
        getattr(cert, field)
    utc_attr(cert, "not_valid_before")
    utc_attr(cert, "not_valid_after")
    return cert


def _load_pem(data: bytes, source: str) -> List[x509.Certificate]:
    certs = []
    other_labels = []
    for position, match in enumerate(_PEM_BLOCK.finditer(data), start=1):
        label = match.group(1)
        if label not in _CERTIFICATE_LABELS:
            other_labels.append(label.decode("ascii"))
            continue
        try:
            certs.append(_fully_read(x509.load_der_x509_certificate(_pem_body(match.group(2)))))
        except PARSE_ERRORS:
            raise CertificateError(
                "%s: PEM block %d (%s) is not a valid certificate; replace the file with an intact copy"
                % (source, position, label.decode("ascii"))) from None
    if not certs:
        found = sorted(set(other_labels))
        if any("PRIVATE KEY" in label for label in found):
            raise CertificateError("%s: holds a private key, not a certificate (no PEM CERTIFICATE block; found only: "
                                   "%s); give the certificate file that goes with the key" % (source, ", ".join(found)))
        listed = (" (found only: %s)" % ", ".join(found)) if found else ""
        raise CertificateError("%s: holds no complete PEM CERTIFICATE block%s; give a certificate file "
                               "(PEM or DER)" % (source, listed))
    return certs


def _pem_body(body: bytes) -> bytes:
    """The DER inside a PEM block, tolerating indentation, CRLF and RFC 1421 header lines
    (cryptography's own PEM reader accepts some of these on some releases only)."""
    lines = [line.strip() for line in body.splitlines()]
    encoded = b"".join(line for line in lines if line and b":" not in line)
    return base64.b64decode(encoded, validate=True)


def load_certificate_file(path: str) -> List[x509.Certificate]:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise CertificateError(read_problem(path, error)) from None
    return load_certificates(data, path)


def read_problem(path: str, error: OSError) -> str:
    """Why `path` cannot be read, and what to do, in words (the errno named, not printed)."""
    if error.errno == errno.ENOENT:
        return "%s: cannot be read: no such file; check the path" % path
    if error.errno == errno.EISDIR:
        return "%s: cannot be read: it is a directory; give the certificate file in it, not the directory" % path
    if error.errno in (errno.EACCES, errno.EPERM):
        return ("%s: cannot be read: permission denied to user %s; run as a user who may read it "
                "(become: true) or fix its permissions" % (path, _user()))
    return "%s: cannot be read: %s; check the path and that user %s may read it" % (
        path, error.strerror or error, _user())


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "the remote user"


def inspect_files(paths: Sequence[str]) -> Tuple[List[dict], List[dict]]:
    """(facts of every certificate of every file that could be read, one entry per file).

    A file entry is {path, certificates (how many were read), error (None, or why the file gives no facts)}.
    One file's problem never hides the others: every file is inspected.
    """
    described: List[dict] = []
    files: List[dict] = []
    for path in paths:
        try:
            facts = describe_file(path)
        except CertificateError as error:
            files.append({"path": path, "certificates": 0, "error": str(error)})
            continue
        described.extend(facts)
        files.append({"path": path, "certificates": len(facts), "error": None})
    return described, files


def _raw_names(cert: x509.Certificate) -> Tuple[names.RawName, names.RawName]:
    return names.subject_and_issuer(cert.tbs_certificate_bytes)


def subject_text(cert: x509.Certificate) -> str:
    """The subject, RFC 4514; read from the DER (odd bytes as U+FFFD) when cryptography cannot decode it."""
    try:
        return cert.subject.rfc4514_string()
    except PARSE_ERRORS:
        return _raw_names(cert)[0].text


def issuer_text(cert: x509.Certificate) -> str:
    """The issuer name, RFC 4514, like subject_text."""
    try:
        return cert.issuer.rfc4514_string()
    except PARSE_ERRORS:
        return _raw_names(cert)[1].text


def _subject_key(cert: x509.Certificate) -> object:
    """What compares subjects to issuer names: the Name, or its DER when cryptography cannot decode it."""
    try:
        return cert.subject
    except PARSE_ERRORS:
        return _raw_names(cert)[0].der


def _issuer_key(cert: x509.Certificate) -> object:
    try:
        return cert.issuer
    except PARSE_ERRORS:
        return _raw_names(cert)[1].der


def oddities(cert: x509.Certificate) -> List[str]:
    """Sentences naming what is odd but not broken in `cert`: names that do not decode, unknown extensions."""
    found: List[str] = []
    try:
        subject, issuer = _raw_names(cert)
        found.extend(subject.oddities + issuer.oddities)
    except ValueError:
        pass  # cryptography read the names; this reader is only for the odd ones
    if cert.version == x509.Version.v1:
        found.append("an X.509 version 1 certificate: it has no extensions, so no OCSP responder URL; "
                     "reissue it as version 3")
    for extension in cert.extensions:
        if isinstance(extension.value, x509.UnrecognizedExtension):
            oid = extension.oid.dotted_string
            found.append("extension %s is unknown to cryptography%s" % (oid, (
                " and marked critical: clients that do not know it must refuse the certificate; check that "
                "your clients accept it") if extension.critical else " (not critical: clients ignore it)"))
    return found


def _extension_value(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> Optional[x509.Extension]:
    try:
        return cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        return None


def _access_uris(cert: x509.Certificate, method: x509.ObjectIdentifier) -> List[str]:
    extension = _extension_value(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS)
    if extension is None:
        return []
    return [entry.access_location.value for entry in extension.value
            if entry.access_method == method
            and isinstance(entry.access_location, x509.UniformResourceIdentifier)]


def ocsp_uris(cert: x509.Certificate) -> List[str]:
    """Every OCSP responder URL of the AIA extension, in order."""
    return _access_uris(cert, AuthorityInformationAccessOID.OCSP)


def ca_issuers_uris(cert: x509.Certificate) -> List[str]:
    return _access_uris(cert, AuthorityInformationAccessOID.CA_ISSUERS)


def crl_distribution_points(cert: x509.Certificate) -> List[str]:
    extension = _extension_value(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS)
    if extension is None:
        return []
    return [name.value for point in extension.value for name in (point.full_name or ())
            if isinstance(name, x509.UniformResourceIdentifier)]


def must_staple(cert: x509.Certificate) -> Tuple[bool, bool]:
    """(Must-Staple present, its extension is critical): TLS Feature with status_request."""
    extension = _extension_value(cert, ExtensionOID.TLS_FEATURE)
    if extension is None or x509.TLSFeatureType.status_request not in list(extension.value):
        return False, False
    return True, extension.critical


def is_self_signed(cert: x509.Certificate) -> bool:
    """Whether `cert` names itself as its issuer and its own key signed it."""
    return is_issued_by(cert, cert)


def is_ca(cert: x509.Certificate) -> bool:
    extension = _extension_value(cert, ExtensionOID.BASIC_CONSTRAINTS)
    return bool(extension is not None and extension.value.ca)


def subject_alt_names(cert: x509.Certificate) -> List[str]:
    """SANs as `DNS:name`, `IP:address`, `email:...`, `URI:...`, `dirName:...`, `RID:...`."""
    extension = _extension_value(cert, ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if extension is None:
        return []
    return [_general_name(name) for name in extension.value]


_GENERAL_NAME_PREFIXES = (
    ("DNSName", "DNS"), ("IPAddress", "IP"), ("RFC822Name", "email"),
    ("UniformResourceIdentifier", "URI"), ("RegisteredID", "RID"),
)


def _general_name(name: x509.GeneralName) -> str:
    if isinstance(name, x509.DirectoryName):
        return "dirName:" + name.value.rfc4514_string()
    if isinstance(name, x509.OtherName):
        return "otherName:" + name.type_id.dotted_string
    for kind, prefix in _GENERAL_NAME_PREFIXES:
        if isinstance(name, getattr(x509, kind)):
            value = name.value
            return "%s:%s" % (prefix, getattr(value, "dotted_string", value))
    return str(name.value)


def stapling_applicability(cert: x509.Certificate) -> Tuple[bool, str]:
    """Whether OCSP stapling applies to `cert`, and a sentence saying why not or what it needs."""
    uris = ocsp_uris(cert)
    staple_required, _critical = must_staple(cert)
    if not uris:
        reason = NO_OCSP_REASON
        if staple_required:
            reason += ("; yet the certificate carries Must-Staple, which no server can satisfy: "
                       "reissue it without Must-Staple")
        return False, reason
    if is_ca(cert):
        return False, ("a CA certificate: stapling applies to the server (leaf) certificate "
                       "whose chain includes it, not to the CA certificate itself")
    responders = "OCSP responder %s" % uris[0] if len(uris) == 1 else \
        "OCSP responders %s (servers ask the first)" % ", ".join(uris)
    reason = "%s; the server needs the issuer certificate to verify responses" % responders
    if staple_required:
        reason += ("; Must-Staple: clients that enforce it refuse the connection without a good "
                   "staple, so stapling must be on and working")
    return True, reason


def lifetime_days(cert: x509.Certificate) -> int:
    """Validity in whole days; notAfter is inclusive (RFC 5280), so a 90-day certificate says 90."""
    span = utc_attr(cert, "not_valid_after") - utc_attr(cert, "not_valid_before")
    return int(round((span.total_seconds() + 1) / _SECONDS_PER_DAY))


def sha256_fingerprint(cert: x509.Certificate) -> str:
    """Upper-case hex pairs joined by colons, as `openssl x509 -fingerprint -sha256` prints."""
    return ":".join("%02X" % byte for byte in cert.fingerprint(hashes.SHA256()))


def certificate_facts(cert: x509.Certificate, path: Optional[str] = None, index: int = 0) -> dict:
    """The facts of one certificate; CertificateError when its fields cannot be parsed."""
    try:
        return _facts(cert, path, index)
    except PARSE_ERRORS as error:
        raise CertificateError("%s: certificate %d has a field that cannot be parsed (%s); "
                               "replace it with an intact copy"
                               % (path or "certificate", index, type(error).__name__)) from None


def _facts(cert: x509.Certificate, path: Optional[str], index: int) -> dict:
    staple_required, staple_critical = must_staple(cert)
    applicable, reason = stapling_applicability(cert)
    return {
        "path": path,
        "index": index,
        "subject": subject_text(cert),
        "issuer": issuer_text(cert),
        "serial_number": cert.serial_number,
        "ocsp_uris": ocsp_uris(cert),
        "ca_issuers_uris": ca_issuers_uris(cert),
        "crl_distribution_points": crl_distribution_points(cert),
        "must_staple": staple_required,
        "must_staple_critical": staple_critical,
        "not_before": iso(utc_attr(cert, "not_valid_before")),
        "not_after": iso(utc_attr(cert, "not_valid_after")),
        "lifetime_days": lifetime_days(cert),
        "is_ca": is_ca(cert),
        "stapling_applicable": applicable,
        "stapling_reason": reason,
        "sha256_fingerprint": sha256_fingerprint(cert),
        "subject_alt_names": subject_alt_names(cert),
        "oddities": oddities(cert),
    }


def is_issued_by(cert: x509.Certificate, candidate: x509.Certificate) -> bool:
    """Whether `candidate` issued `cert`: issuer name matches AND the signature verifies."""
    return _issuer_key(cert) == _subject_key(candidate) and certificate_signed_by(cert, candidate)


def find_issuer(cert: x509.Certificate, candidates: Iterable[x509.Certificate]) -> Optional[x509.Certificate]:
    """The first candidate that issued `cert`, or None."""
    for candidate in candidates:
        if is_issued_by(cert, candidate):
            return candidate
    return None


class _IssuerIndex:
    """Candidates indexed by subject name, so an issuer search costs one dict lookup."""

    def __init__(self, candidates: Iterable[x509.Certificate]) -> None:
        self._by_subject: Dict[object, List[x509.Certificate]] = {}
        for candidate in candidates:
            self._by_subject.setdefault(_subject_key(candidate), []).append(candidate)

    def issuer_of(self, cert: x509.Certificate) -> Optional[x509.Certificate]:
        return find_issuer(cert, self._by_subject.get(_issuer_key(cert), ()))


def order_chain(certs: Sequence[x509.Certificate]) -> List[x509.Certificate]:
    """Leaf first, then each issuer found among `certs`; the rest keep their order at the end."""
    if not certs:
        return []
    index = _IssuerIndex(certs)
    issuers = {id(index.issuer_of(cert)) for cert in certs}
    leaf = next((cert for cert in certs if id(cert) not in issuers), certs[0])
    chain = [leaf]
    in_chain = {id(leaf)}
    current = index.issuer_of(leaf)
    while current is not None and id(current) not in in_chain:  # stops at self-signed roots and loops
        chain.append(current)
        in_chain.add(id(current))
        current = index.issuer_of(current)
    return chain + [cert for cert in certs if id(cert) not in in_chain]


def leaf_and_issuer(in_file: Sequence[x509.Certificate],
                    more_issuers: Sequence[x509.Certificate] = ()) -> Tuple[x509.Certificate, Optional[x509.Certificate]]:
    """The leaf of a certificate file's certificates and its issuer, from `more_issuers` or the file (None: not found)."""
    leaf = order_chain(in_file)[0]
    return leaf, find_issuer(leaf, [*more_issuers, *(cert for cert in in_file if cert is not leaf)])


def describe_certificates(certs: Sequence[x509.Certificate], path: Optional[str] = None) -> List[dict]:
    """certificate_facts per certificate, in order, plus `issuer_in_file`."""
    index = _IssuerIndex(certs)
    described = []
    for position, cert in enumerate(certs):
        facts = certificate_facts(cert, path, position)
        facts["issuer_in_file"] = index.issuer_of(cert) is not None
        described.append(facts)
    return described


def describe_file(path: str) -> List[dict]:
    return describe_certificates(load_certificate_file(path), path)
