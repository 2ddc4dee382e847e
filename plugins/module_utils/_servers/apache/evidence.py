# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mod_ssl's own evidence of stapling trouble: its error log lines (AH codes), and what each says.

``[Sat Dec 05 01:02:03.123456 2026] [ssl:error] [pid 12] AH01974: could not connect to OCSP responder 'x'``
"""
from __future__ import annotations

import re
import time
from typing import Dict, List, Optional

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes

_TIME = re.compile(r"^\[\w{3} (\w{3} \d{2} \d{2}:\d{2}:\d{2})(?:\.\d+)? (\d{4})\]")
# mod_ssl's stapling messages -> the cause
CODES: Dict[str, str] = {
    "AH02217": causes.ISSUER_NOT_SERVED,  # ssl_stapling_init_cert: can't retrieve issuer certificate
    "AH01941": causes.RESPONDER_REFUSES,  # stapling_renew_response: responder error
    "AH01974": causes.RESPONDER_UNREACHABLE,  # could not connect to OCSP responder
    "AH01936": causes.RESPONSE_STALE,  # stapling_check_response: response times invalid
    "AH01928": causes.RESPONSE_TOO_LARGE,  # OCSP response too big
    "AH01958": causes.CACHE_MISSING,  # SSLStapling: no stapling cache available
    "AH01977": causes.RESPONDER_UNREACHABLE,  # failed reading line from OCSP server
    "AH01980": causes.RESPONDER_UNREACHABLE,  # bad response from OCSP server
    "AH01972": causes.RESPONDER_UNREACHABLE,  # unable to resolve OCSP responder / connect
}
_CODE = re.compile(r"\b(AH\d{5}):")


def line_time(line: str) -> Optional[float]:
    match = _TIME.match(line)
    if not match:
        return None
    return time.mktime(time.strptime("%s %s" % (match.group(1), match.group(2)), "%b %d %H:%M:%S %Y"))


def stapling_lines(log_text: str, since: Optional[float] = None) -> List[str]:
    """mod_ssl's stapling lines written at or after `since`."""
    found = []
    for line in log_text.splitlines():
        match = _CODE.search(line)
        if not match or match.group(1) not in CODES:
            continue
        written = line_time(line)
        if since is None or written is None or written >= since - 1:
            found.append(line)
    return found


def cause_of(lines: List[str]) -> Optional[str]:
    for line in reversed(lines):
        match = _CODE.search(line)
        if match and match.group(1) in CODES:
            return CODES[match.group(1)]
    return None
