# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fallbacks across cryptography 3.4.8 .. newest, in one place.

Newer releases add timezone-aware `*_utc` accessors (and deprecate the naive
ones), `verify_directly_issued_by`, `OCSPResponse.responses` and `PSS.AUTO`.
The helpers here use the new API when the installed release has it, so no
deprecation warning is ever emitted, and fall back otherwise. A small DER
reader (at the end) covers what older releases cannot read at all.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple

try:
    from cryptography import x509
    from cryptography.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
    from cryptography.x509 import ocsp
except ImportError:
    # The modules fail with missing_required_lib before they call the engine;
    # the engine itself must still import (ansible-test's import test).
    HAS_CRYPTOGRAPHY = False
    PARSE_ERRORS: Tuple[type, ...] = (ValueError, TypeError)
    SIGNATURE_ERRORS: Tuple[type, ...] = (ValueError, TypeError)
else:
    HAS_CRYPTOGRAPHY = True
    # Everything cryptography raises while parsing a certificate or an OCSP
    # response, or a field of one (fields are parsed lazily, on first access).
    # Older releases report some malformed DER (an unknown OCSP response type)
    # as an OpenSSL InternalError.
    PARSE_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm, InternalError, x509.DuplicateExtension,
                    x509.UnsupportedGeneralNameType, x509.InvalidVersion)
    # Everything a signature check can raise for bad or unsupported input.
    SIGNATURE_ERRORS = (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError)

UTC = datetime.timezone.utc
RSASSA_PSS_OID = "1.2.840.113549.1.1.10"


def utc_attr(obj: Any, name: str) -> Optional[datetime.datetime]:
    """`obj.<name>` as an aware UTC datetime, through `<name>_utc` when the class has it."""
    if hasattr(type(obj), name + "_utc"):
        return getattr(obj, name + "_utc")
    value = getattr(obj, name)
    return None if value is None else value.replace(tzinfo=UTC)


def iso(moment: Optional[datetime.datetime]) -> Optional[str]:
    """ISO 8601 UTC with a `Z` (`2026-11-24T04:03:19Z`), or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(UTC)


def as_utc(moment: datetime.datetime) -> datetime.datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _pss_padding(hash_algorithm: hashes.HashAlgorithm) -> padding.PSS:
    # PSS.AUTO (cryptography >= 37) reads the salt length from the signature.
    # Older releases need it given: the CA/Browser Forum requirements allow
    # only a salt as long as the digest, so that is what they verify.
    salt_length = getattr(padding.PSS, "AUTO", hash_algorithm.digest_size)
    return padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=salt_length)


def signature_valid(public_key: Any, signature: bytes, data: bytes,
                    hash_algorithm: Optional[hashes.HashAlgorithm], algorithm_oid: Any) -> bool:
    """Whether `signature` over `data` verifies with `public_key`, by key type.

    RSA (PKCS#1 v1.5 or PSS, from the structure's signature algorithm), ECDSA,
    DSA, Ed25519 and Ed448. Any failure, including an unsupported key, is False.
    """
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            pad = _pss_padding(hash_algorithm) if algorithm_oid.dotted_string == RSASSA_PSS_OID \
                else padding.PKCS1v15()
            public_key.verify(signature, data, pad, hash_algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_algorithm))
        elif isinstance(public_key, dsa.DSAPublicKey):
            public_key.verify(signature, data, hash_algorithm)
        elif isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            public_key.verify(signature, data)
        else:
            return False
    except SIGNATURE_ERRORS:
        return False
    return True


def signature_hash(structure: Any, algorithm_identifier: Callable[[bytes], bytes]) -> Optional[hashes.HashAlgorithm]:
    """The hash of a certificate's or response's signature; None for Ed25519/Ed448 or unknown.

    Older releases do not read RSASSA-PSS parameters: then the hash comes
    from the DER AlgorithmIdentifier that `algorithm_identifier` finds in the
    structure's encoding.
    """
    try:
        return structure.signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError):
        pass
    if structure.signature_algorithm_oid.dotted_string != RSASSA_PSS_OID:
        return None
    try:
        return pss_hash(algorithm_identifier(structure.public_bytes(serialization.Encoding.DER)))
    except (ValueError, IndexError):
        return None


def pss_hash(algorithm_identifier: bytes) -> Optional[hashes.HashAlgorithm]:
    """The hashAlgorithm of RSASSA-PSS-params (RFC 4055) in a DER AlgorithmIdentifier; SHA-1 by default."""
    _oid_element, *parameters = der_children(der_single(algorithm_identifier, DER_SEQUENCE))
    fields = der_children(der_single(parameters[0].raw, DER_SEQUENCE)) if parameters else []
    for element in fields:
        if element.tag == 0xA0:
            hash_oid = der_children(der_single(element.content, DER_SEQUENCE))[0].content
            return _hash(_HASHES_BY_OID, _oid(hash_oid).dotted_string)
    return hashes.SHA1()


def certificate_algorithm(certificate_der: bytes) -> bytes:
    """Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }: the middle one."""
    return der_children(der_single(certificate_der, DER_SEQUENCE))[1].raw


def basic_response_algorithm(response_der: bytes) -> bytes:
    """The signatureAlgorithm of the BasicOCSPResponse inside an OCSPResponse."""
    return _basic_response_fields(response_der)[1].raw


def certificate_signed_by(cert: Any, issuer: Any) -> bool:
    """Whether `issuer`'s key signed `cert` (names are checked by the caller)."""
    if hasattr(type(cert), "verify_directly_issued_by"):
        try:
            cert.verify_directly_issued_by(issuer)
        except SIGNATURE_ERRORS:
            return False
        return True
    try:
        public_key = issuer.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return False
    return signature_valid(public_key, cert.signature, cert.tbs_certificate_bytes,
                           signature_hash(cert, certificate_algorithm), cert.signature_algorithm_oid)


