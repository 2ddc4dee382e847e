# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One TLS handshake that asks for the stapled OCSP response.

The handshake requests `status_request`, sends SNI, and stores whatever the
server staples without judging it: the staple is verified later, against the
served chain, by `staple.py`. Certificates are not validated at the TLS layer
for the same reason. The whole exchange (name resolution aside, which follows
the system resolver's own timeouts) runs on a non-blocking socket under one
deadline, so a server that accepts and then says nothing cannot hang a check.

Works with pyOpenSSL 21.0.0 (cryptography 3.4.8) up to the newest.
"""
from __future__ import annotations

import errno
import inspect
import selectors
import socket
import time
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils import verdicts

try:
    from cryptography import x509
    from OpenSSL import SSL
except ImportError:
    # the modules check the libraries first and fail with missing_required_lib
    TLS_VERSIONS = {}
    _CHAIN_AS_CRYPTOGRAPHY = False
else:
    # Accepted spellings of the protocol versions, mapped to OpenSSL's numbers.
    TLS_VERSIONS = {
        "TLSv1.2": SSL.TLS1_2_VERSION,
        "TLSv1.3": SSL.TLS1_3_VERSION,
        "1.2": SSL.TLS1_2_VERSION,
        "1.3": SSL.TLS1_3_VERSION,
    }
    # pyOpenSSL >= 24.3 converts the chain itself; older releases only return
    # OpenSSL.crypto.X509 objects, whose to_cryptography() is deprecated later on.
    _CHAIN_AS_CRYPTOGRAPHY = "as_cryptography" in inspect.signature(SSL.Connection.get_peer_cert_chain).parameters


class TlsError(Exception):
    """The handshake did not complete; `reason` names the endpoint and the cause."""

    def __init__(self, reason: str, verdict: str = verdicts.UNREACHABLE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.verdict = verdict


@dataclass
class Handshake:
    """What the server sent: the staple (None when nothing), its chain, the protocol."""

    stapled: Optional[bytes]
    chain: List[x509.Certificate] = field(default_factory=list)
    protocol: str = ""


def handshake(
    host: str,
    port: int,
    server_name: Optional[str] = None,
    timeout: float = 10.0,
    min_version: Optional[str] = None,
    max_version: Optional[str] = None,
) -> Handshake:
    """Connect to host:port, request the staple, return what was served.

    `server_name` (default: `host`, unless `host` is an IP address) is sent as
    SNI. `min_version`/`max_version` take "TLSv1.2"/"TLSv1.3" (or "1.2"/"1.3").
    Raises TlsError (verdict UNREACHABLE) on DNS, connection, timeout or TLS
    failures.
    """
    endpoint = endpoint_name(host, port, server_name)
    deadline = time.monotonic() + timeout
    sni = _sni(host, server_name)
    staples: List[bytes] = []
    context = _client_context(min_version, max_version, staples)
    try:
        with _connect(host, port, deadline, endpoint, timeout) as sock:
            chain, protocol = _exchange(context, sock, sni, deadline, endpoint, timeout)
    except OSError as error:
        # Local failures too (EMFILE when too many checks run at once): one
        # endpoint's entry, never an exception that ends a whole batch.
        raise TlsError("%s: %s" % (endpoint, _describe_os_error(error))) from None
    return Handshake(stapled=staples[0] if staples and staples[0] else None, chain=chain, protocol=protocol)


def endpoint_name(host: str, port: int, server_name: Optional[str]) -> str:
    """How reasons name an endpoint: host:port, plus the SNI name when it differs."""
    if server_name and server_name != host:
        return "%s:%s (SNI %s)" % (host, port, server_name)
    return "%s:%s" % (host, port)


def _is_ip_address(host: str) -> bool:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return True
        except OSError:
            continue
    return False


def _sni(host: str, server_name: Optional[str]) -> Optional[bytes]:
    """SNI to send: the given name, else the host name; never an IP address (RFC 6066)."""
    name = server_name or host
    if not name or _is_ip_address(name):
        return None
    try:
        return name.encode("idna")
    except UnicodeError as error:
        raise TlsError("invalid server name %r (%s)" % (name, error)) from None


def _protocol_version(name: Optional[str]) -> Optional[int]:
    if name is None:
        return None
    try:
        return TLS_VERSIONS[name]
    except KeyError:
        raise ValueError("unsupported TLS version %r; expected one of %s" % (name, ", ".join(TLS_VERSIONS))) from None


def _store_staple(connection: SSL.Connection, stapled: bytes, staples: List[bytes]) -> bool:
    """Keep the staple for later verification; never abort the handshake here."""
    staples.append(stapled)
    return True


def _client_context(min_version: Optional[str], max_version: Optional[str], staples: List[bytes]) -> SSL.Context:
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    # TLS 1.2 is the floor: older protocols cannot carry what the checks need.
    context.set_min_proto_version(_protocol_version(min_version) or SSL.TLS1_2_VERSION)
    maximum = _protocol_version(max_version)
    if maximum is not None:
        context.set_max_proto_version(maximum)
    # No verification here: the staple is judged against the served chain later.
    context.set_verify(SSL.VERIFY_NONE, None)
    context.set_ocsp_client_callback(_store_staple, staples)
    return context


def _connect(host: str, port: int, deadline: float, endpoint: str, timeout: float) -> socket.socket:
    """A connected non-blocking TCP socket to the first address that answers."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise TlsError("%s: cannot resolve the host name (%s)" % (endpoint, error.strerror or error)) from None
    except UnicodeError as error:
        raise TlsError("%s: invalid host name (%s)" % (endpoint, error)) from None
    last_error = "no address"
    for family, kind, proto, _name, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            _connect_address(sock, address, deadline, "%s: timed out after %gs while connecting" % (endpoint, timeout))
            return sock
        except OSError as error:
            sock.close()
            last_error = _describe_os_error(error)
        except BaseException:
            sock.close()
            raise
    raise TlsError("%s: cannot connect (%s)" % (endpoint, last_error))


def _connect_address(sock: socket.socket, address: tuple, deadline: float, timeout_message: str) -> None:
    sock.setblocking(False)
    code = sock.connect_ex(address)
    if code in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY):
        _wait(sock, selectors.EVENT_WRITE, deadline, timeout_message)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise OSError(code, errno.errorcode.get(code, str(code)))


