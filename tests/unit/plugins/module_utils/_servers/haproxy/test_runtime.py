# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_runtime against a UNIX socket that answers as HAProxy 2.6 does (one command per connection)."""
from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import runtime as haproxy_runtime

SHOW_CERT = ("Filename: /etc/haproxy/site.pem\nStatus: Used\nSerial: 0A1B\nSHA1 FingerPrint: 9F00\n"
             "Subject: /CN=www.example.test\nOCSP Response Key: 3049\n\n")


class FakeHaproxy:
    def __init__(self, path: str, answers: Dict[str, str]) -> None:
        self.received: List[str] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(4)
        self.answers = answers
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                connection, _address = self.server.accept()
            except OSError:
                return
            with connection:
                line = connection.makefile("rb").readline().decode().strip()
                self.received.append(line)
                answer = next((text for prefix, text in self.answers.items() if line.startswith(prefix)), "Unknown\n")
                connection.sendall(answer.encode())


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[FakeHaproxy]:
    haproxy = FakeHaproxy(str(tmp_path / "admin.sock"), {
        "show ssl cert": SHOW_CERT,
        "set ssl ocsp-response AAEC": "OCSP Response updated!\n",
        "set ssl ocsp-response": "OCSP single response: Certificate ID does not match any certificate or issuer.\n",
    })
    yield haproxy
    haproxy.server.close()


def test_served_certificate(fake: FakeHaproxy, tmp_path: Path):
    served = haproxy_runtime.served_certificate(str(tmp_path / "admin.sock"), "/etc/haproxy/site.pem")
    assert served == {"serial": "0A1B", "sha1": "9F00", "subject": "/CN=www.example.test", "ocsp_key": "3049"}
    assert fake.received == ["show ssl cert /etc/haproxy/site.pem"]


def test_push_sends_base64_and_accepts_the_update(fake: FakeHaproxy, tmp_path: Path):
    answer = haproxy_runtime.set_ocsp_response(str(tmp_path / "admin.sock"), b"\x00\x01\x02")
    assert answer == "OCSP Response updated!" and fake.received == ["set ssl ocsp-response AAEC"]


def test_a_refused_push_says_why(fake: FakeHaproxy, tmp_path: Path):
    with pytest.raises(haproxy_runtime.RuntimeApiError, match="Certificate ID does not match"):
        haproxy_runtime.set_ocsp_response(str(tmp_path / "admin.sock"), b"\xff")


def test_a_missing_socket_names_it_and_the_remedy(tmp_path: Path):
    with pytest.raises(haproxy_runtime.RuntimeApiError, match="level admin"):
        haproxy_runtime.command(str(tmp_path / "none.sock"), "show info")
