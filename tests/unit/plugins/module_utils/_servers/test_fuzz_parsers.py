# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property-based fuzzing: mutated DER and PEM never escape the parsers as anything but a clean error.

Seeds are real certificates, OCSP responses and CRLs (cryptography-vectors where
available, and a PKI made here); hypothesis flips bits, truncates, inserts,
deletes and splices. Every input must end in a result, a CertificateError or
a verdict of the vocabulary.
"""
from __future__ import annotations

import datetime
import os
from typing import List

import pytest
from cryptography import x509
from cryptography.x509 import ocsp as x509_ocsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import compat
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import crl
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from tests.support import pki

# Bounded and reproducible for `make test`; TLSOPS_FUZZ_EXAMPLES=5000 runs a longer, random campaign.
_DEEP_EXAMPLES = int(os.environ.get("TLSOPS_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=_DEEP_EXAMPLES or 300, deadline=None, derandomize=not _DEEP_EXAMPLES,
                suppress_health_check=[HealthCheck.too_slow], database=None)
AT = datetime.datetime(2018, 9, 1)

_PKI = pki.TestPKI()
_LEAF = _PKI.leaf(must_staple=True, ca_issuers_urls=("http://ca.example.test/i.der",),
                  crl_urls=("http://crl.example.test/i.crl",))
_RSA_CA = pki.issue("Fuzz RSA CA", is_ca=True, key_kind="rsa")
_RSA_LEAF = pki.issue("rsa.example.test", _RSA_CA, ocsp_urls=("http://ocsp.example.test",))


def _vector_seeds(names: List[str]) -> List[bytes]:
    try:
        import cryptography_vectors
    except ImportError:
        return []
    root = os.path.dirname(cryptography_vectors.__file__)
    found = []
    for name in names:
        path = os.path.join(root, name)
        if os.path.exists(path):
            with open(path, "rb") as handle:
                found.append(handle.read())
    return found


CERT_DER_SEEDS = [_LEAF.der, _PKI.intermediate.der, _RSA_LEAF.der]
PEM_SEEDS = [_LEAF.pem + _PKI.intermediate.pem, _LEAF.key_pem + _LEAF.pem] + _vector_seeds([
    "x509/cryptography.io.precert.pem", "x509/utf8-dnsname.pem", "x509/tls-feature-ocsp-staple.pem",
])
RESPONSE_SEEDS = [
    _PKI.response(_LEAF.cert),
    _PKI.response(_LEAF.cert, "revoked", signer=_PKI.delegate),
    _PKI.response(_LEAF.cert, responder_by_hash=True, no_next_update=True),
    pki.TestPKI.response(_PKI, _RSA_LEAF.cert, issuer=_RSA_CA),
    pki.error_response(x509_ocsp.OCSPResponseStatus.TRY_LATER),
] + _vector_seeds([
    "x509/ocsp/resp-sha256.der", "x509/ocsp/ocsp-army.deps.mil-resp.der", "x509/ocsp/resp-revoked-reason.der",
    "x509/ocsp/resp-responder-key-hash.der",
])


@st.composite
def mutated(draw: st.DrawFn, seeds: List[bytes]) -> bytes:
    """A seed after one to four mutations: bit flip, truncation, insertion, deletion, byte overwrite."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _mutation in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(("flip", "truncate", "insert", "delete", "overwrite")))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[position] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[position:]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "delete":
            del data[position:position + draw(st.integers(1, 8))]
        elif data:
            data[position] = draw(st.sampled_from((0x00, 0x30, 0x80, 0x81, 0x82, 0xA0, 0xFF)))
    return bytes(data)


def _facts_or_clean_error(data: bytes) -> None:
    try:
        loaded = certificates.load_certificates(data, "fuzz.pem")
        described = certificates.describe_certificates(loaded, "fuzz.pem")
        certificates.order_chain(loaded)
    except certificates.CertificateError as error:
        assert str(error).startswith("fuzz.pem")
        return
    assert len(described) == len(loaded) >= 1
    for facts in described:
        assert isinstance(facts["serial_number"], int)
        assert isinstance(facts["stapling_reason"], str)


