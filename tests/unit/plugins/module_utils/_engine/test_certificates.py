# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import compat
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.certificates import CertificateError
from tests.support import pki

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture(scope="module")
def test_pki() -> pki.TestPKI:
    return pki.TestPKI(ocsp_url="http://ocsp.example.test/")


@pytest.fixture(scope="module")
def leaf(test_pki: pki.TestPKI) -> pki.Issued:
    return test_pki.leaf("www.example.test", ca_issuers_urls=("http://ca.example.test/int.der",),
                         crl_urls=("http://crl.example.test/int.crl",))


def test_pem_bundle_loads_in_file_order_and_skips_keys(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    data = leaf.key_pem + leaf.pem + b"garbage between blocks\n" + test_pki.intermediate.pem
    loaded = certificates.load_certificates(data, "bundle.pem")
    assert loaded == [leaf.cert, test_pki.intermediate.cert]


@pytest.mark.parametrize("reshape", [
    lambda pem: pem.replace(b"\n", b"\r\n"),
    lambda pem: b"    " + pem.replace(b"\n", b"\n    "),
    lambda pem: b"\xef\xbb\xbf" + pem,
    lambda pem: pem.replace(b"-----\n", b"-----\nComment: from the CA portal\n\n", 1),
], ids=["crlf", "indented", "bom", "header"])
def test_pem_variants_load_alike(leaf: pki.Issued, reshape) -> None:
    assert certificates.load_certificates(reshape(leaf.pem), "variant.pem") == [leaf.cert]


def test_der_loads_one_certificate(leaf: pki.Issued) -> None:
    assert certificates.load_certificates(leaf.der, "leaf.der") == [leaf.cert]


def test_key_only_file_is_refused_without_echoing_the_key(leaf: pki.Issued) -> None:
    with pytest.raises(CertificateError) as caught:
        certificates.load_certificates(leaf.key_pem, "/etc/ssl/private/site.key")
    message = str(caught.value)
    assert message.startswith("/etc/ssl/private/site.key: ")
    assert "PRIVATE KEY" in message
    body = leaf.key_pem.splitlines()[1].decode()
    assert body not in message


@pytest.mark.parametrize("data,expected", [
    (b"", "is empty"),
    (b"\x30\x03\x02\x01\x01", "neither PEM"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "PEM block 1"),
    (b"-----BEGIN CERTIFICATE-----\nMIIB", "no complete PEM CERTIFICATE block"),
])
def test_bad_input_names_the_source(data: bytes, expected: str) -> None:
    with pytest.raises(CertificateError, match=r"^site\.pem: .*" + re.escape(expected)):
        certificates.load_certificates(data, "site.pem")


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(CertificateError, match=re.escape(str(missing)) + ": cannot be read"):
        certificates.load_certificate_file(str(missing))


def test_facts_of_a_leaf(leaf: pki.Issued) -> None:
    facts = certificates.certificate_facts(leaf.cert, "/srv/site.pem", 0)
    assert facts["path"] == "/srv/site.pem"
    assert facts["index"] == 0
    assert facts["subject"] == "CN=www.example.test,O=tlsops test"
    assert facts["issuer"] == "CN=tlsops Test Intermediate CA,O=tlsops test"
    assert facts["serial_number"] == leaf.cert.serial_number
    assert facts["ocsp_uris"] == ["http://ocsp.example.test/"]
    assert facts["ca_issuers_uris"] == ["http://ca.example.test/int.der"]
    assert facts["crl_distribution_points"] == ["http://crl.example.test/int.crl"]
    assert (facts["must_staple"], facts["must_staple_critical"], facts["is_ca"]) == (False, False, False)
    assert ISO_Z.match(facts["not_before"]) and ISO_Z.match(facts["not_after"])
    assert facts["lifetime_days"] == 91
    assert facts["stapling_applicable"] is True
    assert facts["stapling_reason"] == ("OCSP responder http://ocsp.example.test/; the server needs the "
                                        "issuer certificate to verify responses")
    assert facts["subject_alt_names"] == ["DNS:www.example.test"]
    assert re.match(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$", facts["sha256_fingerprint"])


def test_times_are_utc_with_z() -> None:
    start = datetime.datetime(2026, 1, 2, 3, 4, 5)
    cert = pki.issue("t", not_before=start, not_after=start + datetime.timedelta(days=90, seconds=-1)).cert
    facts = certificates.certificate_facts(cert)
    assert facts["not_before"] == "2026-01-02T03:04:05Z"
    assert facts["not_after"] == "2026-04-02T03:04:04Z"
    assert facts["lifetime_days"] == 90


def test_no_ocsp_url_means_stapling_does_not_apply(test_pki: pki.TestPKI) -> None:
    cert = test_pki.leaf("le.example.test", ocsp_urls=()).cert
    applicable, reason = certificates.stapling_applicability(cert)
    assert applicable is False
    assert reason == certificates.NO_OCSP_REASON
    assert "Let's Encrypt" in reason


def test_must_staple_without_ocsp_url_is_called_out(test_pki: pki.TestPKI) -> None:
    cert = test_pki.leaf("ms.example.test", ocsp_urls=(), must_staple=True).cert
    applicable, reason = certificates.stapling_applicability(cert)
    assert applicable is False
    assert "Must-Staple" in reason and "reissue" in reason


@pytest.mark.parametrize("critical", [False, True])
def test_must_staple_and_criticality(test_pki: pki.TestPKI, critical: bool) -> None:
    cert = test_pki.leaf("ms.example.test", must_staple=not critical, must_staple_critical=critical).cert
    facts = certificates.certificate_facts(cert)
    assert (facts["must_staple"], facts["must_staple_critical"]) == (True, critical)
    assert facts["stapling_applicable"] is True
    assert "Must-Staple" in facts["stapling_reason"]


def test_every_ocsp_url_in_order(test_pki: pki.TestPKI) -> None:
    urls = ("http://a.example.test/", "http://b.example.test/ocsp")
    cert = test_pki.leaf(ocsp_urls=urls).cert
    assert certificates.ocsp_uris(cert) == list(urls)
    assert "servers ask the first" in certificates.stapling_applicability(cert)[1]


def test_ca_certificate_is_not_a_stapling_target(test_pki: pki.TestPKI) -> None:
    ca = pki.issue("CA with OCSP", test_pki.root, is_ca=True, ocsp_urls=("http://ocsp.example.test/",))
    facts = certificates.certificate_facts(ca.cert)
    assert facts["is_ca"] is True
    assert facts["stapling_applicable"] is False
    assert "CA certificate" in facts["stapling_reason"]


def test_issuer_requires_name_and_signature(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    impostor = pki.issue("tlsops Test Intermediate CA", test_pki.root, is_ca=True)  # same name, other key
    assert certificates.is_issued_by(leaf.cert, test_pki.intermediate.cert)
    assert not certificates.is_issued_by(leaf.cert, impostor.cert)
    assert not certificates.is_issued_by(leaf.cert, test_pki.root.cert)
    found = certificates.find_issuer(leaf.cert, [impostor.cert, test_pki.root.cert, test_pki.intermediate.cert])
    assert found == test_pki.intermediate.cert
    assert certificates.find_issuer(leaf.cert, [impostor.cert]) is None


@pytest.mark.parametrize("key_kind", ["rsa", "ec"])
def test_issuer_check_by_key_type(key_kind: str) -> None:
    ca = pki.issue("Key type CA", is_ca=True, key_kind=key_kind)
    cert = pki.issue("leaf", ca).cert
    assert certificates.is_issued_by(cert, ca.cert)


def test_order_chain_leaf_first(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    unrelated = pki.issue("unrelated").cert
    shuffled = [test_pki.root.cert, unrelated, test_pki.intermediate.cert, leaf.cert]
    assert certificates.order_chain(shuffled) == [
        leaf.cert, test_pki.intermediate.cert, test_pki.root.cert, unrelated]
    assert certificates.order_chain([]) == []


def test_describe_file_says_whether_the_issuer_is_present(tmp_path: Path, test_pki: pki.TestPKI,
                                                          leaf: pki.Issued) -> None:
    bundle = tmp_path / "fullchain.pem"
    bundle.write_bytes(leaf.pem + test_pki.intermediate.pem)
    described = certificates.describe_file(str(bundle))
    assert [entry["index"] for entry in described] == [0, 1]
    assert [entry["path"] for entry in described] == [str(bundle)] * 2
    assert [entry["issuer_in_file"] for entry in described] == [True, False]
    assert described[1]["is_ca"] is True


# An RSA CA and a leaf it signed with RSASSA-PSS (SHA-256, 32-byte salt), made
# with cryptography 50: releases before 41 cannot sign with PSS.
PSS_CA_AND_LEAF = b"""\
-----BEGIN CERTIFICATE-----
MIIDDjCCAfagAwIBAgIUJceheiSP+oWjdnCeQGEfhBTpWt4wDQYJKoZIhvcNAQEL
BQAwJzEUMBIGA1UECgwLdGxzb3BzIHRlc3QxDzANBgNVBAMMBlBTUyBDQTAeFw0y
NjExMjMwNDM2MzRaFw0yNzAyMjIwNDM2MzRaMCcxFDASBgNVBAoMC3Rsc29wcyB0
ZXN0MQ8wDQYDVQQDDAZQU1MgQ0EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEK
AoIBAQDoZGG1WfGgzPR3HeH3aYhBT3xmgjGfG6VBAshnMPQ2tkUP3JvpTUIpjXaK
cz6s7PS8uArjuy2RG2EBPvWNSabuR6p61nzAyl+KEI/TnTmTzT5LQvHOOr3KKd0a
L7hbNBqKaObc8fXiCGk95Em06lSPXCBCIN/e+0BThQdf9LW8tRFXIMGunDkTRpDR
X1I8ssWTdchzzRZ7c5zpm3u5QdzG/n/QdrzyZiYjVZxGCLtStmGSPX/9iU6KomKJ
DEtQilotT886gCr7K3d16TAsV6wziOd8nZS6grlw69WOy/FpdR6cynYh+cXErgwE
2FxD4qw+Px4qTampQm8MB0A4IL4JAgMBAAGjMjAwMA8GA1UdEwEB/wQFMAMBAf8w
HQYDVR0OBBYEFHg06QTBj6oBCHHJ2s1NFayilTzyMA0GCSqGSIb3DQEBCwUAA4IB
AQDj24SmFCT3kXV7wJolhgTvTaDYo+MD5t6K1EE2mk8gaSfG6B3bzaQWRYglLzBf
2sZsVyY5jIvvveuQWLAs6jszGll0wbsbgTG/M5Pk7xkt9qaGbVj1TCJFswq5escp
rwtIbaRds1cvFt4uOjS40DPq0gKymtQCsDbCIsMyjhGj9ffVciDYenbaf+nGxvD6
uSxrBDJsaocQunFLlOijX7jamNkDEPtxmJsPmyaJRuvjW46U87T539cej+sUofnO
tkjs43UOe3nPi0Eawb2MpKI5O4mF5WPD7IjYPQ6WFewwwzx4y9qKe8+htO50ZYJO
DAvgeqb2xAePOWBZ0CrIgp79
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
MIICbjCCASKgAwIBAgIBBzBBBgkqhkiG9w0BAQowNKAPMA0GCWCGSAFlAwQCAQUA
oRwwGgYJKoZIhvcNAQEIMA0GCWCGSAFlAwQCAQUAogMCASAwJzEUMBIGA1UECgwL
dGxzb3BzIHRlc3QxDzANBgNVBAMMBlBTUyBDQTAeFw0yNjExMjQwNDM2MzRaFw0y
NjExMjUwNDM2MzRaMDExFDASBgNVBAoMC3Rsc29wcyB0ZXN0MRkwFwYDVQQDDBBw
c3MuZXhhbXBsZS50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE4NxHpuB1
jKRdQMV5vc6eZWl7Qu3B4J4B01htIVNQxSS3bK72kuMmZ3xyeZky9Puu6/7Z9H58
z21LnCw65PKtUzBBBgkqhkiG9w0BAQowNKAPMA0GCWCGSAFlAwQCAQUAoRwwGgYJ
KoZIhvcNAQEIMA0GCWCGSAFlAwQCAQUAogMCASADggEBAEHZY/5FGXzUTDN9lq59
FGiegQMOGUxfeQp8Mq3a4ChLpHHut6AT8dsek5nPpQaWmi3p5kWMHNotdKV1SQ6s
Wl1tpo5rImPRcfEyl8wQg6oyFhWAEcU/roVog3bThmC5uLANfPWE3arVZnpLzuAA
dLsG4DoPmCyFYSghqjiwPXCUkNPzuVhkDBjYdhQb7l8RqLq8vYNomFDpqpAk1cA3
0kZXjgFMBxsgK7ruexxt2A00pI0fc5xAifuoKC7fe4819uuIHwuCyngLhH0ljGkB
O4za13MEKab1b8VtW+LVYz0w2nQ2hxwizgvDE+GKnXajHAE3Mgo2R1uIQ7+OGfW9
nt8=
-----END CERTIFICATE-----
"""


def test_rsa_pss_signatures_verify() -> None:
    ca, leaf = certificates.load_certificates(PSS_CA_AND_LEAF, "pss.pem")
    assert certificates.is_issued_by(leaf, ca)
    assert not certificates.is_issued_by(leaf, leaf)
    # what releases without verify_directly_issued_by use
    algorithm = compat.signature_hash(leaf, compat.certificate_algorithm)
    assert algorithm.name == "sha256"
    assert compat.signature_valid(ca.public_key(), leaf.signature, leaf.tbs_certificate_bytes, algorithm,
                                  leaf.signature_algorithm_oid)
    assert not compat.signature_valid(ca.public_key(), leaf.signature, leaf.tbs_certificate_bytes + b"x",
                                      algorithm, leaf.signature_algorithm_oid)
    pss_without_parameters = bytes.fromhex("300b06092a864886f70d01010a")
    assert compat.pss_hash(pss_without_parameters).name == "sha1"  # RFC 4055 default
