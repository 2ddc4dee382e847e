# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""responder_info, run in-process against a real HTTP OCSP responder on 127.0.0.1.

The responder is a stdlib HTTP server that decodes each OCSP request (POST
body or RFC 6960 GET path) and answers with a response the test PKI signs,
so the module's whole path runs: request building, Ansible's open_url,
transport errors, verification.
"""
from __future__ import annotations

import base64
import http.server
import os
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional
from unittest import mock

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp as x509_ocsp
from cryptography.x509.oid import OCSPExtensionOID

from tests.conftest import free_port
from tests.support.http_server import serving
from tests.support.pki import Issued, TestPKI, error_response

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible_collections.tlsops.ocsp.plugins.modules.responder_info import main  # noqa: E402


@dataclass
class SeenRequest:
    method: str
    path: str
    content_type: Optional[str]
    request: x509_ocsp.OCSPRequest


@dataclass
class Responder:
    """What the responder answers (per serial number) and every request it saw."""

    pki: TestPKI
    url: str = ""
    answers: Dict[int, Callable[[x509_ocsp.OCSPRequest], bytes]] = field(default_factory=dict)
    http_status: int = 200
    delay: float = 0.0
    seen: List[SeenRequest] = field(default_factory=list)

    def answer(self, request: x509_ocsp.OCSPRequest) -> bytes:
        return self.answers[request.serial_number](request)


def _handler(responder: Responder):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self._respond("POST", body)

        def do_GET(self) -> None:  # noqa: N802
            encoded = urllib.parse.unquote(self.path.rsplit("/", 1)[-1])
            self._respond("GET", base64.b64decode(encoded))

        def _respond(self, method: str, der: bytes) -> None:
            request = x509_ocsp.load_der_ocsp_request(der)
            responder.seen.append(SeenRequest(method, self.path, self.headers.get("Content-Type"), request))
            time.sleep(responder.delay)
            payload = responder.answer(request)
            self.send_response(responder.http_status)
            self.send_header("Content-Type", "application/ocsp-response")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_args) -> None:  # keep pytest's output clean
            return

    return Handler


@pytest.fixture
def responder() -> Iterator[Responder]:
    state = Responder(TestPKI())
    with serving(_handler(state)) as url:
        state.url = url
        yield state


def leaf_for(responder: Responder, tmp_path: Path, status: str = "good", **leaf_options) -> str:
    """A leaf + intermediate file whose certificate the responder answers `status` for."""
    leaf_options.setdefault("ocsp_urls", (responder.url,))
    leaf = responder.pki.leaf(**leaf_options)
    responder.answers[leaf.cert.serial_number] = lambda request: responder.pki.response(
        leaf.cert, status, hash_algorithm=request.hash_algorithm)
    return write_chain(tmp_path, leaf, responder.pki.intermediate)


def write_chain(tmp_path: Path, *certs: Issued) -> str:
    path = tmp_path / ("chain-%d.pem" % certs[0].cert.serial_number)
    path.write_bytes(b"".join(cert.pem for cert in certs))
    return str(path)


def dead_url() -> str:
    return "http://127.0.0.1:%d" % free_port()


def test_good_by_post_through_the_certificate_url(run_module, responder, tmp_path):
    result = run_module(main, certificate_path=leaf_for(responder, tmp_path))

    assert result["changed"] is False
    assert (result["verdict"], result["cert_status"], result["signed_by"]) == ("good", "good", "issuer")
    assert (result["url"], result["http_status"]) == (responder.url, 200)
    assert isinstance(result["elapsed_ms"], int) and result["elapsed_ms"] >= 0
    (seen,) = responder.seen
    assert (seen.method, seen.content_type) == ("POST", "application/ocsp-request")
    assert isinstance(seen.request.hash_algorithm, hashes.SHA1)


def test_get_with_sha256_cert_id(run_module, responder, tmp_path):
    result = run_module(main, certificate_path=leaf_for(responder, tmp_path), method="GET", hash_algorithm="sha256")

    assert result["verdict"] == "good"
    (seen,) = responder.seen
    assert seen.method == "GET"
    assert isinstance(seen.request.hash_algorithm, hashes.SHA256)


def test_nonce_is_sent_when_asked(run_module, responder, tmp_path):
    result = run_module(main, certificate_path=leaf_for(responder, tmp_path), nonce=True)

    assert result["verdict"] == "good"  # a response without a nonce is accepted (RFC 8954)
    nonce = responder.seen[0].request.extensions.get_extension_for_oid(OCSPExtensionOID.NONCE)
    assert len(nonce.value.nonce) >= 16


def test_revoked(run_module, responder, tmp_path):
    result = run_module(main, certificate_path=leaf_for(responder, tmp_path, "revoked"))

    assert (result["verdict"], result["cert_status"]) == ("revoked", "revoked")
    assert result["revocation_time"].endswith("Z")


def test_responder_error_status(run_module, responder, tmp_path):
    path = leaf_for(responder, tmp_path)
    responder.answers = dict.fromkeys(
        responder.answers, lambda _request: error_response(x509_ocsp.OCSPResponseStatus.TRY_LATER))

    result = run_module(main, certificate_path=path)

    assert result["verdict"] == "responder_error"
    assert "tryLater" in result["reason"]


def test_http_error_status_is_unreachable_with_the_status(run_module, responder, tmp_path):
    responder.http_status = 503

    result = run_module(main, certificate_path=leaf_for(responder, tmp_path))

    assert (result["verdict"], result["http_status"]) == ("unreachable", 503)
    assert "answered HTTP 503 Service Unavailable to a POST request" in result["reason"]
    assert "DNS" not in result["reason"] and "ask again later" in result["reason"]
    assert result["cert_status"] is None


def test_refused_connection_is_unreachable_not_a_failure(run_module, responder, tmp_path):
    url = dead_url()

    result = run_module(main, certificate_path=leaf_for(responder, tmp_path, ocsp_urls=(url,)))

    assert "failed" not in result
    assert (result["verdict"], result["url"], result["http_status"]) == ("unreachable", url, None)
    assert "connection refused" in result["reason"]


def test_timeout_is_unreachable_and_named(run_module, responder, tmp_path):
    responder.delay = 3

    result = run_module(main, certificate_path=leaf_for(responder, tmp_path), timeout=0.5)

    assert result["verdict"] == "unreachable"
    assert "timeout" in result["reason"]
    assert result["elapsed_ms"] < 2500


def test_urls_are_asked_in_order_until_one_answers(run_module, responder, tmp_path):
    result = run_module(main, certificate_path=leaf_for(responder, tmp_path, ocsp_urls=(dead_url(), responder.url)))

    assert (result["verdict"], result["url"]) == ("good", responder.url)


def test_url_overrides_the_certificate_and_serves_one_without_ocsp_url(run_module, responder, tmp_path):
    path = leaf_for(responder, tmp_path, ocsp_urls=())

    without_url = run_module(main, certificate_path=path)
    with_url = run_module(main, certificate_path=path, url=responder.url)

    assert without_url["verdict"] == "not_applicable"
    assert "set url" in without_url["reason"] and without_url["url"] is None
    assert (with_url["verdict"], with_url["url"]) == ("good", responder.url)


def test_the_host_proxy_variables_apply(run_module, responder, tmp_path):
    path = leaf_for(responder, tmp_path, ocsp_urls=("http://ocsp.example.invalid/",))
    proxy = {"http_proxy": responder.url, "HTTP_PROXY": responder.url, "no_proxy": "", "NO_PROXY": ""}

    with mock.patch.dict(os.environ, proxy):
        result = run_module(main, certificate_path=path)

    assert (result["verdict"], result["url"]) == ("good", "http://ocsp.example.invalid/")
    assert responder.seen[0].path == "http://ocsp.example.invalid/"  # the absolute form a proxy receives


def test_issuer_from_issuer_path(run_module, responder, tmp_path):
    path = leaf_for(responder, tmp_path)
    leaf_only = tmp_path / "leaf.pem"
    leaf_only.write_bytes(Path(path).read_bytes().split(b"-----END CERTIFICATE-----")[0]
                          + b"-----END CERTIFICATE-----\n")
    issuer = write_chain(tmp_path, responder.pki.intermediate)

    alone = run_module(main, certificate_path=str(leaf_only))
    with_issuer = run_module(main, certificate_path=str(leaf_only), issuer_path=issuer)

    assert alone["failed"] is True and "set issuer_path" in alone["msg"]
    assert with_issuer["verdict"] == "good"


def test_check_mode_asks_too(run_module, responder, tmp_path):
    result = run_module(main, check_mode=True, certificate_path=leaf_for(responder, tmp_path))

    assert result["verdict"] == "good"
    assert len(responder.seen) == 1


def test_unknown_method_is_refused(run_module, responder, tmp_path):
    result = run_module(main, certificate_path=leaf_for(responder, tmp_path), method="PUT")

    assert result["failed"] is True
    assert "method" in result["msg"] and "POST, GET" in result["msg"]
