# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CRL engine: CRLs made here (every verdict), the PKITS CRLs of cryptography-vectors, downloads.

verify_crl is checked on bytes; check_certificate on a transport that serves
bytes per URL from a dict and records every request (the real HTTP path
through Ansible's open_url is in tests/unit/plugins/modules/test_crl_info.py).
"""
from __future__ import annotations

import datetime
import os
from typing import Dict, List, Tuple, Union

import pytest
from cryptography import x509
from cryptography.x509.oid import ObjectIdentifier

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import crl
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from tests.support.pki import Issued, Revocation, TestPKI, crl as make_crl, issue, utcnow

CRL_URL = "http://crl.example.test/intermediate.crl"
MIRROR_URL = "http://mirror.example.test/intermediate.crl"
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(scope="module")
def leaf(pki: TestPKI) -> Issued:
    return pki.leaf(crl_urls=(CRL_URL,), ocsp_urls=())


def revoked_entry(cert: Issued, reason: Union[x509.ReasonFlags, None] = x509.ReasonFlags.key_compromise,
                  ago: datetime.timedelta = 2 * HOUR) -> Revocation:
    return Revocation(cert.cert.serial_number, utcnow() - ago, reason)


def verify(data: bytes, leaf: Issued, pki: TestPKI, **options) -> dict:
    return crl.verify_crl(data, leaf.cert, pki.intermediate.cert, **options)


# --- verify_crl: CRLs made here ---------------------------------------------------------

@pytest.mark.parametrize("pem", [False, True], ids=["der", "pem"])
def test_good_crl_in_der_and_pem(pki, leaf, pem):
    other = pki.leaf("other.example.test")
    data = make_crl(pki.intermediate, [revoked_entry(other)], number=42, pem=pem)

    result = verify(data, leaf, pki)

    assert result["verdict"] == verdicts.GOOD, result["reason"]
    assert result["crl_number"] == 42
    assert result["this_update"].endswith("Z") and result["next_update"] > result["this_update"]
    assert (result["revocation_time"], result["revocation_reason"]) == (None, None)
    assert "does not list the certificate" in result["reason"] and result["next_update"] in result["reason"]


@pytest.mark.parametrize("pem", [False, True], ids=["der", "pem"])
def test_revoked_with_time_and_reason(pki, leaf, pem):
    entry = revoked_entry(leaf, x509.ReasonFlags.superseded)

    result = verify(make_crl(pki.intermediate, [entry], pem=pem), leaf, pki)

    assert result["verdict"] == verdicts.REVOKED
    assert result["revocation_time"] == entry.time.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["revocation_reason"] == "superseded"
    assert "replace it now" in result["reason"]


def test_revoked_without_reason(pki, leaf):
    result = verify(make_crl(pki.intermediate, [revoked_entry(leaf, None)]), leaf, pki)

    assert (result["verdict"], result["revocation_reason"]) == (verdicts.REVOKED, None)
    assert "reason: unspecified" in result["reason"]


def test_revocation_on_an_out_of_date_crl_still_counts(pki, leaf):
    data = make_crl(pki.intermediate, [revoked_entry(leaf, ago=30 * 24 * HOUR)],
                    this_update=hours_from_now(-20 * 24), next_update=hours_from_now(-10 * 24))

    assert verify(data, leaf, pki)["verdict"] == verdicts.REVOKED


def hours_from_now(hours: float) -> datetime.datetime:
    """Naive UTC `hours` from now (negative: in the past), as the CRL builder wants it."""
    return utcnow() + datetime.timedelta(hours=hours)


def test_expired_crl(pki, leaf):
    data = make_crl(pki.intermediate, this_update=hours_from_now(-48), next_update=hours_from_now(-1))

    result = verify(data, leaf, pki)

    assert result["verdict"] == verdicts.EXPIRED
    assert "nextUpdate %s has passed" % result["next_update"] in result["reason"]


def test_next_update_just_passed_is_within_the_skew(pki, leaf):
    data = make_crl(pki.intermediate, this_update=hours_from_now(-48), next_update=hours_from_now(-0.05))  # 3 minutes ago

    assert verify(data, leaf, pki)["verdict"] == verdicts.GOOD
    assert verify(data, leaf, pki, skew=60)["verdict"] == verdicts.EXPIRED


def test_not_yet_valid_crl(pki, leaf):
    data = make_crl(pki.intermediate, this_update=hours_from_now(2), next_update=hours_from_now(48))

    result = verify(data, leaf, pki)

    assert result["verdict"] == verdicts.NOT_YET_VALID
    assert "check the clocks" in result["reason"]
    at_that_time = verify(data, leaf, pki, at=utcnow() + 3 * HOUR)
    assert at_that_time["verdict"] == verdicts.GOOD


def test_without_next_update_counts_as_current_for_the_maximum_age(pki, leaf):
    data = make_crl(pki.intermediate, this_update=hours_from_now(-24), no_next_update=True)

    fresh = verify(data, leaf, pki)
    stale = verify(data, leaf, pki, max_age=3600)

    assert (fresh["verdict"], fresh["next_update"]) == (verdicts.GOOD, None)
    assert "has no nextUpdate (RFC 5280 requires one)" in fresh["reason"]
    assert stale["verdict"] == verdicts.EXPIRED
    assert "older than the maximum age of 3600 s" in stale["reason"]


def test_without_next_update_a_listed_certificate_is_revoked(pki, leaf):
    data = make_crl(pki.intermediate, [revoked_entry(leaf)], no_next_update=True)

    assert verify(data, leaf, pki, max_age=0)["verdict"] == verdicts.REVOKED


def test_corrupted_signature(pki, leaf):
    data = bytearray(make_crl(pki.intermediate))
    data[-5] ^= 0x01  # inside the signature, the last element

    result = verify(bytes(data), leaf, pki)

    assert result["verdict"] in (verdicts.BAD_SIGNATURE, verdicts.MALFORMED)  # a flipped DER byte may break ECDSA's own encoding
    if result["verdict"] == verdicts.BAD_SIGNATURE:
        assert "does not verify with the key of the issuer" in result["reason"]


def test_forged_by_a_ca_of_the_same_name(pki, leaf):
    data = make_crl(TestPKI().intermediate)  # same issuer name, another key

    result = verify(data, leaf, pki)

    assert result["verdict"] == verdicts.BAD_SIGNATURE
    assert "corrupt or forged" in result["reason"]


def test_crl_of_another_ca(pki, leaf):
    other_ca = issue("Other CA", is_ca=True)

    result = verify(make_crl(other_ca, [revoked_entry(leaf)]), leaf, pki)

    assert result["verdict"] == verdicts.BAD_SIGNATURE
    assert "issued by CN=Other CA,O=tlsops test, not by the certificate's issuer CN=tlsops Test Intermediate CA" \
        in result["reason"]
    assert result["revocation_time"] is None  # a foreign CRL's entries are never read


@pytest.mark.parametrize("data", [b"", b"<html><body>404 Not Found</body></html>", b"\x30\x82\xff\xff\x00",
                                  b"-----BEGIN X509 CRL-----\nnot base64\n-----END X509 CRL-----\n"],
                         ids=["empty", "html", "truncated-der", "broken-pem"])
def test_garbage_is_malformed(pki, leaf, data):
    result = verify(data, leaf, pki)

    assert result["verdict"] == verdicts.MALFORMED
    assert result["reason"]


def test_a_certificate_is_not_a_crl(pki, leaf):
    assert verify(leaf.der, leaf, pki)["verdict"] == verdicts.MALFORMED
    assert verify(leaf.pem, leaf, pki)["verdict"] == verdicts.MALFORMED


def idp(full_name=None, **flags) -> x509.IssuingDistributionPoint:
    options = dict(only_contains_user_certs=False, only_contains_ca_certs=False, only_some_reasons=None,
                   indirect_crl=False, only_contains_attribute_certs=False)
    options.update(flags)
    names = [x509.UniformResourceIdentifier(url) for url in full_name] if full_name else None
    return x509.IssuingDistributionPoint(names, None, **options)


@pytest.mark.parametrize("extension,words", [
    (x509.DeltaCRLIndicator(7), "delta CRL"),
    (idp(indirect_crl=True), "indirect CRL"),
    (idp(only_some_reasons=frozenset([x509.ReasonFlags.key_compromise])), "only some revocation reasons (keyCompromise)"),
    (idp(only_contains_ca_certs=True), "lists only CA certificates"),
    (idp(only_contains_attribute_certs=True), "attribute authorities"),
    (idp(["http://crl.example.test/shard-2.crl"]), "partition for http://crl.example.test/shard-2.crl"),
    (x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"),
     "critical extension 1.3.6.1.4.1.99999.1"),
], ids=["delta", "indirect", "some-reasons", "ca-only", "attribute-only", "other-shard", "unknown-critical"])
def test_unsupported_or_foreign_scope_is_unknown_even_with_the_serial_listed(pki, leaf, extension, words):
    data = make_crl(pki.intermediate, [revoked_entry(leaf)], extensions=[(extension, True)])

    result = verify(data, leaf, pki)

    assert result["verdict"] == verdicts.UNKNOWN
    assert words in result["reason"]


def test_issuing_distribution_point_of_this_certificate_and_user_only_scope(pki, leaf):
    data = make_crl(pki.intermediate, extensions=[(idp([CRL_URL], only_contains_user_certs=True), True)])

    assert verify(data, leaf, pki)["verdict"] == verdicts.GOOD
    ca_result = crl.verify_crl(data, pki.intermediate.cert, pki.root.cert)
    assert ca_result["verdict"] in (verdicts.UNKNOWN, verdicts.BAD_SIGNATURE)  # another issuer's CRL, first


def test_unknown_non_critical_extension_is_ignored(pki, leaf):
    extension = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.2"), b"\x05\x00")

    assert verify(make_crl(pki.intermediate, extensions=[(extension, False)]), leaf, pki)["verdict"] == verdicts.GOOD


def test_crl_of_a_rsa_ca(pki):
    ca = issue("tlsops RSA CA", is_ca=True, key_kind="rsa")
    leaf = issue("rsa.example.test", ca, crl_urls=(CRL_URL,))

    assert crl.verify_crl(make_crl(ca), leaf.cert, ca.cert)["verdict"] == verdicts.GOOD
    assert crl.verify_crl(make_crl(ca, [revoked_entry(leaf)], no_next_update=True), leaf.cert,
                          ca.cert)["verdict"] == verdicts.REVOKED


# --- distribution points ------------------------------------------------------------------

def certificate_with_points(pki: TestPKI, *points: x509.DistributionPoint) -> x509.Certificate:
    """A leaf whose CRL distribution points are exactly `points`."""
    return pki.leaf("points.example.test", ocsp_urls=(), crl_points=points).cert


def point(*urls: str, **fields) -> x509.DistributionPoint:
    names = [x509.UniformResourceIdentifier(url) for url in urls] or None
    return x509.DistributionPoint(names, fields.get("relative_name"), fields.get("reasons"), fields.get("crl_issuer"))


def test_distribution_points_keep_http_urls_and_say_what_is_unsupported(pki):
    cert = certificate_with_points(
        pki,
        point("ldap://ldap.example.test/cn=CA?certificateRevocationList", CRL_URL),
        point("ldap://ldap.example.test/cn=CA?certificateRevocationList"),
        point(CRL_URL, crl_issuer=[x509.DirectoryName(pki.root.cert.subject)]),
        point(CRL_URL, reasons=frozenset([x509.ReasonFlags.key_compromise])),
    )

    mixed, ldap_only, indirect, by_reason = crl.distribution_points(cert)

    assert (mixed.urls, mixed.unsupported) == ([CRL_URL], None)
    assert ldap_only.urls == [] and "only LDAP URLs" in ldap_only.unsupported
    assert "cRLIssuer" in indirect.unsupported and "indirect CRLs are not supported" in indirect.unsupported
    assert "only some revocation reasons (keyCompromise)" in by_reason.unsupported


# --- check_certificate: downloads -------------------------------------------------------

class Server:
    """A transport serving bytes (or raising) per URL, recording every request."""

    def __init__(self, answers: Dict[str, Union[bytes, Tuple[int, bytes], Exception]]) -> None:
        self.answers = answers
        self.requests: List[Tuple[str, float, int]] = []

    @property
    def urls(self) -> List[str]:
        return [request[0] for request in self.requests]

    def __call__(self, url: str, timeout: float, limit: int) -> Tuple[int, bytes]:
        self.requests.append((url, timeout, limit))
        answer = self.answers[url]
        if isinstance(answer, Exception):
            raise answer
        status, body = answer if isinstance(answer, tuple) else (200, answer)
        return status, body[:limit]


def test_good_certificate_result_shape(pki, leaf):
    server = Server({CRL_URL: make_crl(pki.intermediate, number=9)})

    result = crl.check_certificate(leaf.cert, pki.intermediate.cert, server, timeout=3)

    assert result["verdict"] == verdicts.GOOD, result["reason"]
    assert result["reason"].startswith("CN=www.example.test,O=tlsops test (serial %d): CRL %s: "
                                       % (leaf.cert.serial_number, CRL_URL))
    assert result["serial_number"] == leaf.cert.serial_number
    (entry,) = result["crls"]
    assert set(entry) == set(crl.ENTRY_FIELDS)
    assert (entry["url"], entry["verdict"], entry["crl_number"]) == (CRL_URL, verdicts.GOOD, 9)
    assert entry["size"] == len(server.answers[CRL_URL]) and entry["elapsed_ms"] >= 0
    assert server.requests == [(CRL_URL, 3, crl.DEFAULT_MAX_SIZE + 1)]


def test_revoked_certificate_carries_time_and_reason(pki, leaf):
    entry = revoked_entry(leaf, x509.ReasonFlags.cessation_of_operation)
    server = Server({CRL_URL: make_crl(pki.intermediate, [entry])})

    result = crl.check_certificate(leaf.cert, pki.intermediate.cert, server)

    assert (result["verdict"], result["revocation_reason"]) == (verdicts.REVOKED, "cessationOfOperation")
    assert result["revocation_time"] == entry.time.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert set(result["crls"][0]) == set(crl.ENTRY_FIELDS)


def test_no_distribution_point_is_not_applicable(pki):
    server = Server({})

    result = crl.check_certificate(pki.leaf().cert, pki.intermediate.cert, server)

    assert (result["verdict"], result["crls"]) == (verdicts.NOT_APPLICABLE, [])
    assert "names no CRL distribution point" in result["reason"]
    assert server.requests == []


@pytest.mark.parametrize("answer,words", [
    (ConnectionRefusedError(111, "Connection refused"), "connection refused by crl.example.test port 80"),
    ((404, b"not here"), "HTTP status 404 from %s" % CRL_URL),
    ((200, b"x" * 2048), "larger than max_size (1024 bytes)"),
], ids=["refused", "http-404", "oversized"])
def test_download_failures_are_unreachable_with_the_cause(pki, leaf, answer, words):
    server = Server({CRL_URL: answer})

    result = crl.check_certificate(leaf.cert, pki.intermediate.cert, server, max_size=1024)

    assert result["verdict"] == verdicts.UNREACHABLE
    assert words in result["reason"]
    assert (result["crls"][0]["size"], result["crls"][0]["this_update"]) == (None, None)
    assert server.requests[0][2] == 1025  # never more than one byte past the cap is read


def test_a_crl_exactly_at_the_cap_is_read(pki, leaf):
    data = make_crl(pki.intermediate)

    result = crl.check_certificate(leaf.cert, pki.intermediate.cert, Server({CRL_URL: data}), max_size=len(data))

    assert result["verdict"] == verdicts.GOOD


def test_mirrors_are_tried_in_order_until_one_answers(pki):
    cert = certificate_with_points(pki, point(MIRROR_URL, CRL_URL))
    server = Server({MIRROR_URL: (503, b""), CRL_URL: make_crl(pki.intermediate)})

    result = crl.check_certificate(cert, pki.intermediate.cert, server)

    assert result["verdict"] == verdicts.GOOD
    assert [(entry["url"], entry["verdict"]) for entry in result["crls"]] == [
        (MIRROR_URL, verdicts.UNREACHABLE), (CRL_URL, verdicts.GOOD)]


def test_first_mirror_that_answers_ends_the_distribution_point(pki):
    cert = certificate_with_points(pki, point(CRL_URL, MIRROR_URL))
    server = Server({CRL_URL: make_crl(pki.intermediate), MIRROR_URL: AssertionError("must not be asked")})

    result = crl.check_certificate(cert, pki.intermediate.cert, server)

    assert result["verdict"] == verdicts.GOOD and server.urls == [CRL_URL]


def test_each_url_is_downloaded_once_per_call_and_per_cache(pki):
    cert = certificate_with_points(pki, point(CRL_URL), point(MIRROR_URL, CRL_URL), point(CRL_URL))
    server = Server({CRL_URL: (500, b""), MIRROR_URL: (500, b"")})
    cache: crl.Cache = {}

    first = crl.check_certificate(cert, pki.intermediate.cert, server, cache=cache)
    second = crl.check_certificate(cert, pki.intermediate.cert, server, cache=cache)

    assert server.urls == [CRL_URL, MIRROR_URL]
    assert [entry["url"] for entry in first["crls"]] == [CRL_URL, MIRROR_URL]
    assert second["verdict"] == first["verdict"] == verdicts.UNREACHABLE


def test_any_revocation_wins_over_a_good_crl(pki):
    cert = certificate_with_points(pki, point(CRL_URL), point(MIRROR_URL))
    listed = Revocation(cert.serial_number, hours_from_now(-1), x509.ReasonFlags.key_compromise)
    server = Server({CRL_URL: make_crl(pki.intermediate), MIRROR_URL: make_crl(pki.intermediate, [listed])})

    result = crl.check_certificate(cert, pki.intermediate.cert, server)

    assert (result["verdict"], result["revocation_reason"]) == (verdicts.REVOKED, "keyCompromise")
    assert [entry["verdict"] for entry in result["crls"]] == [verdicts.GOOD, verdicts.REVOKED]


def test_bad_signature_outranks_an_unreachable_mirror(pki):
    cert = certificate_with_points(pki, point(MIRROR_URL, CRL_URL))
    server = Server({MIRROR_URL: (502, b""), CRL_URL: make_crl(TestPKI().intermediate)})

    assert crl.check_certificate(cert, pki.intermediate.cert, server)["verdict"] == verdicts.BAD_SIGNATURE


def test_unsupported_points_are_unknown_without_a_download(pki):
    cert = certificate_with_points(pki, point("ldap://ldap.example.test/cn=CA"),
                                   point(CRL_URL, crl_issuer=[x509.DirectoryName(pki.root.cert.subject)]))
    server = Server({})

    result = crl.check_certificate(cert, pki.intermediate.cert, server)

    assert result["verdict"] == verdicts.UNKNOWN and server.requests == []
    assert [entry["url"] for entry in result["crls"]] == ["ldap://ldap.example.test/cn=CA", CRL_URL]
    assert "LDAP is not supported" in result["reason"]


def test_a_supported_point_answers_beside_an_unsupported_one(pki):
    cert = certificate_with_points(pki, point("ldap://ldap.example.test/cn=CA"), point(CRL_URL))

    result = crl.check_certificate(cert, pki.intermediate.cert, Server({CRL_URL: make_crl(pki.intermediate)}))

    assert result["verdict"] == verdicts.GOOD
    assert [entry["verdict"] for entry in result["crls"]] == [verdicts.UNKNOWN, verdicts.GOOD]


# --- real CRLs: PKITS (NIST's path validation test suite) in cryptography-vectors ------------

PKITS_AT = datetime.datetime(2020, 6, 1)  # the PKITS CRLs run from 2010 (or 2011) to 2030


def pkits(kind: str, name: str) -> bytes:
    from tests.unit.plugins.module_utils._engine.test_vectors import vector
    return vector("x509", "PKITS_data", kind, name)


def pkits_certificate(name: str) -> x509.Certificate:
    return x509.load_der_x509_certificate(pkits("certs", name + ".crt"))


# (end-entity certificate, its CA, the CA's CRL, verdict, words of the reason)
PKITS_CASES = [
    ("ValidCertificatePathTest1EE", "GoodCACert", "GoodCACRL", verdicts.GOOD, "valid until 2030-12-31T08:30:00Z"),
    ("InvalidRevokedEETest3EE", "GoodCACert", "GoodCACRL", verdicts.REVOKED, "(reason: keyCompromise)"),
    ("InvalidBadCRLSignatureTest4EE", "BadCRLSignatureCACert", "BadCRLSignatureCACRL", verdicts.BAD_SIGNATURE,
     "does not verify"),
    ("InvalidBadCRLIssuerNameTest5EE", "BadCRLIssuerNameCACert", "BadCRLIssuerNameCACRL", verdicts.BAD_SIGNATURE,
     "issued by CN=Incorrect CRL Issuer Name"),
    ("InvalidWrongCRLTest6EE", "WrongCRLCACert", "WrongCRLCACRL", verdicts.BAD_SIGNATURE, "issued by CN=Trust Anchor"),
    ("ValidTwoCRLsTest7EE", "TwoCRLsCACert", "TwoCRLsCAGoodCRL", verdicts.GOOD, "does not list"),
    ("ValidTwoCRLsTest7EE", "TwoCRLsCACert", "TwoCRLsCABadCRL", verdicts.BAD_SIGNATURE, "not by the certificate's"),
    ("InvalidUnknownCRLExtensionTest10EE", "UnknownCRLExtensionCACert", "UnknownCRLExtensionCACRL", verdicts.UNKNOWN,
     "critical extension 2.16.840.1.101.2.1.12.2"),
    ("InvalidOldCRLnextUpdateTest11EE", "OldCRLnextUpdateCACert", "OldCRLnextUpdateCACRL", verdicts.EXPIRED,
     "nextUpdate 2010-01-02T08:30:00Z has passed"),
    ("Invalidpre2000CRLnextUpdateTest12EE", "pre2000CRLnextUpdateCACert", "pre2000CRLnextUpdateCACRL",
     verdicts.EXPIRED, "nextUpdate 1999-01-01T12:01:00Z"),
    ("ValidGeneralizedTimeCRLnextUpdateTest13EE", "GeneralizedTimeCRLnextUpdateCACert",
     "GeneralizedTimeCRLnextUpdateCACRL", verdicts.GOOD, "valid until 2050-01-01T12:01:00Z"),
    ("ValidLongSerialNumberTest16EE", "LongSerialNumberCACert", "LongSerialNumberCACRL", verdicts.GOOD, "does not list"),
    ("InvalidLongSerialNumberTest18EE", "LongSerialNumberCACert", "LongSerialNumberCACRL", verdicts.REVOKED,
     "revoked on 2010-01-01T08:30:00Z"),
    ("InvalidkeyUsageNotCriticalcRLSignFalseTest5EE", "keyUsageNotCriticalcRLSignFalseCACert",
     "keyUsageNotCriticalcRLSignFalseCACRL", verdicts.BAD_SIGNATURE, "lacks the cRLSign key usage"),
    ("ValidDSASignaturesTest4EE", "DSACACert", "DSACACRL", verdicts.GOOD, "does not list"),
    ("ValiddeltaCRLTest2EE", "deltaCRLCA1Cert", "deltaCRLCA1CRL", verdicts.GOOD, "does not list"),
    ("ValiddeltaCRLTest2EE", "deltaCRLCA1Cert", "deltaCRLCA1deltaCRL", verdicts.UNKNOWN, "delta CRLs are not supported"),
    ("ValidIDPwithindirectCRLTest22EE", "indirectCRLCA1Cert", "indirectCRLCA1CRL", verdicts.UNKNOWN,
     "indirect CRLs are not supported"),
    ("InvalidonlyContainsCACertsTest12EE", "onlyContainsCACertsCACert", "onlyContainsCACertsCACRL", verdicts.UNKNOWN,
     "lists only CA certificates"),
    ("InvalidonlyContainsUserCertsTest11EE", "onlyContainsUserCertsCACert", "onlyContainsUserCertsCACRL",
     verdicts.UNKNOWN, "lists only end-entity certificates"),
    ("ValidonlySomeReasonsTest18EE", "onlySomeReasonsCA3Cert", "onlySomeReasonsCA3compromiseCRL", verdicts.UNKNOWN,
     "partitioned by reason are not supported"),
    ("ValiddistributionPointTest1EE", "distributionPoint1CACert", "distributionPoint1CACRL", verdicts.GOOD,
     "does not list"),
    ("InvaliddistributionPointTest2EE", "distributionPoint1CACert", "distributionPoint1CACRL", verdicts.REVOKED,
     "keyCompromise"),
    ("InvaliddistributionPointTest3EE", "distributionPoint1CACert", "distributionPoint1CACRL", verdicts.UNKNOWN,
     "the partition for CN=CRL1 of distributionPoint1 CA"),
]


@pytest.mark.parametrize("ee,ca,crl_name,verdict,words", PKITS_CASES,
                         ids=["%s-%s" % (case[0], case[2]) for case in PKITS_CASES])
def test_pkits_crls(ee, ca, crl_name, verdict, words):
    result = crl.verify_crl(pkits("crls", crl_name + ".crl"), pkits_certificate(ee), pkits_certificate(ca), at=PKITS_AT)

    assert result["verdict"] == verdict, result["reason"]
    assert words in result["reason"]


def test_pkits_distribution_point_with_a_crl_issuer_is_unsupported():
    (only,) = crl.distribution_points(pkits_certificate("ValidcRLIssuerTest28EE"))

    assert "cRLIssuer" in only.unsupported


def crl_vectors() -> List[str]:
    try:
        import cryptography_vectors
    except ImportError:
        return []
    root = os.path.dirname(cryptography_vectors.__file__)
    custom = [os.path.join("custom", name) for name in sorted(os.listdir(os.path.join(root, "x509", "custom")))
              if name.startswith("crl_") or name.endswith("_crl.pem")]
    pkits_crls = [os.path.join("PKITS_data", "crls", name)
                  for name in sorted(os.listdir(os.path.join(root, "x509", "PKITS_data", "crls")))]
    return custom + pkits_crls


@pytest.mark.parametrize("name", crl_vectors())
def test_every_crl_vector_gives_a_verdict(pki, leaf, name):
    from tests.unit.plugins.module_utils._engine.test_vectors import vector
    data = vector("x509", name)

    for cert, issuer in ((leaf.cert, pki.intermediate.cert), (pkits_certificate("ValidCertificatePathTest1EE"),
                                                              pkits_certificate("GoodCACert"))):
        result = crl.verify_crl(data, cert, issuer, at=PKITS_AT)
        assert result["verdict"] in verdicts.ALL
        assert result["reason"]
