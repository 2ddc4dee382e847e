# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small HTTP relay in front of `openssl ocsp`, which a bare TCP probe wedges.

OpenSSL 3.0's responder spins at 100% CPU and stops answering when a client
connects and closes before sending a request line (openssl/openssl#31129,
#23934; `-timeout` does not help). Port checks such as ansible's `wait_for`
do exactly that. The relay listens on 127.0.0.1 only, drops clients that send
nothing within a timeout, and passes only complete OCSP requests (POST or
RFC 6960 GET; a POST body must at least be one whole DER SEQUENCE) to
openssl ocsp on its internal port, returning openssl's bytes untouched.
Threads let several servers fetch at once.

It also publishes the lab CA's CRL: a GET for CRL_PATH returns the bytes of
CRL_FILE as they are on disk at that moment (the lab rewrites the file when it
revokes a leaf), so the CRL and the OCSP responder share the responder's URL.

Run by the lab: python ocsp_relay.py LISTEN_PORT UPSTREAM_PORT [CRL_PATH CRL_FILE]
"""
from __future__ import annotations

import http.client
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOST = "127.0.0.1"
CLIENT_TIMEOUT = 5.0  # seconds a client may take to send its request
UPSTREAM_TIMEOUT = 5.0
MAX_REQUEST = 64 * 1024


def is_complete_der_sequence(body: bytes) -> bool:
    """True when `body` is exactly one DER SEQUENCE (an OCSPRequest's outer shape).

    openssl ocsp waits for the bytes a truncated or garbage body announces, and
    a worker stuck waiting answers no one else: such bodies never reach it.
    """
    if len(body) < 2 or body[0] != 0x30:
        return False
    length, offset = body[1], 2
    if length & 0x80:  # long form: the next (length & 0x7f) bytes hold the length
        size = length & 0x7F
        length, offset = int.from_bytes(body[2:2 + size], "big"), 2 + size
    return offset + length == len(body)


class OcspRelay(BaseHTTPRequestHandler):
    """Forwards one OCSP request per connection (HTTP/1.0, like openssl ocsp)."""

    timeout = CLIENT_TIMEOUT
    upstream_port = 0
    crl_path: str | None = None
    crl_file: str | None = None

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        if self.crl_path is not None and self.path == self.crl_path:
            self._send_crl()
        else:
            self._relay(None)

    def _send_crl(self) -> None:
        try:
            with open(self.crl_file, "rb") as handle:
                payload = handle.read()
        except OSError as error:
            self.send_error(404, f"the lab's CRL {self.crl_file} cannot be read: {error}")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/pkix-crl")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST:
            self.send_error(413, f"an OCSP request is not {length} bytes long")
            return
        body = self.rfile.read(length)
        if not is_complete_der_sequence(body):
            self.send_error(400, "the body is not a DER-encoded OCSP request")
            return
        self._relay(body)

    def _relay(self, body: bytes | None) -> None:
        upstream = http.client.HTTPConnection(HOST, self.upstream_port, timeout=UPSTREAM_TIMEOUT)
        try:
            headers = {"Content-Type": "application/ocsp-request"} if body is not None else {}
            upstream.request(self.command, self.path, body=body, headers=headers)
            reply = upstream.getresponse()
            status, content_type, payload = reply.status, reply.getheader("Content-Type"), reply.read()
        except OSError as error:
            self.send_error(502, f"openssl ocsp on port {self.upstream_port} did not answer: {error}")
            return
        finally:
            upstream.close()
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/ocsp-response")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def main(argv: list[str]) -> None:
    listen_port, upstream_port = int(argv[0]), int(argv[1])
    OcspRelay.upstream_port = upstream_port
    if len(argv) == 4:
        OcspRelay.crl_path, OcspRelay.crl_file = argv[2], argv[3]
    server = ThreadingHTTPServer((HOST, listen_port), OcspRelay)
    server.daemon_threads = True
    print(f"relaying http://{HOST}:{listen_port} to openssl ocsp on port {upstream_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
