# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mod_ssl's own words about stapling, read from Apache's error log: the cause they give.

Pure functions on text. Apache 2.4.71 (Debian 12) writes, at LogLevel warn
(lines captured from the real server in tests/unit/.../_servers/apache/fixtures/):

- at start and at each graceful restart, per certificate that cannot staple:
  AH02217 (issuer not found) or AH02218 (no OCSP URI), each with
  `[subject: ... / serial: HEX / ...]`, then AH02604 `Unable to configure
  certificate <vhost>:<port>:<n> for stapling`; AH01958 (no stapling cache,
  fatal: Apache does not start);
- at each failed fetch, inside a handshake: a specific line (AH01974 cannot
  connect, AH01972 cannot resolve, AH01977 read timeout, AH01980 bad HTTP
  answer, AH01988 not an OCSP response, AH01936 response times invalid,
  AH02969 status revoked/unknown with the serial, AH01928 too big), then a
  generic one (AH01941 responder error, AH01943 error in retrieved response,
  AH01945 error caching response). Fetch lines name no vhost: they are
  matched by serial where they carry one, else they belong to the log.

Not logged: a responder's `unauthorized`/`tryLater` answer. With mod_ssl's
default SSLStaplingReturnResponderErrors on, Apache staples that error
response; the handshake check then sees `responder_error`, not `no_staple`.

