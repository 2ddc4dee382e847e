# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The engine on real-world certificates and OCSP responses from the cryptography-vectors package."""
from __future__ import annotations

import dataclasses
import datetime
import os
from typing import List

import pytest
from cryptography import x509
from cryptography.x509 import ocsp as x509_ocsp

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import compat
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts

cryptography_vectors = pytest.importorskip("cryptography_vectors")

VECTORS_ROOT = os.path.dirname(cryptography_vectors.__file__)
OCSP_DIR = os.path.join("x509", "ocsp")
ARMY_RESPONSE = os.path.join(OCSP_DIR, "ocsp-army.deps.mil-resp.der")
# The CertID of ocsp-army.valid-req.der (a certificate of DOD ID SW CA-38), as the
# newer vectors' request files hold it; the older vectors ship the response only.
ARMY_NAME_HASH = bytes.fromhex("992fc4e3c5ea9e8ea05de4b9a6ca3a773b8432c1")
ARMY_KEY_HASH = bytes.fromhex("8ec5b9ccfcce8e53b42acee8112acf9b296c67ca")
ARMY_VALID_SERIAL = 233901
ARMY_REVOKED_SERIAL = 233902


def vector(*parts: str) -> bytes:
    """A vector file's bytes; the test skips when this vectors release lacks the file."""
    path = os.path.join(*parts)
    if not vector_exists(path):
        pytest.skip("%s ships only with newer cryptography-vectors" % path)
    return cryptography_vectors.open_vector_file(path, "rb").read()


def vector_exists(path: str) -> bool:
    return os.path.exists(os.path.join(VECTORS_ROOT, path))


def certificate(name: str) -> x509.Certificate:
    return certificates.load_certificates(vector("x509", name), name)[0]


def ocsp_files() -> List[str]:
    return sorted(os.listdir(os.path.join(VECTORS_ROOT, OCSP_DIR)))


@pytest.fixture(scope="module")
def precert() -> x509.Certificate:
    return certificate("cryptography.io.precert.pem")


@pytest.fixture(scope="module")
def letsencrypt_x3() -> x509.Certificate:
    return certificate("letsencryptx3.pem")


@pytest.mark.parametrize("name", ocsp_files())
def test_every_ocsp_vector_gives_a_verdict(name: str, precert: x509.Certificate,
                                           letsencrypt_x3: x509.Certificate) -> None:
    result = ocsp.verify_response(vector(OCSP_DIR, name), precert, letsencrypt_x3,
                                  at=datetime.datetime(2018, 9, 1))
    assert result["verdict"] in verdicts.ALL
    assert result["reason"].startswith("OCSP response for CN=cryptography.io (serial ")
    if name.startswith("req-") or name.endswith("-req.der"):
        assert result["verdict"] == verdicts.MALFORMED  # a request is not a response


def test_real_response_verifies_as_good(precert: x509.Certificate, letsencrypt_x3: x509.Certificate) -> None:
    assert certificates.is_issued_by(precert, letsencrypt_x3)
    result = ocsp.verify_response(vector(OCSP_DIR, "resp-sha256.der"), precert, letsencrypt_x3,
                                  at=datetime.datetime(2018, 9, 1, 12, 0))
    assert result["verdict"] == verdicts.GOOD, result["reason"]
    assert result["signed_by"] == "issuer"
    assert result["responder"] == "CN=Let's Encrypt Authority X3,O=Let's Encrypt,C=US"
    assert (result["this_update"], result["next_update"], result["produced_at"]) == (
        "2018-08-30T11:00:00Z", "2018-09-06T11:00:00Z", "2018-08-30T11:15:00Z")
    assert result["seconds_until_next_update"] == 5 * 86400 - 3600


def test_real_response_outside_its_validity(precert: x509.Certificate, letsencrypt_x3: x509.Certificate) -> None:
    der = vector(OCSP_DIR, "resp-sha256.der")
    assert ocsp.verify_response(der, precert, letsencrypt_x3,
                                at=datetime.datetime(2018, 10, 1))["verdict"] == verdicts.EXPIRED
    assert ocsp.verify_response(der, precert, letsencrypt_x3,
                                at=datetime.datetime(2018, 8, 1))["verdict"] == verdicts.NOT_YET_VALID


def test_real_response_for_another_issuer(precert: x509.Certificate) -> None:
    other = certificate("cryptography.io.pem")
    result = ocsp.verify_response(vector(OCSP_DIR, "resp-sha256.der"), precert, other,
                                  at=datetime.datetime(2018, 9, 1))
    assert result["verdict"] == verdicts.WRONG_CERTIFICATE


def army_singles() -> List[compat.SingleResponse]:
    return compat.basic_response_from_der(vector(ARMY_RESPONSE)).singles


def army_cert_id(algorithm: object) -> tuple:
    return (ARMY_NAME_HASH, ARMY_KEY_HASH) if getattr(algorithm, "name", None) == "sha1" else (b"", b"")


