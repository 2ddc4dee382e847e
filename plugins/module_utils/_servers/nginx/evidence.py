# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx's own evidence of stapling trouble: its error log lines and `nginx -t` warnings, and what each says.

nginx 1.22 writes (real lines in tests/unit/.../_servers/nginx/fixtures/, README.md there says how each
was produced), per certificate path as its configuration names it:

- at each failed fetch, in a worker, level error (warn for the resolver):
  ``2026/12/05 01:02:03 [error] 12#12: OCSP_basic_verify() failed (SSL: error:...:unable to get issuer
  certificate) while requesting certificate status, responder: ocsp.example.test, peer: 127.0.0.1:80,
  certificate: "/x.pem"`` (no ``peer:`` when no address was found);
- when it reads its configuration (`nginx -t`, start, reload), level warn:
  ``"ssl_stapling" ignored, issuer certificate not found for certificate "/x.pem"``, ``... no OCSP responder
  URL in the certificate "/x.pem"``, ``... host not found in OCSP responder "ocsp.example.test/" in the
  certificate "/x.pem"`` (nginx resolves the responder's name with the system's DNS at that moment,
  `resolver` or not).

Only the running configuration's lines count: after the last `reconfiguring` (a reload; the master warns
after it) or the last stop (``signal 3 (SIGQUIT) received from N, shutting down``). Both are notice lines,
which Debian's default `error_log` level (error) hides: callers also pass `since`, when the workers started.
"""
from __future__ import annotations

import os
import re
import time
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes

_TIME = re.compile(r"^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) ")
_LINE = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(?P<level>[a-z]+)\] \d+#\d+: (?:\*\d+ )?(?P<text>.*)$")
_STATUS = re.compile(r"^(?P<what>.*?) while requesting certificate status, responder: (?P<responder>[^,]*)"
                     r"(?:, peer: [^,]*)?, certificate: \"(?P<certificate>[^\"]*)\"")
_IGNORED = re.compile(r"^(?:nginx: \[warn\] )?\"ssl_stapling\" ignored, (?P<why>.*?)"
                      r"(?: for| in the) certificate \"(?P<certificate>[^\"]*)\"")
_STOPPED = re.compile(r"^signal \d+ \(SIG[A-Z]+\) received from \d+, (?:shutting down|exiting)$")

# what a line says -> the cause, most specific first
_SAYS: List[Tuple[str, str]] = [
    ("issuer certificate not found", causes.ISSUER_NOT_SERVED),
    ("no OCSP responder URL", causes.NO_OCSP_URL),
    ("host not found in OCSP responder", causes.RESPONDER_NAME_UNRESOLVED),
    ("no resolver defined to resolve", causes.NO_RESOLVER),
    ("unable to get issuer certificate", causes.TRUSTED_WITHOUT_ROOT),
    ("unable to get local issuer certificate", causes.TRUSTED_WITHOUT_ROOT),
    ("OCSP_basic_verify() failed", causes.RESPONSE_INVALID),
    ("OCSP_check_validity() failed", causes.RESPONSE_STALE),
    ('certificate status "revoked"', causes.CERTIFICATE_REVOKED),
    ('certificate status "unknown"', causes.RESPONDER_REFUSES),
    ("OCSP response not successful", causes.RESPONDER_REFUSES),
    ("OCSP response has invalid status", causes.RESPONDER_REFUSES),
    ("OCSP responder sent too long response", causes.RESPONSE_TOO_LARGE),
    ("encoding routines::too long", causes.RESPONSE_TOO_LARGE),  # the body was cut at nginx's buffer
    ("OCSP responder sent", causes.RESPONDER_NOT_OCSP),  # invalid "Content-Type", invalid HTTP status, ...
    ("d2i_OCSP_RESPONSE() failed", causes.RESPONDER_NOT_OCSP),
    ("could not be resolved", causes.RESPONDER_NAME_UNRESOLVED),
    ("OCSP responder timed out", causes.RESPONDER_UNREACHABLE),
    ("connect() failed", causes.RESPONDER_UNREACHABLE),
    ("recv() failed", causes.RESPONDER_UNREACHABLE),
    ("send() failed", causes.RESPONDER_UNREACHABLE),
    ("OCSP responder prematurely closed connection", causes.RESPONDER_UNREACHABLE),
]


def line_time(line: str) -> Optional[float]:
    """When nginx wrote the line (its local time), as a Unix time; None for a line without a time."""
    match = _TIME.match(line)
    return time.mktime(time.strptime(match.group(1), "%Y/%m/%d %H:%M:%S")) if match else None


def since_last_start(log_text: str) -> List[str]:
    """The lines the running configuration wrote: from the last `reconfiguring`, or after the last stop."""
    lines = log_text.splitlines()
    start = 0
    for index, line in enumerate(lines):
        match = _LINE.match(line)
        if match is None or match.group("level") != "notice":
            continue
        if match.group("text") == "reconfiguring":
            start = index
        elif _STOPPED.match(match.group("text")):
            start = index + 1
    return lines[start:]


def same_path(logged: str, configured: str) -> bool:
    """nginx logs the path as its configuration names it, maybe relative to its prefix."""
    logged, configured = os.path.normpath(logged), os.path.normpath(configured)
    if logged == configured:
        return True
    if os.path.isabs(logged) == os.path.isabs(configured):
        return False
    relative, absolute = (configured, logged) if os.path.isabs(logged) else (logged, configured)
    return absolute.endswith(os.sep + relative)


def _about(line: str, certificate_path: str) -> bool:
    match = _LINE.match(line)
    text = match.group("text") if match else line
    found = _STATUS.match(text) or _IGNORED.match(text)
    return bool(found) and same_path(found.group("certificate"), certificate_path)


def fetch_failures(log_text: str, certificate_path: str, since: Optional[float] = None) -> List[str]:
    """The stapling lines about `certificate_path` (failed fetches, `ignored` warnings) that the running
    configuration wrote, at or after `since` (a Unix time, e.g. when the workers started)."""
    found = []
    for line in since_last_start(log_text):
        if not _about(line, certificate_path):
            continue
        written = line_time(line)
        if since is None or written is None or written >= since - 1:
            found.append(line)
    return found


def test_warnings(test_output: str, certificate_path: str) -> List[str]:
    """The `"ssl_stapling" ignored` warnings `nginx -t` printed about `certificate_path`."""
    return [line for line in test_output.splitlines() if _IGNORED.match(line) and _about(line, certificate_path)]


def _is_failure(line: str) -> bool:
    """A `no resolver defined` warning is no failure: nginx then uses the address it found at start."""
    return not ("[warn]" in line and "no resolver defined to resolve" in line)


def said(line: str) -> str:
    """What the line says, without the time, level, pid and the certificate part."""
    match = _LINE.match(line)
    text = match.group("text") if match else line
    status = _STATUS.match(text)
    return status.group("what") if status else text


def cause_of(lines: List[str]) -> Optional[str]:
    """The cause the newest failing line names, if one does."""
    for line in reversed(lines):
        if not _is_failure(line):
            continue
        for words, cause in _SAYS:
            if words in line:
                return cause
    return None


def diagnose(certificate_path: str, log_text: str = "", test_output: str = "", since: Optional[float] = None,
             has_resolver: Optional[bool] = None, **facts: Any) -> Optional[Dict[str, Any]]:
    """The cause nginx's own words give for `certificate_path`, or None when it says nothing (or only warns).

    The newest failure decides; the evidence is every stapling line about the certificate (the last 10).
    A line no rule knows gives UNSETTLED with its words. `has_resolver` (discovery knows): a responder name
    the system could not resolve at load is NO_RESOLVER when no `resolver` lets the workers try again.
    `facts` fill the remedy (trusted, url, directive, ...); certificate, host and answer come from the lines.
    """
    lines = fetch_failures(log_text, certificate_path, since)
    lines += [line for line in test_warnings(test_output, certificate_path) if line not in lines]
    failures = [line for line in lines if _is_failure(line)]
    if not failures:
        return None
    cause = cause_of(failures) or causes.UNSETTLED
    if cause == causes.RESPONDER_NAME_UNRESOLVED and has_resolver is False:
        cause = causes.NO_RESOLVER
    facts.setdefault("certificate", certificate_path)
    facts.setdefault("host", _host(failures[-1]))
    facts.setdefault("answer", said(failures[-1]))
    facts.setdefault("directive", "ssl_stapling_responder")
    return causes.diagnosis(cause, lines[-10:], **facts)


def _host(line: str) -> Optional[str]:
    match = re.search(r'(?:responder: |in OCSP responder ")([^",/]+)', line)
    return match.group(1) if match else None