Only the running generation counts: lines after the last graceful restart
(AH00171 prefork, AH00493 event/worker), restart (AH00494 SIGHUP) or stop
(AH00169/AH00491 shutting down: what follows is a fresh start).
"""
from __future__ import annotations

import re
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes

_TIME = re.compile(r"^\[\w{3} (\w{3} \d{2} \d{2}:\d{2}:\d{2})(?:\.\d+)? (\d{4})\]")
_PID = re.compile(r"\] \[pid (\d+)")
_CODE = re.compile(r"\b(AH\d{5}):")
_SERIAL = re.compile(r"serial(?: number)?:? ([0-9A-Fa-f]+)")
_VHOST = re.compile(r"Unable to configure certificate (\S+) for stapling")
_RESTARTS = frozenset(("AH00171", "AH00493", "AH00494"))  # graceful (prefork; event/worker), restart
_STOPS = frozenset(("AH00169", "AH00491"))  # caught SIGTERM / shutting down

# mod_ssl's stapling messages -> the cause; None: a generic line that only says a fetch failed
CODES: Dict[str, Optional[str]] = {
    "AH01958": causes.CACHE_MISSING,  # SSLStapling: no stapling cache available (fatal at start)
    "AH02217": causes.ISSUER_NOT_SERVED,  # ssl_stapling_init_cert: can't retrieve issuer certificate!
    "AH02218": causes.NO_OCSP_URL,  # ssl_stapling_init_cert: no OCSP URI in certificate and no ForceURL
    "AH01972": causes.RESPONDER_NAME_UNRESOLVED,  # could not resolve address of OCSP responder <host>
    "AH01974": causes.RESPONDER_UNREACHABLE,  # could not connect to OCSP responder '<host:port>'
    "AH01977": causes.RESPONDER_UNREACHABLE,  # failed reading line from OCSP server (timeout)
    "AH01988": causes.RESPONDER_NOT_OCSP,  # failed to decode OCSP response data
    "AH01980": causes.RESPONDER_NOT_OCSP,  # bad response from OCSP server: <HTTP status>|(none)
    "AH01936": causes.RESPONSE_STALE,  # stapling_check_response: response times invalid
    "AH02969": causes.RESPONDER_REFUSES,  # response has certificate status revoked|unknown ... serial number X
    "AH01928": causes.RESPONSE_TOO_LARGE,  # OCSP stapling response too big (N bytes)
    "AH01945": causes.CACHE_TOO_SMALL,  # stapling_renew_response: error caching response!
    "AH02604": None,  # Unable to configure certificate <vhost>:<port>:<n> for stapling
    "AH01941": None,  # stapling_renew_response: responder error
    "AH01943": None,  # stapling_renew_response: error in retrieved response!
}
# inside one failure (the lines of one process in a row), the most specific line decides
_ORDER = ("AH01958", "AH02217", "AH02218", "AH01972", "AH01974", "AH01977", "AH01988", "AH01980", "AH01936",
          "AH02969", "AH01928", "AH01945")


def line_time(line: str) -> Optional[float]:
    match = _TIME.match(line)
    if not match:
        return None
    return time.mktime(time.strptime("%s %s" % (match.group(1), match.group(2)), "%b %d %H:%M:%S %Y"))


def _code(line: str) -> Optional[str]:
    match = _CODE.search(line)
    return match.group(1) if match else None


def _pid(line: str) -> Optional[str]:
    match = _PID.search(line)
    return match.group(1) if match else None


def since_last_start(log_text: str) -> List[str]:
    """The running generation's lines: from the last graceful restart or restart, or after the last stop
    (what follows a stop is a fresh start; mod_ssl checks each certificate before `resuming normal operations`)."""
    lines = log_text.splitlines()
    start = 0
    for index, line in enumerate(lines):
        code = _code(line)
        if code in _RESTARTS:
            start = index
        elif code in _STOPS:
            start = index + 1
    return lines[start:]


def _counts(line: str, serial: Optional[str], vhost: Optional[str]) -> bool:
    """A line naming a serial counts for that serial only, one naming a vhost (AH02604) for that vhost only;
    a fetch failure names neither and counts for every certificate that logs here."""
    named = _SERIAL.search(line)
    if serial and named and named.group(1).upper() != serial.upper():
        return False
    named = _VHOST.search(line)
    return not (vhost and named and named.group(1).split(":")[0] != vhost.split(":")[0])


def stapling_lines(log_text: str, since: Optional[float] = None, serial: Optional[str] = None,
                   vhost: Optional[str] = None) -> List[str]:
    """mod_ssl's stapling lines of the running generation written at or after `since`, with the OpenSSL
    error lines of the same failure; about the certificate with `serial` (hex) served by `vhost`."""
    found: List[str] = []
    for line in since_last_start(log_text):
        code = _code(line)
        library = code is None and "SSL Library Error" in line and bool(found) and _pid(line) == _pid(found[-1])
        if not (code in CODES or library) or not _counts(line, serial, vhost):
            continue
        written = line_time(line)
        if since is None or written is None or written >= since - 1:
            found.append(line)
    return found


def _last_failure(lines: Sequence[str]) -> List[str]:
    """The newest line and the lines of the same process right before it: one failure."""
    pid = _pid(lines[-1])
    failure = [lines[-1]]
    for line in reversed(lines[:-1]):
        if _pid(line) != pid:
            break
        failure.insert(0, line)
    return failure


def _decide(failure: Sequence[str]) -> Tuple[Optional[str], str]:
    """(cause, what the deciding line says) of one failure."""
    codes = [_code(line) for line in failure]
    for wanted in _ORDER:
        if wanted not in codes:
            continue
        line = failure[codes.index(wanted)]
        text = line.split("%s: " % wanted, 1)[-1]
        if wanted == "AH01980" and text.endswith("(none)"):
            continue  # the read failed before (AH01977): not an answer
        if wanted == "AH01945" and "AH01928" in codes:
            continue  # caching failed because the response was too big
        if wanted == "AH02969" and "status revoked" in text:
            return causes.CERTIFICATE_REVOKED, text
        return CODES[wanted], text
    return None, failure[-1].split("] ")[-1]


def cause_of(lines: List[str]) -> Optional[str]:
    """The cause the newest failure's most specific line names, if one does."""
    return _decide(_last_failure(lines))[0] if lines else None


def diagnose(log_text: str, since: Optional[float] = None, serial: Optional[str] = None,
             vhost: Optional[str] = None, **facts: Any) -> Optional[Dict[str, Any]]:
    """The cause mod_ssl's log gives for a certificate (`serial`, hex) served by `vhost` (its ServerName), or
    None when it says nothing. UNSETTLED with the words when no line names one. `facts` fill the remedy."""
    lines = stapling_lines(log_text, since, serial, vhost)
    if not lines:
        return None
    cause, text = _decide(_last_failure(lines))
    facts.setdefault("answer", text)
    facts.setdefault("directive", "SSLStaplingForceURL")
    host = re.search(r"OCSP responder '?([^\s':]+)", text)
    if host:
        facts.setdefault("host", host.group(1))
    return causes.diagnosis(cause or causes.UNSETTLED, lines[-10:], **facts)