@FUZZ
@given(mutated(CERT_DER_SEEDS))
def test_mutated_der_certificates(data: bytes) -> None:
    _facts_or_clean_error(data)


@FUZZ
@given(mutated(PEM_SEEDS))
def test_mutated_pem_bundles(data: bytes) -> None:
    _facts_or_clean_error(data)


@FUZZ
@given(mutated(RESPONSE_SEEDS))
def test_mutated_responses_end_in_a_verdict(data: bytes) -> None:
    for cert, issuer in ((_LEAF.cert, _PKI.intermediate.cert), (_RSA_LEAF.cert, _RSA_CA.cert)):
        result = ocsp.verify_response(data, cert, issuer, at=AT)
        assert result["verdict"] in verdicts.ALL
        assert result["reason"]


@FUZZ
@given(mutated(RESPONSE_SEEDS))
def test_mutated_responses_in_the_der_fallback(data: bytes) -> None:
    try:
        basic = compat.basic_response_from_der(data)
    except ValueError:
        return
    assert isinstance(basic.singles, list)


@pytest.mark.parametrize("seed", range(len(RESPONSE_SEEDS)))
def test_seeds_themselves_give_verdicts(seed: int) -> None:
    result = ocsp.verify_response(RESPONSE_SEEDS[seed], _LEAF.cert, _PKI.intermediate.cert)
    assert result["verdict"] in verdicts.ALL


_CRL_ISSUING_POINT = x509.IssuingDistributionPoint(
    [x509.UniformResourceIdentifier("http://crl.example.test/i.crl")], None, True, False, None, False, False)
_REVOKED = [pki.Revocation(_LEAF.cert.serial_number, pki.utcnow(), x509.ReasonFlags.key_compromise),
            pki.Revocation(7, pki.utcnow())]
CRL_SEEDS = [
    pki.crl(_PKI.intermediate),
    pki.crl(_PKI.intermediate, _REVOKED, extensions=[(_CRL_ISSUING_POINT, True)]),
    pki.crl(_PKI.intermediate, _REVOKED, no_next_update=True, pem=True),
    pki.crl(_RSA_CA, [pki.Revocation(_RSA_LEAF.cert.serial_number, pki.utcnow())]),
    pki.crl(_PKI.intermediate, extensions=[(x509.DeltaCRLIndicator(3), True)]),
] + _vector_seeds([
    "x509/custom/crl_all_reasons.pem", "x509/custom/crl_idp_fullname_indirect_crl.pem",
    "x509/PKITS_data/crls/GoodCACRL.crl", "x509/PKITS_data/crls/distributionPoint1CACRL.crl",
])


@FUZZ
@given(mutated(CRL_SEEDS))
def test_mutated_crls_end_in_a_verdict(data: bytes) -> None:
    for cert, issuer in ((_LEAF.cert, _PKI.intermediate.cert), (_RSA_LEAF.cert, _RSA_CA.cert)):
        result = crl.verify_crl(data, cert, issuer, at=AT)
        assert result["verdict"] in verdicts.ALL
        assert result["reason"]


@FUZZ
@given(mutated(CERT_DER_SEEDS))
def test_mutated_certificates_through_the_crl_check(data: bytes) -> None:
    """Whatever distribution points a loadable certificate has, the CRL check ends in a verdict."""
    try:
        (cert,) = certificates.load_certificates(data, "fuzz.der")
    except certificates.CertificateError:
        return
    result = crl.check_certificate(cert, _PKI.intermediate.cert, lambda url, timeout, limit: (200, CRL_SEEDS[1]))
    assert result["verdict"] in verdicts.ALL
    assert all(entry["verdict"] in verdicts.ALL for entry in result["crls"])


@pytest.mark.parametrize("seed", range(len(CRL_SEEDS)))
def test_crl_seeds_themselves_give_verdicts(seed: int) -> None:
    assert crl.verify_crl(CRL_SEEDS[seed], _LEAF.cert, _PKI.intermediate.cert)["verdict"] in verdicts.ALL
