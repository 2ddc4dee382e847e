# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy's runtime API over its UNIX stats socket: what it serves, and new OCSP responses pushed live.

Pure Python, standard library only. One command per connection (HAProxy
closes the socket after answering a single command in non-interactive mode).
"""
from __future__ import annotations

import base64
import socket
from typing import Dict, Optional

DEFAULT_TIMEOUT = 5.0
MAX_ANSWER = 4 * 1024 * 1024
OCSP_UPDATED = "OCSP Response updated"


class RuntimeApiError(RuntimeError):
    """The socket cannot be reached or HAProxy refused the command; the message says which and what to do."""


def command(socket_path: str, line: str, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Send one command line to the stats socket at `socket_path`; HAProxy's whole answer."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.settimeout(timeout)
    try:
        connection.connect(socket_path)
        connection.sendall(line.encode("ascii") + b"\n")
        chunks = []
        received = 0
        while received < MAX_ANSWER:
            chunk = connection.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    except OSError as error:
        raise RuntimeApiError("HAProxy's stats socket %s cannot be used (%s): check that HAProxy runs and that "
                              "its configuration has `stats socket %s level admin`"
                              % (socket_path, error.strerror or error, socket_path)) from None
    finally:
        connection.close()
    return b"".join(chunks).decode("utf-8", errors="replace")


def set_ocsp_response(socket_path: str, der: bytes, timeout: float = DEFAULT_TIMEOUT) -> str:
    """Push a DER OCSP response live (`set ssl ocsp-response <base64>`); RuntimeApiError when refused."""
    answer = command(socket_path, "set ssl ocsp-response " + base64.b64encode(der).decode("ascii"), timeout)
    if OCSP_UPDATED not in answer:
        raise RuntimeApiError("HAProxy (stats socket %s) refused the OCSP response: %s; the socket needs "
                              "`level admin`, and HAProxy must have loaded the certificate with a .ocsp file "
                              "beside it (reload HAProxy once)" % (socket_path, " ".join(answer.split()) or "no answer"))
    return answer.strip()


def served_certificate(socket_path: str, crt_path: str, timeout: float = DEFAULT_TIMEOUT) -> Dict[str, Optional[str]]:
    """What `show ssl cert <crt_path>` says HAProxy serves from that file: serial (upper-case hex), sha1,
    subject, and ocsp_key (set once HAProxy holds an OCSP response for it).

    Empty values when HAProxy does not know the file.
    """
    fields: Dict[str, Optional[str]] = {"serial": None, "sha1": None, "subject": None, "ocsp_key": None}
    keys = {"Serial": "serial", "SHA1 FingerPrint": "sha1", "Subject": "subject", "OCSP Response Key": "ocsp_key"}
    for line in command(socket_path, "show ssl cert " + crt_path, timeout).splitlines():
        key, separator, value = line.partition(":")
        if separator and key.strip() in keys and fields[keys[key.strip()]] is None:
            fields[keys[key.strip()]] = value.strip()
    return fields
