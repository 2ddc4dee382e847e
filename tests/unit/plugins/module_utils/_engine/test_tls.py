# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tls.handshake against real `openssl s_server` processes on 127.0.0.1."""
from __future__ import annotations

import os
import re
import selectors
import socket
import threading
import time
import warnings

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import tls
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
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


# --- one context, many handshakes on one loop --------------------------------

def test_one_context_per_protocol_range():
    assert tls.client_context("TLSv1.3", "TLSv1.3") is tls.client_context("TLSv1.3", "TLSv1.3")
    assert tls.client_context(None, "1.2") is not tls.client_context(None, None)


def test_handshakes_sharing_the_context_each_keep_their_own_staple(tmp_path, pki):
    """Interleaved handshakes on the shared context: a staple never lands on another connection."""
    leaves = [pki.leaf("site%d.example.test" % number) for number in range(3)]
    staples = [pki.response(leaf.cert) for leaf in leaves[:2]] + [None]
    servers = [SServer(tmp_path / str(number), 0, leaf, [pki.intermediate], staple).start()
               for number, (leaf, staple) in enumerate(zip(leaves, staples))]
    try:
        steps = [tls.handshake_steps("127.0.0.1", servers[number % 3].port, timeout=5) for number in range(30)]
        results = tls.run_all(steps, limit=30)
    finally:
        for server in servers:
            server.stop()

    assert [result.stapled for result in results] == [staples[number % 3] for number in range(30)]
    der = serialization.Encoding.DER
    assert [result.chain[0].public_bytes(der) for result in results] == [leaves[n % 3].der for n in range(30)]


def test_run_all_times_out_each_handshake_on_its_own_deadline(stapling_server, staple):
    """Deadlines run concurrently: ten silent servers cost one timeout, not ten, and the others still finish."""
    good = stapling_server("tls1_3").port
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        silent = listener.getsockname()[1]
        ports = [silent] * 10 + [good] * 5
        steps = [_outcome(tls.handshake_steps("127.0.0.1", port, SERVER_NAME, timeout=0.5)) for port in ports]
        started = time.monotonic()

        outcomes = tls.run_all(steps, limit=len(steps))

        elapsed = time.monotonic() - started
    assert outcomes[:10] == ["127.0.0.1:%d (SNI %s): timed out after 0.5s during the TLS handshake"
                             % (silent, SERVER_NAME)] * 10
    assert outcomes[10:] == [staple] * 5
    assert 0.4 <= elapsed < 3.0


def _outcome(steps):
    """The staple, or the TlsError's reason, as a generator's return value."""
    try:
        handshake = yield from steps
    except tls.TlsError as error:
        return error.reason
    return handshake.stapled


def test_run_all_looks_names_up_and_reports_names_that_do_not_resolve(stapling_server, staple):
    good = stapling_server("tls1_3").port
    steps = [_outcome(tls.handshake_steps(host, good, SERVER_NAME, timeout=5))
             for host in ("localhost", "no-such-host.invalid", "127.0.0.1")]

    outcomes = tls.run_all(steps, limit=3)

    assert outcomes[0] == staple and outcomes[2] == staple
    assert outcomes[1].startswith("no-such-host.invalid:%d (SNI %s): cannot resolve the host name" % (good, SERVER_NAME))


def test_run_all_pauses_without_holding_the_others():
    def paused(seconds):
        yield tls.Pause(time.monotonic() + seconds)
        return seconds

    started = time.monotonic()
    outcomes = tls.run_all([paused(0.3), paused(0.3), paused(0.0)], limit=3)

    assert outcomes == [0.3, 0.3, 0.0]
    assert 0.3 <= time.monotonic() - started < 2.0


def test_an_error_escaping_a_step_closes_every_socket_and_propagates():
    open_fds = len(os.listdir("/proc/self/fd"))
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        steps = [tls.handshake_steps("127.0.0.1", port, timeout=5) for _number in range(5)]
        steps.append(tls.handshake_steps("127.0.0.1", port, timeout=5, min_version="TLSv1.1"))

        with pytest.raises(ValueError, match="unsupported TLS version 'TLSv1.1'"):
            tls.run_all(steps, limit=6)

    assert len(os.listdir("/proc/self/fd")) <= open_fds


def test_a_paused_step_gives_its_place_to_the_next():
    """With room for one, every generator starts before the first pause ends: pauses hold no place."""
    log = []

    def pausing(number):
        log.append(("start", number))
        yield tls.Pause(time.monotonic() + 0.3)
        log.append(("end", number))
        return number

    assert tls.run_all([pausing(number) for number in range(4)], limit=1) == [0, 1, 2, 3]
    assert log[:4] == [("start", number) for number in range(4)]
    assert sorted(log[4:]) == [("end", number) for number in range(4)]


def test_run_all_ends_when_the_last_generator_ends_without_waiting():
    """A finished wait leaves its 60 s deadline behind; the batch must not sit it out once all are done."""
    ready, writer = socket.socketpair()
    writer.send(b"x")  # readable at once

    def waits_once():
        yield tls.Io(ready, selectors.EVENT_READ, time.monotonic() + 60, "never")
        return "waited"

    def ends_at_once():
        return "done"
        yield  # a generator that never waits

    started = time.monotonic()
    with ready, writer:
        outcomes = tls.run_all([waits_once(), ends_at_once()], limit=1)

    assert outcomes == ["waited", "done"]
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("text, expected", [
    ("lb1.example.com", ("lb1.example.com", 443, None)),
    ("lb1.example.com:8443", ("lb1.example.com", 8443, None)),
    ("192.0.2.10:8443/www.example.com", ("192.0.2.10", 8443, "www.example.com")),
    ("lb1.example.com/www.example.com", ("lb1.example.com", 443, "www.example.com")),
    ("[2001:db8::1]:443/www.example.com", ("2001:db8::1", 443, "www.example.com")),
    ("[2001:db8::1]", ("2001:db8::1", 443, None)),
    ("2001:db8::1", ("2001:db8::1", 443, None)),
    (" edge.example.net:443 ", ("edge.example.net", 443, None)),
])
def test_an_endpoint_is_read_as_host_port_and_server_name(text, expected):
    assert tls.parse_endpoint(text) == expected


@pytest.mark.parametrize("text, words", [
    ("lb1.example.com:70000", "'70000' is not a TCP port; give a port from 1 to 65535"),
    ("lb1.example.com:https", "'https' is not a TCP port"),
    ("lb1.example.com:", None),
    ("[2001:db8::1", "write an IPv6 address as [address]:port"),
    ("[2001:db8::1]8443", "write an IPv6 address as [address]:port"),
    (":443", "give host[:port][/server_name]"),
    ("lb1.example.com:443/", "give host[:port][/server_name]"),
    ("", "give host[:port][/server_name]"),
])
def test_an_endpoint_that_cannot_be_read_says_what_to_write(text, words):
    if words is None:  # an empty port is the default port
        assert tls.parse_endpoint(text) == ("lb1.example.com", 443, None)
        return
    with pytest.raises(ValueError, match=re.escape(words)):
        tls.parse_endpoint(text)
