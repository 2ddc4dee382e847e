# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fallbacks across cryptography 3.4.8 .. newest, in one place.

Newer releases add timezone-aware `*_utc` accessors (and deprecate the naive
ones), `verify_directly_issued_by` and `signature_algorithm_parameters`. The
helpers here use the new API when the installed release has it, so no
deprecation warning is ever emitted, and fall back otherwise.
"""
from __future__ import annotations

import datetime
from typing import Any, List, Optional, Tuple

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import SignatureAlgorithmOID

UTC = datetime.timezone.utc

# Everything a signature check can raise for bad or unsupported input.
SIGNATURE_ERRORS = (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError)


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
    # PSS.AUTO (newer releases) reads the salt length from the signature; on
    # older ones MAX_LENGTH maps to OpenSSL's "auto" when verifying.
    salt_length = getattr(padding.PSS, "AUTO", padding.PSS.MAX_LENGTH)
    return padding.PSS(mgf=padding.MGF1(hash_algorithm), salt_length=salt_length)


def signature_valid(public_key: Any, signature: bytes, data: bytes,
                    hash_algorithm: Optional[hashes.HashAlgorithm], algorithm_oid: Any) -> bool:
    """Whether `signature` over `data` verifies with `public_key`, by key type.

    RSA (PKCS#1 v1.5 or PSS, from the structure's signature algorithm), ECDSA,
    DSA, Ed25519 and Ed448. Any failure, including an unsupported key, is False.
    """
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            pad = _pss_padding(hash_algorithm) if algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS \
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


def signature_hash(structure: Any) -> Optional[hashes.HashAlgorithm]:
    """The hash of a certificate's or response's signature; None for Ed25519/Ed448 or unknown."""
    try:
        return structure.signature_hash_algorithm
    except (UnsupportedAlgorithm, ValueError):
        return None


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
                           signature_hash(cert), cert.signature_algorithm_oid)


# --- A minimal DER reader -------------------------------------------------
# cryptography before 37 exposes only the first SingleResponse of an OCSP
# response; the fallback below reads all of them from the signed bytes.

def der_children(data: bytes) -> List[Tuple[int, bytes]]:
    """The (tag, content) pairs of the DER elements laid end to end in `data`; ValueError if not DER."""
    children = []
    offset = 0
    while offset < len(data):
        tag, start, end = _der_element(data, offset)
        children.append((tag, data[start:end]))
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
    if len(children) != 1 or children[0][0] != tag:
        raise ValueError("expected one DER element with tag 0x%02x" % tag)
    return children[0][1]


DER_SEQUENCE = 0x30
DER_BIT_STRING = 0x03


def public_key_bits(spki_der: bytes) -> bytes:
    """The subjectPublicKey BIT STRING content (unused-bits byte dropped), as OCSP key hashes use."""
    _algorithm, key = der_children(der_single(spki_der, DER_SEQUENCE))
    if key[0] != DER_BIT_STRING or not key[1]:
        raise ValueError("SubjectPublicKeyInfo without a BIT STRING")
    return key[1][1:]