def test_twenty_responses_are_searched_for_the_right_certificate() -> None:
    singles = army_singles()
    assert [single.serial_number for single in singles] == list(range(233887, 233907))
    good = ocsp.find_single_response(singles, ARMY_VALID_SERIAL, army_cert_id)
    assert (good.serial_number, good.cert_status) == (ARMY_VALID_SERIAL, x509_ocsp.OCSPCertStatus.GOOD)
    revoked = ocsp.find_single_response(singles, ARMY_REVOKED_SERIAL, army_cert_id)
    assert revoked.cert_status == x509_ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_time is not None and revoked.revocation_time.tzinfo is not None
    assert ocsp.find_single_response(singles, 1, army_cert_id) is None
    assert ocsp.find_single_response(singles, ARMY_VALID_SERIAL, lambda algorithm: (ARMY_NAME_HASH, b"")) is None


def test_twenty_responses_without_our_certificate(precert: x509.Certificate,
                                                  letsencrypt_x3: x509.Certificate) -> None:
    result = ocsp.verify_response(vector(ARMY_RESPONSE), precert, letsencrypt_x3)
    assert result["verdict"] == verdicts.WRONG_CERTIFICATE
    assert "233887" in result["reason"] and "and 15 more" in result["reason"]


@pytest.mark.skipif(not vector_exists(os.path.join(OCSP_DIR, "ocsp-army.valid-req.der")),
                    reason="the ocsp-army request vectors ship only with newer cryptography-vectors")
@pytest.mark.parametrize("request_name,status", [
    ("ocsp-army.valid-req.der", x509_ocsp.OCSPCertStatus.GOOD),
    ("ocsp-army.revoked-req.der", x509_ocsp.OCSPCertStatus.REVOKED),
    ("ocsp-army.inapplicable-req.der", None),
])
def test_army_requests_find_their_answers(request_name: str, status: object) -> None:
    request = x509_ocsp.load_der_ocsp_request(vector(OCSP_DIR, request_name))

    def cert_id(algorithm: object) -> tuple:
        same = algorithm.name == request.hash_algorithm.name
        return (request.issuer_name_hash, request.issuer_key_hash) if same else (b"", b"")

    found = ocsp.find_single_response(army_singles(), request.serial_number, cert_id)
    assert (found.cert_status if found else None) == status


@pytest.mark.parametrize("name", [name for name in ocsp_files() if name.startswith(("resp-", "ocsp-army.deps"))])
def test_der_fallback_reads_what_cryptography_reads(name: str) -> None:
    der = vector(OCSP_DIR, name)
    try:
        response = x509_ocsp.load_der_ocsp_response(der)
        expected = ocsp.basic_response(response)
    except (ValueError, x509.DuplicateExtension):
        pytest.skip("cryptography refuses %s or it is no successful response" % name)
    try:
        fallback = compat.basic_response_from_der(der)
    except ValueError:
        assert response.response_status != x509_ocsp.OCSPResponseStatus.SUCCESSFUL
        return
    assert comparable(fallback) == comparable(expected)


def comparable(basic: compat.BasicResponse) -> tuple:
    """Every field but the parsed responder name; hash objects by name (old releases lack their __eq__)."""
    singles = [dataclasses.replace(single, hash_algorithm=None) for single in basic.singles]
    hash_names = [getattr(single.hash_algorithm, "name", None) for single in basic.singles]
    return (basic.tbs_response_bytes, basic.signature, basic.signature_algorithm_oid,
            getattr(basic.signature_hash, "name", None), basic.produced_at, basic.responder_name_der,
            basic.responder_key_hash, basic.certificates, basic.nonce, singles, hash_names)


def test_must_staple_certificate_is_detected() -> None:
    facts = certificates.certificate_facts(certificate("tls-feature-ocsp-staple.pem"))
    assert facts["must_staple"] is True
    assert facts["must_staple_critical"] is False
    assert facts["stapling_applicable"] is True
    assert "Must-Staple" in facts["stapling_reason"]


def test_utf8_dnsname_certificate_yields_its_three_ocsp_urls() -> None:
    assert certificates.ocsp_uris(certificate("utf8-dnsname.pem")) == [
        "http://ocsp1.netlock.hu/cbca.cgi",
        "http://ocsp2.netlock.hu/cbca.cgi",
        "http://ocsp3.netlock.hu/cbca.cgi",
    ]


def test_real_chain_is_ordered_and_described() -> None:
    data = vector("x509", "cryptography.io.chain.pem")
    chain = certificates.load_certificates(data, "cryptography.io.chain.pem")
    ordered = certificates.order_chain(list(reversed(chain)))
    assert ordered[0].subject.rfc4514_string().startswith("CN=www.cryptography.io,")
    assert ordered == chain
    described = certificates.describe_certificates(chain, "cryptography.io.chain.pem")
    assert described[0]["issuer_in_file"] is True
    assert described[0]["ocsp_uris"] and described[0]["stapling_applicable"] is True


@pytest.mark.parametrize("name", ["cryptography.io.with_garbage.pem", "cryptography.io.with_headers.pem",
                                  "cryptography.io.chain_with_garbage.pem"])
def test_pem_with_garbage_and_headers(name: str) -> None:
    assert certificates.load_certificates(vector("x509", name), name)
