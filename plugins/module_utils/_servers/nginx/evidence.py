# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx's own evidence of a failed OCSP fetch: its error log lines, and what each says.

nginx logs every failed fetch at `error` level, with the certificate it was for:
``2026/12/05 01:02:03 [error] 12#12: OCSP_basic_verify() failed (SSL: error:...:unable to get issuer certificate)
while requesting certificate status, responder: ocsp.example.test, peer: 127.0.0.1:80, certificate: "/x.pem"``
"""
from __future__ import annotations

import re
import time
from typing import List, Optional, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes

_TIME = re.compile(r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) ")
# what a line says -> the cause, most specific first
_SAYS: List[Tuple[str, str]] = [
    ("no resolver defined to resolve", causes.NO_RESOLVER),
    ("OCSP_basic_verify() failed", causes.TRUSTED_WITHOUT_ROOT),
    ("could not be resolved", causes.RESPONDER_UNREACHABLE),
    ("OCSP responder timed out", causes.RESPONDER_UNREACHABLE),
    ("connect() failed", causes.RESPONDER_UNREACHABLE),
    ("recv() failed", causes.RESPONDER_UNREACHABLE),
    ("OCSP responder prematurely closed connection", causes.RESPONDER_UNREACHABLE),
    ("OCSP response not successful", causes.RESPONDER_REFUSES),
    ("OCSP response has invalid status", causes.RESPONDER_REFUSES),
    ("OCSP_check_validity() failed", causes.RESPONSE_STALE),
    ("OCSP responder sent too long response", causes.RESPONSE_TOO_LARGE),
]


def line_time(line: str) -> Optional[float]:
    """When nginx wrote the line (its local time), as a Unix time; None for a line without a time."""
    match = _TIME.match(line)
    return time.mktime(time.strptime(match.group(1), "%Y/%m/%d %H:%M:%S")) if match else None


def fetch_failures(log_text: str, certificate_path: str, since: Optional[float] = None) -> List[str]:
    """The lines of failed fetches for `certificate_path` written at or after `since`."""
    marker = 'certificate: "%s"' % certificate_path
    found = []
    for line in log_text.splitlines():
        if "while requesting certificate status" not in line or marker not in line:
            continue
        written = line_time(line)
        if since is None or written is None or written >= since - 1:
            found.append(line)
    return found


def cause_of(lines: List[str]) -> Optional[str]:
    """The cause the newest line names, if one does."""
    for line in reversed(lines):
        for words, cause in _SAYS:
            if words in line:
                return cause
    return None
