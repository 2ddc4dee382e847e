# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""crl_info, run in-process against a real HTTP server on 127.0.0.1 that publishes CRLs.

The server is a stdlib HTTP server answering GET with the bytes a test put at
a path, so the module's whole path runs: Ansible's open_url (proxies,
timeout, the size cap), verification and the result.
"""
from __future__ import annotations

import http.server
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterator, List, Tuple
from unittest import mock

import pytest
from cryptography import x509

from tests.conftest import free_port
from tests.support.http_server import serving
from tests.support.pki import Issued, Revocation, TestPKI, crl, utcnow

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible_collections.tlsops.ocsp.plugins.modules.crl_info import main  # noqa: E402

CRL_PATH = "/intermediate.crl"


@dataclass
class Publisher:
    """What the CRL server serves per path, and every path it was asked for."""

    pki: TestPKI
    url: str = ""
    files: Dict[str, Tuple[int, bytes]] = field(default_factory=dict)
    delay: float = 0.0
    seen: List[str] = field(default_factory=list)

    def publish(self, data: bytes, path: str = CRL_PATH, status: int = 200) -> str:
        self.files[path] = (status, data)
        return self.url + path


def _handler(publisher: Publisher):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            publisher.seen.append(self.path)
            time.sleep(publisher.delay)
            status, body = publisher.files.get(self.path.replace(publisher.url, ""), (404, b"no such CRL"))
            self.send_response(status)
            self.send_header("Content-Type", "application/pkix-crl")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:  # keep pytest's output clean
            return

    return Handler


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    state = Publisher(TestPKI())
    with serving(_handler(state)) as url:
        state.url = url
        yield state


def leaf_for(publisher: Publisher, **leaf_options) -> Issued:
    leaf_options.setdefault("crl_urls", (publisher.url + CRL_PATH,))
    leaf_options.setdefault("ocsp_urls", ())  # like Let's Encrypt since 2025
    return publisher.pki.leaf(**leaf_options)


def write_chain(tmp_path: Path, *certs: Issued) -> str:
    path = tmp_path / ("chain-%d.pem" % certs[0].cert.serial_number)
    path.write_bytes(b"".join(cert.pem for cert in certs))
    return str(path)


def chain_for(publisher: Publisher, tmp_path: Path, leaf: Issued) -> str:
    return write_chain(tmp_path, leaf, publisher.pki.intermediate)


def test_good_from_the_published_crl(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher)
    publisher.publish(crl(publisher.pki.intermediate, number=5))

    result = run_module(main, certificate_path=chain_for(publisher, tmp_path, leaf))

    assert result["changed"] is False
    assert result["verdict"] == "good", result["reason"]
    assert result["serial_number"] == leaf.cert.serial_number
    (entry,) = result["crls"]
    assert (entry["url"], entry["verdict"], entry["crl_number"]) == (publisher.url + CRL_PATH, "good", 5)
    assert entry["size"] > 0 and entry["elapsed_ms"] >= 0
    assert publisher.seen == [CRL_PATH]


def test_revoked_with_time_and_reason_from_a_pem_crl(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher)
    revoked_at = utcnow()
    publisher.publish(crl(publisher.pki.intermediate, [
        Revocation(leaf.cert.serial_number, revoked_at, x509.ReasonFlags.key_compromise)], pem=True))

    result = run_module(main, certificate_path=chain_for(publisher, tmp_path, leaf))

    assert (result["verdict"], result["revocation_reason"]) == ("revoked", "keyCompromise")
    assert result["revocation_time"] == revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_certificate_as_content_with_issuer_path(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher)
    publisher.publish(crl(publisher.pki.intermediate))
    issuer = write_chain(tmp_path, publisher.pki.intermediate)

    alone = run_module(main, certificate=leaf.pem.decode())
    with_issuer = run_module(main, certificate=leaf.pem.decode(), issuer_path=issuer)

    assert alone["failed"] is True
    assert alone["msg"].startswith("no certificate in the certificate option issued CN=www.example.test")
    assert "set issuer_path" in alone["msg"]
    assert with_issuer["verdict"] == "good"


def test_certificate_and_its_path_exclude_each_other(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher)
    path = chain_for(publisher, tmp_path, leaf)

    both = run_module(main, certificate_path=path, certificate=leaf.pem.decode())
    neither = run_module(main)

    assert both["failed"] is True and "mutually exclusive" in both["msg"]
    assert neither["failed"] is True and "certificate_path, certificate" in neither["msg"]


def test_unreadable_certificate_content(run_module):
    result = run_module(main, certificate="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")

    assert result["failed"] is True
    assert result["msg"].startswith("certificate: the certificate option: PEM block 1 (CERTIFICATE) is not a valid")


def test_no_distribution_point_is_not_applicable(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher, crl_urls=())

    result = run_module(main, certificate_path=chain_for(publisher, tmp_path, leaf))

    assert (result["verdict"], result["crls"]) == ("not_applicable", [])
    assert publisher.seen == []


def test_http_error_is_unreachable_with_the_status(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher)
    publisher.publish(b"gone", status=410)

    result = run_module(main, certificate_path=chain_for(publisher, tmp_path, leaf))

    assert "failed" not in result
    assert result["verdict"] == "unreachable"
    assert "HTTP status 410" in result["reason"]


def test_refused_connection_is_unreachable(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher, crl_urls=("http://127.0.0.1:%d/ca.crl" % free_port(),))

    result = run_module(main, certificate_path=chain_for(publisher, tmp_path, leaf))

    assert result["verdict"] == "unreachable"
    assert "connection refused" in result["reason"]


def test_timeout_is_unreachable_and_named(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher)
    publisher.publish(crl(publisher.pki.intermediate))
    publisher.delay = 3

    result = run_module(main, certificate_path=chain_for(publisher, tmp_path, leaf), timeout=0.5)

    assert result["verdict"] == "unreachable"
    assert "timeout" in result["reason"]
    assert result["crls"][0]["elapsed_ms"] < 2500


def test_a_crl_over_max_size_is_not_read_whole(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher)
    data = crl(publisher.pki.intermediate, [Revocation(serial, utcnow()) for serial in range(1, 400)])
    publisher.publish(data)
    path = chain_for(publisher, tmp_path, leaf)

    capped = run_module(main, certificate_path=path, max_size=len(data) - 1)
    exact = run_module(main, certificate_path=path, max_size=len(data))

    assert capped["verdict"] == "unreachable"
    assert "larger than max_size (%d bytes)" % (len(data) - 1) in capped["reason"]
    assert (exact["verdict"], exact["crls"][0]["size"]) == ("good", len(data))


def test_garbage_at_the_url_is_malformed(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher)
    publisher.publish(b"<html><body>Welcome to our CDN</body></html>")

    result = run_module(main, certificate_path=chain_for(publisher, tmp_path, leaf))

    assert result["verdict"] == "malformed"
    assert "not a CRL in DER or PEM" in result["reason"]


def test_each_url_is_downloaded_once(run_module, publisher, tmp_path):
    url = publisher.url + CRL_PATH
    leaf = leaf_for(publisher, crl_urls=(url, url))
    publisher.publish(crl(publisher.pki.intermediate))

    result = run_module(main, certificate_path=chain_for(publisher, tmp_path, leaf))

    assert result["verdict"] == "good"
    assert publisher.seen == [CRL_PATH]


def test_the_host_proxy_variables_apply(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher, crl_urls=("http://crl.example.invalid" + CRL_PATH,))
    publisher.publish(crl(publisher.pki.intermediate), path="http://crl.example.invalid" + CRL_PATH)
    proxy = {"http_proxy": publisher.url, "HTTP_PROXY": publisher.url, "no_proxy": "", "NO_PROXY": ""}

    with mock.patch.dict(os.environ, proxy):
        result = run_module(main, certificate_path=chain_for(publisher, tmp_path, leaf))

    assert result["verdict"] == "good", result["reason"]
    assert publisher.seen == ["http://crl.example.invalid" + CRL_PATH]  # the absolute form a proxy receives


def test_check_mode_downloads_too(run_module, publisher, tmp_path):
    leaf = leaf_for(publisher)
    publisher.publish(crl(publisher.pki.intermediate))

    result = run_module(main, check_mode=True, certificate_path=chain_for(publisher, tmp_path, leaf))

    assert (result["verdict"], result["changed"]) == ("good", False)
    assert len(publisher.seen) == 1


@pytest.mark.parametrize("option,value", [("max_size", 0), ("timeout", 0), ("skew", -5)])
def test_impossible_limits_are_refused(run_module, publisher, tmp_path, option, value):
    path = chain_for(publisher, tmp_path, leaf_for(publisher))

    result = run_module(main, certificate_path=path, **{option: value})

    assert result["failed"] is True
    assert result["msg"].startswith("%s: " % option) and " is not allowed; give a number " in result["msg"]
    assert publisher.seen == []
