# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A DNS server on loopback for the lab: A records for the names it is given, NXDOMAIN for every other.

Public CAs name their OCSP responders by host name, so the servers and the engine must resolve them; this
answers as a real resolver does (UDP, RFC 1035), on 127.53.0.1:53 by default: glibc's resolv.conf takes no
port, and nginx's `resolver` takes this one too. Standard library only; it runs in a thread of the test.
"""
from __future__ import annotations

import socket
import struct
import threading
from typing import Dict, Optional

ADDRESS = "127.53.0.1"
TYPE_A, CLASS_IN = 1, 1
NOERROR, NXDOMAIN, NOTIMP = 0, 3, 4


def _question(packet: bytes) -> tuple:
    """(name in lower case, qtype, qclass, end of the question) of a query's first question."""
    labels, offset = [], 12
    while packet[offset]:
        length = packet[offset]
        labels.append(packet[offset + 1:offset + 1 + length].decode("ascii").lower())
        offset += 1 + length
    qtype, qclass = struct.unpack("!HH", packet[offset + 1:offset + 5])
    return ".".join(labels), qtype, qclass, offset + 5


def answer(packet: bytes, records: Dict[str, str]) -> bytes:
    """The response to one query: the A record of a known name, an empty NOERROR for its other types (AAAA),
    NXDOMAIN for unknown names."""
    query_id, flags = struct.unpack("!HH", packet[:4])
    name, qtype, qclass, end = _question(packet)
    known = name in records
    rcode = NOERROR if known else NXDOMAIN
    answers = b""
    if known and qtype == TYPE_A and qclass == CLASS_IN:
        # a pointer to the question's name, then TTL 5 and the address
        answers = struct.pack("!HHHIH", 0xC00C, TYPE_A, CLASS_IN, 5, 4) + socket.inet_aton(records[name])
    header = struct.pack("!HHHHHH", query_id, 0x8180 | (flags & 0x0100) | rcode, 1, 1 if answers else 0, 0, 0)
    return header + packet[12:end] + answers


class DnsServer:
    """`with DnsServer({"ocsp.lab.test": "127.0.0.1"}) as dns:` serves on dns.address:53 until the block ends."""

    def __init__(self, records: Dict[str, str], address: str = ADDRESS, port: int = 53) -> None:
        self.records = {name.lower(): value for name, value in records.items()}
        self.address, self.port = address, port
        self._socket: Optional[socket.socket] = None
        self._thread: Optional[threading.Thread] = None
        self._stopping = threading.Event()

    def _serve(self) -> None:
        assert self._socket is not None
        while not self._stopping.is_set():
            try:
                packet, client = self._socket.recvfrom(512)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                self._socket.sendto(answer(packet, self.records), client)
            except (IndexError, struct.error, UnicodeDecodeError, OSError):
                continue  # not a query we can read: no answer, as a real server drops garbage

    def __enter__(self) -> "DnsServer":
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.settimeout(0.2)  # a blocked recvfrom would outlive close(): the loop looks at _stopping
        self._socket.bind((self.address, self.port))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._socket is not None and self._thread is not None
        self._stopping.set()
        self._thread.join(timeout=5)
        self._socket.close()
