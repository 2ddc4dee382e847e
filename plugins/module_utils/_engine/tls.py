# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One TLS handshake that asks for the stapled OCSP response.

The handshake requests `status_request`, sends SNI, and stores whatever the
server staples without judging it: the staple is verified later, against the
served chain, by `staple.py`. Certificates are not validated at the TLS layer
for the same reason. The whole exchange (name resolution aside, which follows
the system resolver's own timeouts) runs on a non-blocking socket under one
deadline, so a server that accepts and then says nothing cannot hang a check.

A handshake is written as a generator of steps (`handshake_steps`): it yields
what it waits for (a socket event, a name lookup, a pause) and a driver
performs the wait. `run` drives one check on its own; `run_all` drives many
at once on one selector in one thread, so a thousand checks cost no more
threads than one (name lookups, which block, go to a small thread pool).
All handshakes share one SSL context per protocol range.

Works with pyOpenSSL 21.0.0 (cryptography 3.4.8) up to the newest.
"""
from __future__ import annotations

import collections
import errno
import functools
import heapq
import inspect
import itertools
import selectors
import socket
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Deque, Dict, Generator, List, Optional, Sequence, Tuple, TypeVar, Union

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts

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


@dataclass(frozen=True)
class Io:
    """Wait until `sock` is ready for `event`; the driver throws TlsError(message) in at `deadline`."""

    sock: socket.socket
    event: int
    deadline: float
    message: str


@dataclass(frozen=True)
class Pause:
    """Resume at `until` (time.monotonic())."""

    until: float


@dataclass(frozen=True)
class Lookup:
    """Resolve host:port; the driver sends back getaddrinfo's answer or throws its error in."""

    host: str
    port: int


Step = Union[Io, Pause, Lookup]
T = TypeVar("T")
Steps = Generator[Step, Any, T]

# Name lookups block: at most this many run at once, in threads, while the
# handshakes go on.
LOOKUP_THREADS = 16


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
    return run(handshake_steps(host, port, server_name, timeout, min_version, max_version))


def handshake_steps(
    host: str,
    port: int,
    server_name: Optional[str] = None,
    timeout: float = 10.0,
    min_version: Optional[str] = None,
    max_version: Optional[str] = None,
) -> Steps[Handshake]:
    """`handshake` as steps for a driver (`run`, `run_all`); the generator returns the Handshake."""
    endpoint = endpoint_name(host, port, server_name)
    deadline = time.monotonic() + timeout
    sni = _sni(host, server_name)
    context = client_context(min_version, max_version)
    try:
        addresses = yield from _addresses(host, port, endpoint)
        sock = yield from _connect(addresses, deadline, endpoint, timeout)
        with sock:
            staples: List[bytes] = []
            connection = _start_tls(context, sock, sni, staples)
            yield from _drive_handshake(connection, sock, deadline, endpoint, timeout)
            chain, protocol = _peer_chain(connection, endpoint), connection.get_protocol_version_name()
    except OSError as error:
        # Local failures too (EMFILE when too many checks run at once): one
        # endpoint's entry, never an exception that ends a whole batch.
        raise TlsError("%s: %s" % (endpoint, _describe_os_error(error))) from None
    return Handshake(stapled=staples[0] if staples and staples[0] else None, chain=chain, protocol=protocol)


def run(steps: Steps[T]) -> T:
    """Drive one generator of steps to its end, waiting in this thread; its return value."""
    value: Any = None
    error: Optional[BaseException] = None
    while True:
        try:
            step = steps.throw(error) if error is not None else steps.send(value)
        except StopIteration as done:
            return done.value
        value, error = None, None
        try:
            if isinstance(step, Io):
                _wait(step)
            elif isinstance(step, Pause):
                time.sleep(max(0.0, step.until - time.monotonic()))
            else:
                value = _lookup(step.host, step.port)
        except (TlsError, socket.gaierror, UnicodeError) as failure:
            error = failure


def run_all(tasks: Sequence[Steps[T]], limit: int) -> List[T]:
    """Drive every generator in `tasks`, at most `limit` at once, in one thread; their return values in order.

    A generator that pauses gives up its place until the pause is over (a
    retry that waits holds no socket), then resumes before new ones start.

    An exception escaping a generator (TlsError included: checks catch their
    own) ends the batch, closes every socket still open and propagates, as it
    would from `run`.
    """
    loop = _Loop()
    try:
        return loop.run(tasks, max(1, limit))
    finally:
        loop.close()


class _Task:
    """One generator in `run_all`, and the step it waits on."""

    __slots__ = ("index", "steps", "waiting")

    def __init__(self, index: int, steps: Steps[Any]) -> None:
        self.index = index
        self.steps = steps
        self.waiting: Optional[Step] = None


class _Loop:
    """The event loop of `run_all`: one selector, a heap of deadlines, a thread pool for name lookups."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._timers: List[Tuple[float, int, _Task, Step]] = []
        self._order = itertools.count()  # ties in the heap never compare tasks
        self._lookups: Optional[ThreadPoolExecutor] = None
        self._wakeup: Optional[Tuple[socket.socket, socket.socket]] = None
        self._looked_up: Deque[Tuple[_Task, "Future[list]"]] = collections.deque()
        self._running: Dict[int, _Task] = {}  # started and not finished, paused ones included
        self._active = 0  # running and not paused: what `limit` bounds
        self._resumable: Deque[_Task] = collections.deque()  # paused ones whose time has come
        self._results: Dict[int, Any] = {}

    def run(self, tasks: Sequence[Steps[T]], limit: int) -> List[T]:
        queued = collections.deque(enumerate(tasks))
        while queued or self._running:
            while self._active < limit and (self._resumable or queued):
                if self._resumable:  # before new ones: a retry waits no longer than its delay needs
                    task = self._resumable.popleft()
                else:
                    task = _Task(*queued.popleft())
                    self._running[task.index] = task
                self._active += 1
                self._advance(task, None, None)
            if self._running:  # the last ones may have finished without waiting
                self._poll()
        return [self._results[index] for index in range(len(tasks))]

    def close(self) -> None:
        for task in self._running.values():
            task.steps.close()  # closes its socket
        self._selector.close()
        if self._lookups is not None:
            self._lookups.shutdown(wait=False)
        if self._wakeup is not None:
            for end in self._wakeup:
                end.close()

    def _advance(self, task: _Task, value: Any, error: Optional[BaseException]) -> None:
        """Resume `task` with a value or an error, then file it under what it waits for next."""
        while True:
            try:
                step = task.steps.throw(error) if error is not None else task.steps.send(value)
            except StopIteration as done:
                del self._running[task.index]
                self._active -= 1
                self._results[task.index] = done.value
                return
            if not (isinstance(step, Io) and step.deadline <= time.monotonic()):
                break
            value, error = None, TlsError(step.message)  # its deadline has passed: a timeout, as in `run`
        task.waiting = step
        if isinstance(step, Io):
            self._selector.register(step.sock, step.event, (task, step))
            self._at(step.deadline, task, step)
        elif isinstance(step, Pause):
            self._active -= 1  # holds no socket while it waits: its place goes to another
            self._at(step.until, task, step)
        else:
            self._look_up(task, step)

    def _at(self, when: float, task: _Task, step: Step) -> None:
        heapq.heappush(self._timers, (when, next(self._order), task, step))

    def _poll(self) -> None:
        """Wait for the next socket event, deadline or finished lookup, and resume who was waiting."""
        timeout = max(0.0, self._timers[0][0] - time.monotonic()) if self._timers else None
        ready = self._selector.select(timeout)
        # Deadlines first: a socket that became ready after its deadline is still a timeout.
        self._expire(time.monotonic())
        for key, _events in ready:
            if key.data is None:
                self._drain_wakeup()
                continue
            task, step = key.data
            if task.waiting is not step:
                continue  # it timed out just above
            self._selector.unregister(step.sock)
            task.waiting = None
            self._advance(task, None, None)
        while self._looked_up:
            task, future = self._looked_up.popleft()
            try:
                answer = future.result()
            except (socket.gaierror, UnicodeError) as failure:
                self._advance(task, None, failure)
            else:
                self._advance(task, answer, None)

    def _expire(self, now: float) -> None:
        while self._timers and self._timers[0][0] <= now:
            _when, _order, task, step = heapq.heappop(self._timers)
            if task.waiting is not step:
                continue  # it was resumed earlier; this deadline is stale
            task.waiting = None
            if isinstance(step, Io):
                self._selector.unregister(step.sock)
                self._advance(task, None, TlsError(step.message))
            else:
                self._resumable.append(task)  # resumes when a place is free

    def _look_up(self, task: _Task, step: Lookup) -> None:
        if self._lookups is None:
            self._lookups = ThreadPoolExecutor(max_workers=LOOKUP_THREADS)
            self._wakeup = socket.socketpair()
            for end in self._wakeup:
                end.setblocking(False)
            self._selector.register(self._wakeup[0], selectors.EVENT_READ, None)
        wakeup = self._wakeup[1]

        def done(future: "Future[list]") -> None:
            self._looked_up.append((task, future))
            try:
                wakeup.send(b"\0")
            except OSError:
                pass  # the loop is awake already (full buffer) or closed

        self._lookups.submit(_lookup, step.host, step.port).add_done_callback(done)

    def _drain_wakeup(self) -> None:
        try:
            while self._wakeup[0].recv(4096):
                pass
        except OSError:
            pass


def endpoint_name(host: str, port: int, server_name: Optional[str]) -> str:
    """How reasons name an endpoint: host:port, plus the SNI name when it differs."""
    if server_name and server_name != host:
        return "%s:%s (SNI %s)" % (host, port, server_name)
    return "%s:%s" % (host, port)


def parse_endpoint(text: str, default_port: int = 443) -> Tuple[str, int, Optional[str]]:
    """(host, port, server_name) of `host[:port][/server_name]` (an IPv6 address in brackets: `[::1]:443/name`);
    ValueError saying what is wrong otherwise."""
    address, _slash, server_name = text.strip().partition("/")
    host, port_text = address, ""
    if address.startswith("["):
        host, bracket, rest = address[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError("%r: write an IPv6 address as [address]:port" % text)
        port_text = rest[1:]
    elif address.count(":") == 1:
        host, _colon, port_text = address.partition(":")
    if not host or (_slash and not server_name):
        raise ValueError("%r: give host[:port][/server_name], e.g. lb1.example.com:443/www.example.com" % text)
    if not port_text:
        return host, default_port, server_name or None
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError("%r: %r is not a TCP port; give a port from 1 to 65535" % (text, port_text))
    return host, int(port_text), server_name or None


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


def _store_staple(connection: SSL.Connection, stapled: bytes, _data: Any) -> bool:
    """Keep the staple on its connection for later verification; never abort the handshake here."""
    connection.get_app_data().append(stapled)
    return True


@functools.lru_cache(maxsize=None)
def client_context(min_version: Optional[str] = None, max_version: Optional[str] = None) -> SSL.Context:
    """The SSL context of every handshake with this protocol range, made once per process.

    Nothing per endpoint lives in it: SNI and the staple belong to each connection.
    """
    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    # TLS 1.2 is the floor: older protocols cannot carry what the checks need.
    context.set_min_proto_version(_protocol_version(min_version) or SSL.TLS1_2_VERSION)
    maximum = _protocol_version(max_version)
    if maximum is not None:
        context.set_max_proto_version(maximum)
    # No verification here: the staple is judged against the served chain later.
    context.set_verify(SSL.VERIFY_NONE, None)
    context.set_ocsp_client_callback(_store_staple)
    return context


def _addresses(host: str, port: int, endpoint: str) -> Steps[list]:
    """getaddrinfo's answer for host:port: at once for an IP address, else through the driver."""
    try:
        if _is_ip_address(host):
            return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return (yield Lookup(host, port))
    except socket.gaierror as error:
        raise TlsError("%s: cannot resolve the host name (%s)" % (endpoint, error.strerror or error)) from None
    except UnicodeError as error:
        raise TlsError("%s: invalid host name (%s)" % (endpoint, error)) from None


def _lookup(host: str, port: int) -> list:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _connect(addresses: list, deadline: float, endpoint: str, timeout: float) -> Steps[socket.socket]:
    """A connected non-blocking TCP socket to the first address that answers."""
    last_error = "no address"
    message = "%s: timed out after %gs while connecting" % (endpoint, timeout)
    for family, kind, proto, _name, address in addresses:
        sock = socket.socket(family, kind, proto)
        try:
            yield from _connect_address(sock, address, deadline, message)
            return sock
        except OSError as error:
            sock.close()
            last_error = _describe_os_error(error)
        except BaseException:
            sock.close()
            raise
    raise TlsError("%s: cannot connect (%s); check the host and port, and that the server runs and a firewall "
                   "lets this host in" % (endpoint, last_error))


def _connect_address(sock: socket.socket, address: tuple, deadline: float, timeout_message: str) -> Steps[None]:
    sock.setblocking(False)
    code = sock.connect_ex(address)
    if code in (errno.EINPROGRESS, errno.EWOULDBLOCK, errno.EALREADY):
        yield Io(sock, selectors.EVENT_WRITE, deadline, timeout_message)
        code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise OSError(code, errno.errorcode.get(code, str(code)))


def _describe_os_error(error: OSError) -> str:
    if error.errno == errno.ECONNREFUSED:
        return "connection refused: nothing listens on that port"
    return error.strerror or str(error)


def _wait(step: Io) -> None:
    """Block until the socket is ready, or raise TlsError at the deadline."""
    remaining = step.deadline - time.monotonic()
    if remaining <= 0:
        raise TlsError(step.message)
    # selectors (epoll/kqueue) rather than select(): no FD_SETSIZE ceiling in
    # a process that holds many descriptors.
    with selectors.DefaultSelector() as selector:
        selector.register(step.sock, step.event)
        if not selector.select(remaining):
            raise TlsError(step.message)


def _start_tls(context: SSL.Context, sock: socket.socket, sni: Optional[bytes],
               staples: List[bytes]) -> SSL.Connection:
    connection = SSL.Connection(context, sock)
    connection.set_app_data(staples)
    if sni:
        connection.set_tlsext_host_name(sni)
    connection.request_ocsp()
    connection.set_connect_state()
    return connection


def _drive_handshake(
    connection: SSL.Connection, sock: socket.socket, deadline: float, endpoint: str, timeout: float
) -> Steps[None]:
    message = "%s: timed out after %gs during the TLS handshake" % (endpoint, timeout)
    while True:
        try:
            connection.do_handshake()
            return
        except SSL.WantReadError:
            wait = Io(sock, selectors.EVENT_READ, deadline, message)
        except SSL.WantWriteError:
            wait = Io(sock, selectors.EVENT_WRITE, deadline, message)
        except SSL.SysCallError as error:
            raise TlsError("%s: the connection failed during the TLS handshake (%s)"
                           % (endpoint, _describe_syscall_error(error))) from None
        except SSL.Error as error:
            raise TlsError("%s: TLS handshake failed (%s)" % (endpoint, _describe_ssl_error(error))) from None
        yield wait


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