def crl_next_update(crl: Any) -> Optional[datetime.datetime]:
    """A CRL's nextUpdate as aware UTC, or None when it has none.

    cryptography before 35 fails an internal assertion (InternalError) on a
    CRL without nextUpdate instead of returning None: then the DER says.
    """
    try:
        return utc_attr(crl, "next_update")
    except InternalError:
        if _has_next_update(crl.public_bytes(serialization.Encoding.DER)):
            raise
        return None


_DER_TIME_TAGS = (0x17, 0x18)  # UTCTime, GeneralizedTime


def _has_next_update(crl_der: bytes) -> bool:
    """TBSCertList: [version] signature issuer thisUpdate [nextUpdate] ...: are there two times?"""
    tbs = der_children(der_children(der_single(crl_der, DER_SEQUENCE))[0].content)
    return sum(1 for element in tbs[:5] if element.tag in _DER_TIME_TAGS) == 2


# --- A minimal DER reader, for what older releases cannot load ------------
# cryptography before 37 refuses OCSP responses with more than one
# SingleResponse ("more than one SINGLERESP"); some CAs send such responses.
# The reader below takes them apart so they can still be verified.

class DerElement(NamedTuple):
    tag: int
    content: bytes
    raw: bytes  # the whole element, header included (signed bytes are kept verbatim)


def der_children(data: bytes) -> List[DerElement]:
    """The DER elements laid end to end in `data`; ValueError if it is not DER."""
    children = []
    offset = 0
    while offset < len(data):
        tag, start, end = _der_element(data, offset)
        children.append(DerElement(tag, data[start:end], data[offset:end]))
        offset = end
    return children


def _der_element(data: bytes, offset: int) -> Tuple[int, int, int]:
    if offset + 2 > len(data):
        raise ValueError("truncated DER element")
    tag, first = data[offset], data[offset + 1]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte DER tags are not used by OCSP")
    start = offset + 2
    length = first
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or start + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    if start + length > len(data):
        raise ValueError("truncated DER element")
    return tag, start, start + length


def der_single(data: bytes, tag: int) -> bytes:
    """The content of `data`, which must be exactly one element with `tag`."""
    children = der_children(data)
    if len(children) != 1 or children[0].tag != tag:
        raise ValueError("expected one DER element with tag 0x%02x" % tag)
    return children[0].content


DER_SEQUENCE = 0x30
_DER_BIT_STRING = 0x03
_DER_OCTET_STRING = 0x04
_DER_ENUMERATED = 0x0A
_DER_GENERALIZED_TIME = 0x18