def _describe_os_error(error: OSError) -> str:
    if error.errno == errno.ECONNREFUSED:
        return "connection refused: nothing listens on that port"
    return error.strerror or str(error)


def _wait(sock: socket.socket, event: int, deadline: float, message: str) -> None:
    """Block until `sock` is ready for `event`, or raise TlsError at the deadline."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TlsError(message)
    # selectors (epoll/kqueue) rather than select(): no FD_SETSIZE ceiling when
    # many checks run at once in a process that holds many descriptors.
    with selectors.DefaultSelector() as selector:
        selector.register(sock, event)
        if not selector.select(remaining):
            raise TlsError(message)


def _exchange(
    context: SSL.Context, sock: socket.socket, sni: Optional[bytes], deadline: float, endpoint: str, timeout: float
) -> Tuple[List[x509.Certificate], str]:
    """The TLS handshake on a connected socket: the served chain and the protocol."""
    connection = _start_tls(context, sock, sni)
    _drive_handshake(connection, sock, deadline, endpoint, timeout)
    return _peer_chain(connection, endpoint), connection.get_protocol_version_name()


def _start_tls(context: SSL.Context, sock: socket.socket, sni: Optional[bytes]) -> SSL.Connection:
    connection = SSL.Connection(context, sock)
    if sni:
        connection.set_tlsext_host_name(sni)
    connection.request_ocsp()
    connection.set_connect_state()
    return connection


def _drive_handshake(
    connection: SSL.Connection, sock: socket.socket, deadline: float, endpoint: str, timeout: float
) -> None:
    message = "%s: timed out after %gs during the TLS handshake" % (endpoint, timeout)
    while True:
        try:
            connection.do_handshake()
            return
        except SSL.WantReadError:
            _wait(sock, selectors.EVENT_READ, deadline, message)
        except SSL.WantWriteError:
            _wait(sock, selectors.EVENT_WRITE, deadline, message)
        except SSL.SysCallError as error:
            raise TlsError("%s: the connection failed during the TLS handshake (%s)"
                           % (endpoint, _describe_syscall_error(error))) from None
        except SSL.Error as error:
            raise TlsError("%s: TLS handshake failed (%s)" % (endpoint, _describe_ssl_error(error))) from None


def _describe_syscall_error(error: SSL.SysCallError) -> str:
    code, text = (error.args + (None, None))[:2]
    if code == -1:
        return "the server closed the connection"
    return "%s" % (text or code)


def _describe_ssl_error(error: SSL.Error) -> str:
    """OpenSSL's error queue as one line: alerts appear as 'tlsv1 alert ...'."""
    details = error.args[0] if error.args else []
    if isinstance(details, list) and details:
        return "; ".join(str(entry[-1]) for entry in details if entry)
    return str(error) or error.__class__.__name__


def _peer_chain(connection: SSL.Connection, endpoint: str) -> List[x509.Certificate]:
    """The certificates the server sent, leaf first, as cryptography objects."""
    try:
        if _CHAIN_AS_CRYPTOGRAPHY:
            chain = connection.get_peer_cert_chain(as_cryptography=True) or []
        else:
            chain = [cert.to_cryptography() for cert in connection.get_peer_cert_chain() or []]
    except ValueError as error:
        raise TlsError("%s: the server sent a certificate that cannot be parsed (%s)" % (endpoint, error),
                       verdicts.MALFORMED) from None
    if not chain:
        raise TlsError("%s: the server sent no certificate" % endpoint, verdicts.MALFORMED)
    return list(chain)
