# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""verify_response, build_request, get_url and query against PKIs made here and a local HTTP responder."""
from __future__ import annotations

import base64
import datetime
import http.server
import threading
import time
import urllib.error
import urllib.parse
from typing import Iterator, List, Optional, Tuple

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509 import ocsp as x509_ocsp

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import compat
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from tests.support import pki
from tests.support.http_fetch import urllib_fetch

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


@pytest.fixture(scope="module")
def test_pki() -> pki.TestPKI:
    return pki.TestPKI()


@pytest.fixture(scope="module")
def leaf(test_pki: pki.TestPKI) -> pki.Issued:
    return test_pki.leaf()


def verify(test_pki: pki.TestPKI, leaf: pki.Issued, der: bytes, **kwargs) -> dict:
    return ocsp.verify_response(der, leaf.cert, test_pki.intermediate.cert, **kwargs)


def assert_verdict(result: dict, verdict: str, *phrases: str) -> None:
    assert result["verdict"] == verdict, result["reason"]
    assert result["reason"].startswith("OCSP response for CN=")
    for phrase in phrases:
        assert phrase in result["reason"]


# --- good -----------------------------------------------------------------

def test_good_signed_by_the_issuer(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    this_update = pki.utcnow() - HOUR
    result = verify(test_pki, leaf, test_pki.response(leaf.cert, this_update=this_update))
    assert_verdict(result, verdicts.GOOD, "signed by the issuer")
    assert result["cert_status"] == "good"
    assert result["signed_by"] == "issuer"
    assert result["responder"] == test_pki.intermediate.cert.subject.rfc4514_string()
    assert result["this_update"] == this_update.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["next_update"] == (this_update + 4 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["produced_at"].endswith("Z")
    assert 4 * 86400 - 3700 < result["seconds_until_next_update"] <= 4 * 86400 - 3600
    assert result["revocation_time"] is None and result["revocation_reason"] is None


def test_good_signed_by_an_authorised_delegate(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    result = verify(test_pki, leaf, test_pki.response(leaf.cert, signer=test_pki.delegate))
    assert_verdict(result, verdicts.GOOD, "signed by the delegate")
    assert result["signed_by"] == "delegate"
    assert result["responder"] == "CN=tlsops Test OCSP Responder,O=tlsops test"


@pytest.mark.parametrize("signer", ["issuer", "delegate"])
def test_responder_identified_by_key_hash(test_pki: pki.TestPKI, leaf: pki.Issued, signer: str) -> None:
    signing = test_pki.delegate if signer == "delegate" else None
    result = verify(test_pki, leaf, test_pki.response(leaf.cert, signer=signing, responder_by_hash=True))
    assert_verdict(result, verdicts.GOOD)
    assert result["signed_by"] == signer
    assert result["responder"].startswith("keyHash:") and len(result["responder"]) == len("keyHash:") + 40


@pytest.mark.parametrize("algorithm", [hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_cert_id_with_other_hashes(test_pki: pki.TestPKI, leaf: pki.Issued,
                                   algorithm: hashes.HashAlgorithm) -> None:
    result = verify(test_pki, leaf, test_pki.response(leaf.cert, hash_algorithm=algorithm))
    assert_verdict(result, verdicts.GOOD)


def test_rsa_issuer() -> None:
    rsa_pki_root = pki.issue("RSA CA", is_ca=True, key_kind="rsa")
    cert = pki.issue("rsa.example.test", rsa_pki_root, ocsp_urls=("http://127.0.0.1:1",)).cert
    der = pki.TestPKI().response(cert, issuer=rsa_pki_root)
    assert ocsp.verify_response(der, cert, rsa_pki_root.cert)["verdict"] == verdicts.GOOD


def ed25519_signed(subject: str, public_key: object, key: ed25519.Ed25519PrivateKey, issuer: str) -> x509.Certificate:
    now = pki.utcnow()
    return (x509.CertificateBuilder().subject_name(pki.name(subject)).issuer_name(pki.name(issuer))
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + DAY).sign(key, None))


def test_ed25519_issuer() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    now = pki.utcnow()
    ca = ed25519_signed("Ed CA", key.public_key(), key, "Ed CA")
    leaf_cert = ed25519_signed("ed.example.test", pki.new_key().public_key(), key, "Ed CA")
    response = (x509_ocsp.OCSPResponseBuilder()
                .add_response(leaf_cert, ca, hashes.SHA1(), x509_ocsp.OCSPCertStatus.GOOD, now, now + DAY,
                              None, None)
                .responder_id(x509_ocsp.OCSPResponderEncoding.NAME, ca)
                .sign(key, None).public_bytes(serialization.Encoding.DER))
    result = ocsp.verify_response(response, leaf_cert, ca)
    assert result["verdict"] == verdicts.GOOD, result["reason"]
    assert verdicts.BAD_SIGNATURE == ocsp.verify_response(pki.corrupt_signature(response), leaf_cert, ca)["verdict"]


# --- status ---------------------------------------------------------------

def test_revoked_with_reason_and_time(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    revoked_at = datetime.datetime(2026, 3, 4, 5, 6, 7)
    der = test_pki.response(leaf.cert, "revoked", revocation_time=revoked_at,
                            revocation_reason=x509.ReasonFlags.key_compromise)
    result = verify(test_pki, leaf, der)
    assert_verdict(result, verdicts.REVOKED, "revoked on 2026-03-04T05:06:07Z", "keyCompromise", "replace")
    assert result["cert_status"] == "revoked"
    assert result["revocation_time"] == "2026-03-04T05:06:07Z"
    assert result["revocation_reason"] == "keyCompromise"


def test_revoked_stays_revoked_when_out_of_date(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    old = pki.utcnow() - 30 * DAY
    der = test_pki.response(leaf.cert, "revoked", this_update=old, revocation_time=old - DAY)
    assert verify(test_pki, leaf, der)["verdict"] == verdicts.REVOKED


def test_unknown(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    result = verify(test_pki, leaf, test_pki.response(leaf.cert, "unknown"))
    assert_verdict(result, verdicts.UNKNOWN, "does not know")
    assert result["cert_status"] == "unknown"


# --- signature and signer -------------------------------------------------

@pytest.mark.parametrize("signer", ["issuer", "delegate"])
def test_bad_signature(test_pki: pki.TestPKI, leaf: pki.Issued, signer: str) -> None:
    signing = test_pki.delegate if signer == "delegate" else None
    der = pki.corrupt_signature(test_pki.response(leaf.cert, signer=signing))
    result = verify(test_pki, leaf, der)
    assert_verdict(result, verdicts.BAD_SIGNATURE, "does not verify", "forged")
    assert result["signed_by"] is None


def test_issuer_name_with_another_key_is_a_bad_signature(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    impostor = pki.issue("tlsops Test Intermediate CA", test_pki.root, is_ca=True)
    der = test_pki.response(leaf.cert, signer=impostor, include_signer=False)
    assert_verdict(verify(test_pki, leaf, der), verdicts.BAD_SIGNATURE)


def test_delegate_without_ocsp_signing_is_unauthorized(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    plain = pki.issue("Not A Responder", test_pki.intermediate)
    result = verify(test_pki, leaf, test_pki.response(leaf.cert, signer=plain))
    assert_verdict(result, verdicts.UNAUTHORIZED_SIGNER, "id-kp-OCSPSigning", "Not A Responder")


def test_delegate_from_another_ca_is_unauthorized(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    other = pki.TestPKI()
    result = verify(test_pki, leaf, test_pki.response(leaf.cert, signer=other.delegate))
    assert_verdict(result, verdicts.UNAUTHORIZED_SIGNER, "was not issued by the certificate's issuer")


def test_delegate_signed_by_the_root_is_unauthorized(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    by_root = pki.issue("Root Responder", test_pki.root, ocsp_signing=True)
    assert_verdict(verify(test_pki, leaf, test_pki.response(leaf.cert, signer=by_root)),
                   verdicts.UNAUTHORIZED_SIGNER)


def test_expired_delegate_is_unauthorized(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    now = pki.utcnow()
    expired = pki.issue("Old Responder", test_pki.intermediate, ocsp_signing=True,
                        not_before=now - 60 * DAY, not_after=now - 30 * DAY)
    result = verify(test_pki, leaf, test_pki.response(leaf.cert, signer=expired))
    assert_verdict(result, verdicts.UNAUTHORIZED_SIGNER, "Old Responder", "current certificate")


def test_delegate_certificate_missing_from_response(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    der = test_pki.response(leaf.cert, signer=test_pki.delegate, include_signer=False)
    assert_verdict(verify(test_pki, leaf, der), verdicts.UNAUTHORIZED_SIGNER, "names neither the issuer")


# --- certificate identity -------------------------------------------------

def test_response_for_another_certificate(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    other = test_pki.leaf("other.example.test")
    result = verify(test_pki, leaf, test_pki.response(other.cert))
    assert_verdict(result, verdicts.WRONG_CERTIFICATE, str(other.cert.serial_number), "fresh one")


def test_same_serial_from_another_issuer(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    other = pki.TestPKI()
    twin = other.leaf(serial_number=leaf.cert.serial_number)
    result = ocsp.verify_response(other.response(twin.cert, issuer=other.intermediate), leaf.cert,
                                  test_pki.intermediate.cert)
    assert_verdict(result, verdicts.WRONG_CERTIFICATE, "another issuer's name and key hashes")


def test_wrong_issuer_given(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    result = ocsp.verify_response(test_pki.response(leaf.cert), leaf.cert, test_pki.root.cert)
    assert result["verdict"] == verdicts.WRONG_CERTIFICATE


def der(tag: int, content: bytes) -> bytes:
    """One DER element (definite length)."""
    size = len(content)
    if size < 0x80:
        return bytes((tag, size)) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(length))) + length + content


def multi_response(signer: pki.Issued, *single_sources: bytes) -> bytes:
    """One response carrying the SingleResponses of several responses, re-signed by `signer`.

    cryptography's builder makes one SingleResponse per response, so the
    responses are taken apart (they share the responder ID) and joined.
    """
    def parts(response_der: bytes) -> list:
        response_bytes = compat.der_children(compat.der_single(response_der, 0x30))[1]
        oid, basic = compat.der_children(compat.der_single(response_bytes.content, 0x30))
        tbs, algorithm = compat.der_children(compat.der_single(basic.content, 0x30))[:2]
        return [oid, algorithm] + compat.der_children(tbs.content)

    oid, algorithm, responder, produced_at = parts(single_sources[0])[:4]
    singles = b"".join(parts(source)[4].content for source in single_sources)
    tbs = der(0x30, responder.raw + produced_at.raw + der(0x30, singles))
    signature = signer.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    basic = der(0x30, tbs + algorithm.raw + der(0x03, b"\x00" + signature))
    return der(0x30, der(0x0A, b"\x00") + der(0xA0, der(0x30, oid.raw + der(0x04, basic))))


def test_every_single_response_is_searched(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    revoked, absent = test_pki.leaf("revoked.example.test"), test_pki.leaf("absent.example.test")
    sources = [test_pki.response(revoked.cert, "revoked"), test_pki.response(leaf.cert),
               test_pki.response(test_pki.leaf("third.example.test").cert, hash_algorithm=hashes.SHA256())]
    joined = multi_response(test_pki.intermediate, *sources)
    assert_verdict(verify(test_pki, leaf, joined), verdicts.GOOD, "signed by the issuer")
    assert_verdict(verify(test_pki, revoked, joined), verdicts.REVOKED)
    assert_verdict(verify(test_pki, absent, joined), verdicts.WRONG_CERTIFICATE, "and")
    corrupt = bytearray(joined)
    corrupt[-10] ^= 0x01  # inside the signature, the last field (pki.corrupt_signature needs cryptography >= 37 here)
    assert_verdict(verify(test_pki, leaf, bytes(corrupt)), verdicts.BAD_SIGNATURE)
    forged = multi_response(pki.issue("tlsops Test Intermediate CA", is_ca=True), *sources)
    assert_verdict(verify(test_pki, leaf, forged), verdicts.BAD_SIGNATURE)


# --- freshness ------------------------------------------------------------

def test_expired_after_next_update(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    now = pki.utcnow()
    der = test_pki.response(leaf.cert, this_update=now - 10 * DAY, next_update=now - DAY)
    result = verify(test_pki, leaf, der)
    assert_verdict(result, verdicts.EXPIRED, "nextUpdate", "has passed")
    assert result["seconds_until_next_update"] < -86000


def test_next_update_within_skew_is_accepted(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    now = pki.utcnow()
    der = test_pki.response(leaf.cert, this_update=now - DAY, next_update=now - datetime.timedelta(seconds=60))
    assert verify(test_pki, leaf, der)["verdict"] == verdicts.GOOD
    assert verify(test_pki, leaf, der, skew=10)["verdict"] == verdicts.EXPIRED


def test_not_yet_valid(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    der = test_pki.response(leaf.cert, this_update=pki.utcnow() + HOUR)
    assert_verdict(verify(test_pki, leaf, der), verdicts.NOT_YET_VALID, "thisUpdate", "clocks")


def test_this_update_within_skew_is_accepted(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    der = test_pki.response(leaf.cert, this_update=pki.utcnow() + datetime.timedelta(seconds=120))
    assert verify(test_pki, leaf, der)["verdict"] == verdicts.GOOD


def test_without_next_update_max_age_applies(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    der = test_pki.response(leaf.cert, this_update=pki.utcnow() - 2 * DAY, no_next_update=True)
    fresh = verify(test_pki, leaf, der)
    assert fresh["verdict"] == verdicts.GOOD and fresh["next_update"] is None
    assert fresh["seconds_until_next_update"] is None
    assert_verdict(verify(test_pki, leaf, der, max_age=86400), verdicts.EXPIRED, "no nextUpdate", "86400")


def test_valid_at_a_given_time(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    this_update = pki.utcnow() - HOUR
    der = test_pki.response(leaf.cert, this_update=this_update)
    assert verify(test_pki, leaf, der, at=this_update + 5 * DAY)["verdict"] == verdicts.EXPIRED
    assert verify(test_pki, leaf, der, at=this_update - DAY)["verdict"] == verdicts.NOT_YET_VALID
    aware = (this_update + DAY).replace(tzinfo=datetime.timezone.utc)
    assert verify(test_pki, leaf, der, at=aware)["verdict"] == verdicts.GOOD


# --- responder errors and malformed bytes -----------------------------------

@pytest.mark.parametrize("status,name", [
    (x509_ocsp.OCSPResponseStatus.TRY_LATER, "tryLater"),
    (x509_ocsp.OCSPResponseStatus.UNAUTHORIZED, "unauthorized"),
    (x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST, "malformedRequest"),
    (x509_ocsp.OCSPResponseStatus.INTERNAL_ERROR, "internalError"),
    (x509_ocsp.OCSPResponseStatus.SIG_REQUIRED, "sigRequired"),
])
def test_responder_errors_are_named(test_pki: pki.TestPKI, leaf: pki.Issued,
                                    status: x509_ocsp.OCSPResponseStatus, name: str) -> None:
    result = verify(test_pki, leaf, pki.error_response(status))
    assert_verdict(result, verdicts.RESPONDER_ERROR, "answered %s instead" % name)
    assert result["cert_status"] is None


@pytest.mark.parametrize("data", [b"", b"garbage", b"<html>503 Service Unavailable</html>", None])
def test_malformed_bytes(test_pki: pki.TestPKI, leaf: pki.Issued, data: Optional[bytes]) -> None:
    assert_verdict(verify(test_pki, leaf, data), verdicts.MALFORMED)


def test_truncated_and_base64_responses_are_malformed(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    der = test_pki.response(leaf.cert)
    assert verify(test_pki, leaf, der[:-40])["verdict"] == verdicts.MALFORMED
    assert_verdict(verify(test_pki, leaf, base64.b64encode(der)), verdicts.MALFORMED, "not a DER OCSP response")


# --- nonce ----------------------------------------------------------------

def response_with_nonce(test_pki: pki.TestPKI, cert: x509.Certificate, nonce: bytes) -> bytes:
    now = pki.utcnow()
    issuer = test_pki.intermediate
    return (x509_ocsp.OCSPResponseBuilder()
            .add_response(cert, issuer.cert, hashes.SHA1(), x509_ocsp.OCSPCertStatus.GOOD, now - HOUR, now + DAY,
                          None, None)
            .responder_id(x509_ocsp.OCSPResponderEncoding.NAME, issuer.cert)
            .add_extension(x509.OCSPNonce(nonce), critical=False)
            .sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))


def test_matching_nonce_is_good(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    der = response_with_nonce(test_pki, leaf.cert, b"n" * 16)
    assert verify(test_pki, leaf, der, expected_nonce=b"n" * 16)["verdict"] == verdicts.GOOD


def test_other_nonce_is_a_reply_to_another_request(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    der = response_with_nonce(test_pki, leaf.cert, b"n" * 16)
    result = verify(test_pki, leaf, der, expected_nonce=b"m" * 16)
    assert_verdict(result, verdicts.WRONG_CERTIFICATE, "nonce", "another request")


def test_response_without_nonce_is_accepted(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    assert verify(test_pki, leaf, test_pki.response(leaf.cert), expected_nonce=b"x" * 16)["verdict"] == verdicts.GOOD


# --- requests ---------------------------------------------------------------

@pytest.mark.parametrize("hash_name,algorithm", [("sha1", hashes.SHA1), ("sha256", hashes.SHA256)])
def test_build_request(test_pki: pki.TestPKI, leaf: pki.Issued, hash_name: str, algorithm: type) -> None:
    info = ocsp.build_request(leaf.cert, test_pki.intermediate.cert, hash_name=hash_name)
    request = x509_ocsp.load_der_ocsp_request(info.der)
    assert isinstance(request.hash_algorithm, algorithm)
    assert request.serial_number == leaf.cert.serial_number
    assert (info.hash_name, info.nonce) == (hash_name, None)
    assert len(request.extensions) == 0


def test_build_request_with_nonce(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    info = ocsp.build_request(leaf.cert, test_pki.intermediate.cert, nonce=True)
    request = x509_ocsp.load_der_ocsp_request(info.der)
    assert len(info.nonce) == 16
    assert request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == info.nonce
    assert ocsp.build_request(leaf.cert, test_pki.intermediate.cert, nonce=True).nonce != info.nonce


def test_build_request_refuses_unknown_hash(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    with pytest.raises(ValueError, match="md5.*sha1, sha256"):
        ocsp.build_request(leaf.cert, test_pki.intermediate.cert, hash_name="md5")


@pytest.mark.parametrize("base", ["http://ocsp.example.test", "http://ocsp.example.test/"])
def test_get_url_is_rfc6960_appendix_a(base: str) -> None:
    der = bytes(range(256)) * 2  # base64 of this has '+', '/' and '='
    url = ocsp.get_url(base, der)
    prefix = "http://ocsp.example.test/"
    assert url.startswith(prefix)
    encoded = url[len(prefix):]
    assert "/" not in encoded and "+" not in encoded and "=" not in encoded
    assert base64.b64decode(urllib.parse.unquote(encoded)) == der


# --- query against a local HTTP responder ----------------------------------

class _Responder(http.server.BaseHTTPRequestHandler):
    """Answers POST and GET with `server.answer`; records what it received."""

    def do_POST(self) -> None:  # noqa: N802 -- http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.seen.append(("POST", self.headers.get("Content-Type"), body))
        self._answer()

    def do_GET(self) -> None:  # noqa: N802
        encoded = self.path.rsplit("/", 1)[-1]
        self.server.seen.append(("GET", None, base64.b64decode(urllib.parse.unquote(encoded))))
        self._answer()

    def _answer(self) -> None:
        status, body, delay = self.server.answer
        time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except ConnectionError:
            pass  # the client gave up (the timeout test)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def responder() -> Iterator[http.server.HTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Responder)
    server.seen: List[Tuple[str, Optional[str], bytes]] = []
    server.answer = (200, b"", 0.0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def responder_url(server: http.server.HTTPServer) -> str:
    return "http://127.0.0.1:%d/ocsp" % server.server_address[1]


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_query_then_verify(test_pki: pki.TestPKI, leaf: pki.Issued, responder: http.server.HTTPServer,
                           method: str) -> None:
    der = test_pki.response(leaf.cert)
    responder.answer = (200, der, 0.0)
    info = ocsp.build_request(leaf.cert, test_pki.intermediate.cert)
    result = ocsp.query(responder_url(responder), info, method=method, fetch=urllib_fetch, timeout=5)
    assert (result["http_status"], result["error"], result["verdict"], result["body"]) == (200, None, None, der)
    assert result["url"] == responder_url(responder)
    assert isinstance(result["elapsed_ms"], int) and result["elapsed_ms"] >= 0
    expected_type = "application/ocsp-request" if method == "POST" else None
    assert responder.seen == [(method, expected_type, info.der)]
    assert verify(test_pki, leaf, result["body"])["verdict"] == verdicts.GOOD


def test_query_http_error_status(responder: http.server.HTTPServer) -> None:
    responder.answer = (503, b"busy", 0.0)
    result = ocsp.query(responder_url(responder), b"\x30\x00", fetch=urllib_fetch, timeout=5)
    assert result["verdict"] == verdicts.UNREACHABLE
    assert result["http_status"] == 503
    assert result["error"] == "HTTP status 503 from %s" % responder_url(responder)
    assert result["body"] is None


def test_query_timeout(responder: http.server.HTTPServer) -> None:
    responder.answer = (200, b"", 1.5)
    result = ocsp.query(responder_url(responder), b"\x30\x00", fetch=urllib_fetch, timeout=0.3)
    assert result["verdict"] == verdicts.UNREACHABLE
    assert result["error"].startswith("timeout"), result["error"]
    assert result["elapsed_ms"] < 1400


def test_query_connection_refused() -> None:
    from tests.conftest import free_port
    url = "http://127.0.0.1:%d/" % free_port()
    result = ocsp.query(url, b"\x30\x00", fetch=urllib_fetch, timeout=5)
    assert result["verdict"] == verdicts.UNREACHABLE
    assert result["error"].startswith("connection refused by 127.0.0.1"), result["error"]
    assert url in result["reason"]


def test_query_dns_failure() -> None:
    result = ocsp.query("http://ocsp.tlsops.invalid/", b"\x30\x00", fetch=urllib_fetch, timeout=5)
    assert result["verdict"] == verdicts.UNREACHABLE
    assert result["error"].startswith("DNS failure: cannot resolve ocsp.tlsops.invalid"), result["error"]


def test_query_names_causes_of_injected_transports() -> None:
    class ConnectionError(Exception):  # what ansible.module_utils.urls raises, flattened to text
        pass

    def refusing(url: str, body: Optional[bytes], headers: dict, timeout: float) -> Tuple[int, bytes]:
        raise ConnectionError("Failed to connect to ocsp.example.test at port 80: [Errno 111] Connection refused")

    result = ocsp.query("http://ocsp.example.test/", b"\x30\x00", fetch=refusing)
    assert result["error"].startswith("connection refused by ocsp.example.test")

    def raising_http_error(url: str, body: Optional[bytes], headers: dict, timeout: float) -> Tuple[int, bytes]:
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)  # what open_url raises on 4xx/5xx

    result = ocsp.query("http://ocsp.example.test/", b"\x30\x00", method="GET", fetch=raising_http_error)
    assert (result["http_status"], result["error"]) == (404, "HTTP status 404 from http://ocsp.example.test/")

    def odd(url: str, body: Optional[bytes], headers: dict, timeout: float) -> Tuple[int, bytes]:
        raise RuntimeError("proxy said no")

    assert ocsp.query("http://ocsp.example.test/", b"\x30\x00", fetch=odd)["error"] == "RuntimeError: proxy said no"


# --- check_response + judge_checked: the reusable half of verification --------

def test_a_checked_response_is_judged_afresh_at_each_time(test_pki: pki.TestPKI, leaf: pki.Issued) -> None:
    der = test_pki.response(leaf.cert, signer=test_pki.delegate)
    checked = ocsp.check_response(der, leaf.cert, test_pki.intermediate.cert)
    fields_before = dict(checked.fields)
    now = datetime.datetime.now(datetime.timezone.utc)

    moments = [now, now + 2 * DAY, now + 30 * DAY, now + 120 * DAY]
    judged = [ocsp.judge_checked(checked, at=moment) for moment in moments]

    assert [result["verdict"] for result in judged] == [
        verdicts.GOOD, verdicts.GOOD, verdicts.EXPIRED, verdicts.UNAUTHORIZED_SIGNER]
    assert judged[0]["seconds_until_next_update"] - judged[1]["seconds_until_next_update"] == 2 * 86400
    assert "is valid from" in judged[3]["reason"] and judged[3]["signed_by"] is None
    assert checked.fields == fields_before  # judging never changes what is reused
    for moment, result in zip(moments, judged):
        assert result == verify(test_pki, leaf, der, at=moment)


@pytest.mark.parametrize("case", ["revoked", "corrupt", "foreign", "not_ocsp"])
def test_check_then_judge_is_verify_response(test_pki: pki.TestPKI, leaf: pki.Issued, case: str) -> None:
    other = pki.TestPKI()
    der = {
        "revoked": test_pki.response(leaf.cert, "revoked"),
        "corrupt": pki.corrupt_signature(test_pki.response(leaf.cert)),
        "foreign": test_pki.response(leaf.cert, signer=other.intermediate),
        "not_ocsp": b"<html>not found</html>",
    }[case]
    at = datetime.datetime.now(datetime.timezone.utc)

    checked = ocsp.check_response(der, leaf.cert, test_pki.intermediate.cert)

    assert checked.rejected is not None or case == "revoked"
    assert ocsp.judge_checked(checked, at=at) == verify(test_pki, leaf, der, at=at)