def public_key_bits(spki_der: bytes) -> bytes:
    """The subjectPublicKey BIT STRING content (unused-bits byte dropped), as OCSP key hashes use."""
    _algorithm, key = der_children(der_single(spki_der, DER_SEQUENCE))
    if key.tag != _DER_BIT_STRING or not key.content:
        raise ValueError("SubjectPublicKeyInfo without a BIT STRING")
    return key.content[1:]


def _oid(content: bytes) -> x509.ObjectIdentifier:
    if not content:
        raise ValueError("empty OBJECT IDENTIFIER")
    arcs = [min(content[0] // 40, 2)]
    arcs.append(content[0] - 40 * arcs[0])
    value = 0
    for byte in content[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    return x509.ObjectIdentifier(".".join(str(arc) for arc in arcs))


def _generalized_time(content: bytes) -> datetime.datetime:
    """GeneralizedTime YYYYMMDDHHMMSS[.fff]Z as aware UTC."""
    text = content.decode("ascii")
    if not text.endswith("Z"):
        raise ValueError("GeneralizedTime without Z")
    return datetime.datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)


@dataclass
class SingleResponse:
    """One SingleResponse of a BasicOCSPResponse; times are aware UTC."""

    hash_algorithm: Optional[hashes.HashAlgorithm]
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial_number: int
    cert_status: ocsp.OCSPCertStatus
    this_update: datetime.datetime
    next_update: Optional[datetime.datetime]
    revocation_time: Optional[datetime.datetime]
    revocation_reason: Optional[x509.ReasonFlags]


@dataclass
class BasicResponse:
    """What verification reads from a successful OCSP response, whichever way it was parsed."""

    tbs_response_bytes: bytes
    signature: bytes
    signature_algorithm_oid: x509.ObjectIdentifier
    signature_hash: Optional[hashes.HashAlgorithm]
    produced_at: datetime.datetime
    responder_name: Optional[x509.Name]    # from cryptography
    responder_name_der: Optional[bytes]    # always, when the responder ID is a name
    responder_key_hash: Optional[bytes]
    certificates: List[x509.Certificate]
    nonce: Optional[bytes]
    singles: List[SingleResponse]


# Hash and signature algorithm OIDs, to the names of cryptography's hash classes.
_HASHES_BY_OID = {
    "1.3.14.3.2.26": "SHA1", "2.16.840.1.101.3.4.2.4": "SHA224", "2.16.840.1.101.3.4.2.1": "SHA256",
    "2.16.840.1.101.3.4.2.2": "SHA384", "2.16.840.1.101.3.4.2.3": "SHA512",
}
_SIGNATURE_HASHES = {
    "1.2.840.113549.1.1.5": "SHA1", "1.2.840.113549.1.1.11": "SHA256", "1.2.840.113549.1.1.12": "SHA384",
    "1.2.840.113549.1.1.13": "SHA512", "1.2.840.10045.4.1": "SHA1", "1.2.840.10045.4.3.2": "SHA256",
    "1.2.840.10045.4.3.3": "SHA384", "1.2.840.10045.4.3.4": "SHA512",
}
_REASONS = {0: "unspecified", 1: "key_compromise", 2: "ca_compromise", 3: "affiliation_changed",
            4: "superseded", 5: "cessation_of_operation", 6: "certificate_hold",
            8: "remove_from_crl", 9: "privilege_withdrawn", 10: "aa_compromise"}
_STATUS_TAGS = {0x80: "GOOD", 0xA1: "REVOKED", 0x82: "UNKNOWN"}
_BASIC_RESPONSE_OID = "1.3.6.1.5.5.7.48.1.1"
_NONCE_OID = "1.3.6.1.5.5.7.48.1.2"


def basic_response_from_der(der: bytes) -> BasicResponse:
    """A successful OCSP response read field by field (RFC 6960 4.2.1); ValueError when it is not one."""
    try:
        return _basic_response(der)
    except (IndexError, KeyError, StopIteration, UnicodeDecodeError) as error:
        raise ValueError("not an RFC 6960 BasicOCSPResponse") from error


def _basic_response_fields(der: bytes) -> List[DerElement]:
    """tbsResponseData, signatureAlgorithm, signature and [0] certs of a successful OCSPResponse."""
    status, response_bytes = der_children(der_single(der, DER_SEQUENCE))
    if status.tag != _DER_ENUMERATED or status.content != b"\x00" or response_bytes.tag != 0xA0:
        raise ValueError("not a successful OCSP response")
    response_type, basic = der_children(der_single(response_bytes.content, DER_SEQUENCE))
    if _oid(response_type.content).dotted_string != _BASIC_RESPONSE_OID:
        raise ValueError("not a BasicOCSPResponse")
    return der_children(der_single(der_single(basic.raw, _DER_OCTET_STRING), DER_SEQUENCE))


def _basic_response(der: bytes) -> BasicResponse:
    tbs, algorithm, signature, *extra = _basic_response_fields(der)
    algorithm_oid = _oid(der_children(algorithm.content)[0].content)
    signature_hash_algorithm = pss_hash(algorithm.raw) if algorithm_oid.dotted_string == RSASSA_PSS_OID \
        else _hash(_SIGNATURE_HASHES, algorithm_oid.dotted_string)
    certs = [x509.load_der_x509_certificate(cert.raw) for element in extra if element.tag == 0xA0
             for cert in der_children(der_single(element.content, DER_SEQUENCE))]
    fields = [element for element in der_children(tbs.content) if element.tag != 0xA0]  # version
    responder, produced_at, responses = fields[:3]
    name_der = responder.content if responder.tag == 0xA1 else None
    key_hash = der_single(responder.content, _DER_OCTET_STRING) if responder.tag == 0xA2 else None
    return BasicResponse(
        tbs.raw, signature.content[1:], algorithm_oid, signature_hash_algorithm,
        _generalized_time(der_single(produced_at.raw, _DER_GENERALIZED_TIME)), None, name_der, key_hash, certs,
        _nonce(fields[3:]), [_single(element.content) for element in der_children(responses.content)],
    )


def _hash(names: Dict[str, str], dotted_oid: str) -> Optional[hashes.HashAlgorithm]:
    name = names.get(dotted_oid)
    return getattr(hashes, name)() if name else None


def _nonce(tail: List[DerElement]) -> Optional[bytes]:
    for element in tail:
        if element.tag != 0xA1:
            continue
        for extension in der_children(der_single(element.content, DER_SEQUENCE)):
            extension_id, *_critical, value = der_children(extension.content)
            if _oid(extension_id.content).dotted_string == _NONCE_OID:
                return unwrap_nonce(value.content)
    return None


def unwrap_nonce(value: bytes) -> bytes:
    """The nonce inside an OCSP nonce extension value.

    RFC 6960 wraps it in an OCTET STRING; cryptography < 37 returns (and
    builds) it unwrapped, and some responders do too: accept both.
    """
    try:
        inner = der_children(value)
    except ValueError:
        return value
    return inner[0].content if len(inner) == 1 and inner[0].tag == _DER_OCTET_STRING else value


def _single(content: bytes) -> SingleResponse:
    fields = der_children(content)
    cert_id, status, this_update = fields[:3]
    algorithm, name_hash, key_hash, serial = der_children(cert_id.content)
    next_update = next((_generalized_time(der_single(element.content, _DER_GENERALIZED_TIME))
                        for element in fields[3:] if element.tag == 0xA0), None)
    if this_update.tag != _DER_GENERALIZED_TIME or status.tag not in _STATUS_TAGS:
        raise ValueError("SingleResponse fields out of order")
    revoked = _revoked_info(status.content) if status.tag == 0xA1 else (None, None)
    return SingleResponse(
        _hash(_HASHES_BY_OID, _oid(der_children(algorithm.content)[0].content).dotted_string),
        name_hash.content, key_hash.content, int.from_bytes(serial.content, "big", signed=True),
        getattr(ocsp.OCSPCertStatus, _STATUS_TAGS[status.tag]),
        _generalized_time(this_update.content), next_update, *revoked)


def _revoked_info(content: bytes) -> Tuple[datetime.datetime, Optional[x509.ReasonFlags]]:
    fields = der_children(content)
    reason = None
    for element in fields[1:]:
        if element.tag == 0xA0:
            code = int.from_bytes(der_single(element.content, _DER_ENUMERATED), "big")
            reason = getattr(x509.ReasonFlags, _REASONS[code])
    return _generalized_time(fields[0].content), reason
