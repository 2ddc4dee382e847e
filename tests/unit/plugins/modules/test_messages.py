# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One table: what a user gives the user-facing modules -> the words of the message they get back.

Every row runs the real module in-process on real files and a real HTTP server on 127.0.0.1. A message must
say what is wrong, where (the option, file or URL) and what to do, and must not point at a wrong cause: each
row lists the words that must be there and the words that must not (the old, misleading advice).
The text checked is `msg` for a failure, else the `reason` of the (first) verdict.
"""
from __future__ import annotations

import http.server
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Sequence, Tuple

import pytest

from tests.conftest import free_port
from tests.support.pki import TestPKI, crl, issue

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible_collections.tlsops.ocsp.plugins.modules import (  # noqa: E402
    certificate_info, crl_info, responder_info, response_info, staple_info,
)

NOT_IMPLEMENTED_PAGE = b"<html><head><title>501 Not Implemented</title></head><body>nope</body></html>"

# path -> (status, body) of the web server that is not an OCSP responder (or a CRL that moved)
PAGES: Dict[str, Tuple[int, bytes]] = {
    "/501": (501, NOT_IMPLEMENTED_PAGE),
    "/404": (404, b"Not Found"),
    "/405": (405, b""),
    "/503": (503, b"busy"),
    "/html": (200, b"<!DOCTYPE html><html><body>Welcome to nginx!</body></html>"),
    "/gone.crl": (410, b"gone"),
}


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        path = self.path if self.path in PAGES or self.path.endswith(".crl") else "/" + self.path.split("/")[1]
        status, body = PAGES.get(path, (200, self.server.crls.get(self.path, b"")))  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def log_message(self, *_args: Any) -> None:
        pass


@dataclass
class Env:
    """What a row's arguments may use: files in tmp, the web server's base URL, a test PKI."""
    tmp: Path
    url: str
    pki: TestPKI
    files: Dict[str, str] = field(default_factory=dict)


@pytest.fixture(scope="module")
def web() -> Iterator[http.server.HTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.crls = {}  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def env(web: http.server.HTTPServer, tmp_path_factory: pytest.TempPathFactory) -> Env:
    tmp = tmp_path_factory.mktemp("messages")
    url = "http://127.0.0.1:%d" % web.server_address[1]
    pki = TestPKI(ocsp_url=url + "/501")
    web.crls["/intermediate.crl"] = crl(pki.intermediate)  # type: ignore[attr-defined]
    files = Env(tmp, url, pki).files
    leaf = pki.leaf("www.example.test", crl_urls=(url + "/gone.crl",))

    def write(name: str, data: bytes) -> None:
        (tmp / name).write_bytes(data)
        files[name] = str(tmp / name)

    write("leaf.pem", leaf.pem)
    write("chain.pem", leaf.pem + pki.intermediate.pem)
    write("no-ocsp.pem", pki.leaf(ocsp_urls=()).pem + pki.intermediate.pem)
    write("no-crl.pem", pki.leaf().pem + pki.intermediate.pem)
    write("intermediate.pem", pki.intermediate.pem)
    write("ca-bundle.pem", pki.intermediate.pem)  # a CA bundle without its root
    write("self-signed.pem", issue("selfsigned.example.test", ocsp_urls=(url + "/501",)).pem)
    write("leaf.key", leaf.key_pem)
    write("notes.txt", b"hello\n")
    write("empty.pem", b"")
    write("response.der", b"<html>not an OCSP response</html>")
    files["missing"] = str(tmp / "missing.pem")
    files["dir"] = str(tmp)
    return Env(tmp, url, pki, files)


@dataclass
class Row:
    """One message: the module, its arguments (from Env), words that must be in it, words that must not."""
    name: str
    main: Callable[[], None]
    args: Callable[[Env], Dict[str, Any]]
    words: Sequence[str]
    not_words: Sequence[str] = ()
    failed: bool = True


F = Env  # for short lambdas below
DNS_ADVICE = "check DNS, firewall and proxy"

ROWS = [
    # --- certificate_info: every item's error in words --------------------------------------------------
    Row("certificate_info missing file", certificate_info.main, lambda e: {"path": e.files["missing"]},
        ["path: ", "missing.pem: cannot be read: no such file; check the path"]),
    Row("certificate_info directory", certificate_info.main, lambda e: {"path": e.files["dir"]},
        ["it is a directory; give the certificate file in it"]),
    Row("certificate_info private key", certificate_info.main, lambda e: {"path": e.files["leaf.key"]},
        ["leaf.key: holds a private key, not a certificate", "give the certificate file that goes with the key"],
        ["-----BEGIN"]),
    Row("certificate_info not a certificate", certificate_info.main, lambda e: {"path": e.files["notes.txt"]},
        ["notes.txt: is neither PEM with a CERTIFICATE block nor a readable DER certificate; give the server "
         "certificate file"]),
    Row("certificate_info empty file", certificate_info.main, lambda e: {"path": e.files["empty.pem"]},
        ["empty.pem: is empty; expected a PEM or DER certificate"]),
    Row("certificate_info several culprits", certificate_info.main,
        lambda e: {"paths": [e.files["leaf.pem"], e.files["missing"], e.files["leaf.key"]]},
        ["paths: 2 of 3 files gave no certificate: [", "missing.pem: cannot be read", "leaf.key: holds a private key",
         "or set fail_on=none"]),
    Row("certificate_info bad content", certificate_info.main,
        lambda e: {"content": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
        ["content: ", "PEM block 1 (CERTIFICATE) is not a valid certificate"]),

    # --- responder_info: the right cause for certificates and for servers that are not OCSP responders -------
    Row("responder_info self-signed", responder_info.main, lambda e: {"certificate_path": e.files["self-signed.pem"]},
        ["certificate_path: ", "is self-signed (CN=selfsigned.example.test", "apply to leaf certificates a CA issued",
         "give the server's certificate"], ["set issuer_path"]),
    Row("responder_info CA bundle", responder_info.main, lambda e: {"certificate_path": e.files["ca-bundle.pem"]},
        ["holds CA certificates only", "the CA CN=tlsops Test Intermediate CA", "apply to leaf certificates",
         "this CA bundle as issuer_path"], ["set issuer_path"]),
    Row("responder_info issuer missing", responder_info.main, lambda e: {"certificate_path": e.files["leaf.pem"]},
        ["no certificate in", "issued CN=www.example.test", "set issuer_path to a file with the issuing CA"]),
    Row("responder_info issuer_path unreadable", responder_info.main,
        lambda e: {"certificate_path": e.files["leaf.pem"], "issuer_path": e.files["missing"]},
        ["issuer_path: cannot read", "missing.pem (No such file or directory)", "check the path"]),
    Row("responder_info HTTP 501", responder_info.main, lambda e: {"certificate_path": e.files["chain.pem"]},
        ["answered HTTP 501 Not Implemented to a POST request", "/501", "an HTML page", "not an OCSP responder",
         "check the URL"], [DNS_ADVICE], failed=False),
    Row("responder_info HTTP 404 text", responder_info.main,
        lambda e: {"certificate_path": e.files["chain.pem"], "url": e.url + "/404"},
        ["answered HTTP 404 Not Found", "text ('Not Found'", "not an OCSP responder", "check the URL"], [DNS_ADVICE],
        failed=False),
    Row("responder_info HTTP 405", responder_info.main,
        lambda e: {"certificate_path": e.files["chain.pem"], "url": e.url + "/405", "method": "POST"},
        ["answered HTTP 405 Method Not Allowed", "does not take POST; try GET instead"], [DNS_ADVICE], failed=False),
    Row("responder_info HTTP 503", responder_info.main,
        lambda e: {"certificate_path": e.files["chain.pem"], "url": e.url + "/503"},
        ["answered HTTP 503 Service Unavailable", "down or overloaded; ask again later"], [DNS_ADVICE], failed=False),
    Row("responder_info HTML with 200", responder_info.main,
        lambda e: {"certificate_path": e.files["chain.pem"], "url": e.url + "/html"},
        ["answered HTTP 200 with an HTML page", "not an OCSP response", "check the URL"], [DNS_ADVICE], failed=False),
    Row("responder_info refused", responder_info.main,
        lambda e: {"certificate_path": e.files["chain.pem"], "url": "http://127.0.0.1:%d/" % free_port()},
        ["is unreachable by POST: connection refused by 127.0.0.1", DNS_ADVICE], failed=False),
    Row("responder_info no OCSP URL", responder_info.main, lambda e: {"certificate_path": e.files["no-ocsp.pem"]},
        ["names no OCSP responder", "set url to ask a responder anyway"], failed=False),

    # --- response_info -----------------------------------------------------------------------------------
    Row("response_info bad base64", response_info.main,
        lambda e: {"certificate_path": e.files["chain.pem"], "content_base64": "***"},
        ["content_base64: not valid base64"]),
    Row("response_info HTML saved as a response", response_info.main,
        lambda e: {"certificate_path": e.files["chain.pem"], "path": e.files["response.der"]},
        ["bytes are not a DER OCSP response", "an HTML error page"], failed=False),
    Row("response_info self-signed", response_info.main,
        lambda e: {"certificate_path": e.files["self-signed.pem"], "path": e.files["response.der"]},
        ["is self-signed"], ["set issuer_path"]),

    # --- staple_info: options in the module's own words -----------------------------------------------------
    Row("staple_info port out of range", staple_info.main, lambda e: {"host": "127.0.0.1", "port": 70000},
        ["port: 70000 is not a TCP port; give a port from 1 to 65535"], ["nothing listens"]),
    Row("staple_info endpoint port 0", staple_info.main,
        lambda e: {"endpoints": [{"host": "127.0.0.1", "port": 443}, {"host": "127.0.0.1", "port": 0}]},
        ["endpoints[1].port: 0 is not a TCP port"], ["nothing listens"]),
    Row("staple_info negative retries", staple_info.main, lambda e: {"host": "127.0.0.1", "retries": -1},
        ["retries: -1 is not allowed; give 0 or more"]),
    Row("staple_info zero timeout", staple_info.main, lambda e: {"host": "127.0.0.1", "timeout": 0},
        ["timeout: 0.0 is not allowed; give a number of seconds greater than 0"]),
    Row("staple_info ca_path missing", staple_info.main, lambda e: {"host": "127.0.0.1", "ca_path": e.files["missing"]},
        ["ca_path: cannot read", "check the path"]),
    Row("staple_info nothing listens", staple_info.main, lambda e: {"host": "127.0.0.1", "port": free_port()},
        ["127.0.0.1:", "connection refused: nothing listens on that port", "check the host and port"],
        failed=False),

    # --- crl_info --------------------------------------------------------------------------------------------
    Row("crl_info self-signed", crl_info.main, lambda e: {"certificate_path": e.files["self-signed.pem"]},
        ["is self-signed", "revocation checking apply to leaf certificates"], ["set issuer_path"]),
    Row("crl_info CA bundle", crl_info.main, lambda e: {"certificate_path": e.files["ca-bundle.pem"]},
        ["holds CA certificates only", "this CA bundle as issuer_path"], ["set issuer_path"]),
    Row("crl_info timeout 0", crl_info.main, lambda e: {"certificate_path": e.files["chain.pem"], "timeout": 0},
        ["timeout: 0.0 is not allowed; give a number of seconds greater than 0"]),
    Row("crl_info max_size 0", crl_info.main, lambda e: {"certificate_path": e.files["chain.pem"], "max_size": 0},
        ["max_size: 0 is not allowed; give a number of bytes greater than 0"]),
    Row("crl_info CRL gone", crl_info.main, lambda e: {"certificate_path": e.files["chain.pem"]},
        ["/gone.crl", "HTTP status 410", "check the URL, and that the CA still publishes there"], [DNS_ADVICE],
        failed=False),
    Row("crl_info no distribution point", crl_info.main, lambda e: {"certificate_path": e.files["no-crl.pem"]},
        ["names no CRL distribution point", "ask its OCSP responder (tlsops.ocsp.responder_info) instead"],
        failed=False),
]


def message(result: Dict[str, Any]) -> str:
    if result.get("failed"):
        return result["msg"]
    if "endpoints" in result:
        return result["endpoints"][0]["reason"]
    return result["reason"]


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_message(run_module, env: Env, row: Row) -> None:
    result = run_module(row.main, **row.args(env))

    text = message(result)
    assert bool(result.get("failed")) is row.failed, text
    missing = [words for words in row.words if words not in text]
    assert not missing, "%r lacks %r" % (text, missing)
    wrong = [words for words in row.not_words if words in text]
    assert not wrong, "%r says %r" % (text, wrong)
