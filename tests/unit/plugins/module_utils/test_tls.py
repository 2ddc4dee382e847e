# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tls.handshake against real `openssl s_server` processes on 127.0.0.1."""
from __future__ import annotations

import socket
import threading
import time
import warnings

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.tlsops.ocsp.plugins.module_utils import tls, verdicts
from tests.conftest import free_port
from tests.support.pki import SServer, TestPKI

SERVER_NAME = "www.example.test"


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI()


@pytest.fixture(scope="module")
def leaf(pki: TestPKI):
    return pki.leaf(SERVER_NAME)


@pytest.fixture(scope="module")
def staple(pki: TestPKI, leaf) -> bytes:
    return pki.response(leaf.cert)


@pytest.fixture(scope="module")
def stapling_server(tmp_path_factory, pki, leaf, staple):
    """One s_server per protocol, stapling `staple`, serving leaf + intermediate."""
    servers = {}

    def get(protocol: str) -> SServer:
        if protocol not in servers:
            workdir = tmp_path_factory.mktemp(protocol)
            servers[protocol] = SServer(workdir, 0, leaf, [pki.intermediate], staple, protocol).start()
        return servers[protocol]

    yield get
    for server in servers.values():
        server.stop()


@pytest.mark.parametrize("protocol, expected", [("tls1_2", "TLSv1.2"), ("tls1_3", "TLSv1.3")])
def test_handshake_returns_staple_chain_and_protocol(stapling_server, pki, leaf, staple, protocol, expected):
    server = stapling_server(protocol)

    result = tls.handshake("127.0.0.1", server.port, SERVER_NAME, timeout=5)

    assert result.stapled == staple
    assert result.protocol == expected
    der = serialization.Encoding.DER
    assert [c.public_bytes(der) for c in result.chain] == [leaf.der, pki.intermediate.der]


def test_no_staple_is_none(tmp_path, leaf):
    with SServer(tmp_path, 0, leaf) as server:
        result = tls.handshake("127.0.0.1", server.port, SERVER_NAME, timeout=5)

    assert result.stapled is None
    assert len(result.chain) == 1


def test_max_version_limits_the_protocol(stapling_server):
    server = stapling_server("tls1_2")

    with pytest.raises(tls.TlsError) as raised:
        tls.handshake("127.0.0.1", server.port, SERVER_NAME, timeout=5, min_version="TLSv1.3")

    assert raised.value.verdict == verdicts.UNREACHABLE
    assert "127.0.0.1:%d (SNI %s): TLS handshake failed" % (server.port, SERVER_NAME) in raised.value.reason
    assert "alert" in raised.value.reason


def test_min_and_max_version_pick_tls12_on_a_server_that_offers_both(tmp_path, leaf):
    with SServer(tmp_path, 0, leaf) as server:
        result = tls.handshake("127.0.0.1", server.port, timeout=5, max_version="1.2")

    assert result.protocol == "TLSv1.2"


def test_unknown_version_name_is_rejected():
    with pytest.raises(ValueError, match="unsupported TLS version 'TLSv1.1'"):
        tls.handshake("127.0.0.1", 1, min_version="TLSv1.1")


def test_refused_port_is_unreachable():
    port = free_port()

    with pytest.raises(tls.TlsError) as raised:
        tls.handshake("127.0.0.1", port, timeout=5)

    assert raised.value.verdict == verdicts.UNREACHABLE
    assert raised.value.reason.startswith("127.0.0.1:%d: cannot connect (connection refused" % port)


def test_silent_server_times_out_within_bound():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # the kernel completes the TCP handshake; nobody ever answers
        port = listener.getsockname()[1]
        started = time.monotonic()

        with pytest.raises(tls.TlsError) as raised:
            tls.handshake("127.0.0.1", port, timeout=0.5)

        elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 2.0
    assert raised.value.verdict == verdicts.UNREACHABLE
    assert "timed out after 0.5s during the TLS handshake" in raised.value.reason


def test_full_backlog_times_out_while_connecting():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        # Nobody accepts: once the backlog is full the kernel drops further SYNs.
        pending = [socket.socket() for _backlog_slot in range(4)]
        for sock in pending:
            sock.setblocking(False)
            sock.connect_ex(("127.0.0.1", port))
        started = time.monotonic()

        with pytest.raises(tls.TlsError) as raised:
            tls.handshake("127.0.0.1", port, timeout=0.5)

        elapsed = time.monotonic() - started
        for sock in pending:
            sock.close()
    assert raised.value.reason == "127.0.0.1:%d: timed out after 0.5s while connecting" % port
    assert 0.4 <= elapsed < 2.0


def close_next_connection(listener: socket.socket) -> None:
    listener.accept()[0].close()


def test_server_that_closes_at_once_is_unreachable():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(5)
        closer = threading.Thread(target=close_next_connection, args=(listener,))
        closer.start()

        with pytest.raises(tls.TlsError) as raised:
            tls.handshake("127.0.0.1", listener.getsockname()[1], timeout=5)

        closer.join()
    assert "the connection failed during the TLS handshake" in raised.value.reason


def test_unresolvable_host_is_unreachable():
    with pytest.raises(tls.TlsError) as raised:
        tls.handshake("no-such-host.invalid", 443, timeout=5)

    assert raised.value.reason.startswith("no-such-host.invalid:443: cannot resolve the host name")


def test_no_deprecation_warnings(stapling_server):
    server = stapling_server("tls1_3")

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tls.handshake("127.0.0.1", server.port, SERVER_NAME, timeout=5)
