# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy's own evidence of stapling trouble: its runtime API's answers and the refresher's log lines.

Pure functions on text. Real answers of HAProxy 2.6.12 (Debian 12) are in
tests/unit/.../_servers/haproxy/fixtures/ (README.md there says how each was produced):

- `show ssl ocsp-response`: nothing at all when no response is loaded; else, per response,
  ``Certificate ID key : <hex CertID>`` then the issuer hashes and ``Serial Number: <HEX>``;
- `show ssl cert <file>`: ``OCSP Response Key: `` empty when the certificate has no response;
- `set ssl ocsp-response <base64>`: ``OCSP Response updated!``; ``... Certificate ID does not match any
  certificate or issuer.`` (2.6 accepts a response only for a certificate it loaded with a `.ocsp` file:
  the file came after the last (re)load); ``... no longer valid.`` (stale);
- the role's refresher (roles/haproxy_stapling/files/tlsops-ocsp-haproxy-refresh.py) prints one line per
  certificate: ``<time> <path>: <action>[ and pushed live], <verdict>: <reason>``.

From 2.8, `show ssl ocsp-updates` prints a header ``OCSP Certid | Path | Next Update | Last Update |
Successes | Failures | Last Update Status | Last Update Status (str)`` and one `|`-separated row per
certificate that has `ocsp-update on` (captured from HAProxy 3.0.11 on Debian 13 in the fixtures). A status
of ``OCSP response check failure`` or ``Error during insertion`` means HAProxy got an answer and refused it.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes

UPDATE_OK = "Update successful"
# statuses where HAProxy got the responder's answer and refused it itself (ssl_ocsp.c)
UPDATE_REFUSED = ("OCSP response check failure", "Error during insertion")
UPDATES_LINE = "HAProxy (show ssl ocsp-updates): "
_SERIAL = re.compile(r"^\s*Serial Number: ([0-9A-Fa-f]+)\s*$", re.MULTILINE)
_REFRESHER = re.compile(r"^(?P<time>\S+) (?P<path>.+?): (?P<action>kept|written|removed|none)(?: and pushed live)?, "
                        r"(?P<verdict>[a-z_]+): (?P<reason>.*)$")
# the refresher's verdict -> the cause (the refresher is HAProxy's updater before 2.8)
_VERDICTS = {
    "unreachable": causes.RESPONDER_UNREACHABLE,
    "responder_error": causes.RESPONDER_REFUSES,
    "unknown": causes.RESPONDER_REFUSES,
    "expired": causes.RESPONSE_STALE,
    "not_yet_valid": causes.RESPONSE_STALE,
    "revoked": causes.CERTIFICATE_REVOKED,
    "bad_signature": causes.RESPONSE_INVALID,
    "unauthorized_signer": causes.RESPONSE_INVALID,
    "wrong_certificate": causes.RESPONSE_INVALID,
    "malformed": causes.RESPONDER_NOT_OCSP,
}


def loaded_serials(show_ocsp_response: str) -> List[str]:
    """The serial numbers (upper-case hex) of the certificates `show ssl ocsp-response` has a response for."""
    return [serial.upper() for serial in _SERIAL.findall(show_ocsp_response)]


def cert_has_response(show_ssl_cert: str) -> Optional[bool]:
    """Whether `show ssl cert <file>` shows an OCSP response key; None when the answer has no such field."""
    for line in show_ssl_cert.splitlines():
        if line.startswith("OCSP Response Key:"):
            return bool(line.split(":", 1)[1].strip())
    return None


def set_response_cause(answer: str) -> Optional[str]:
    """The cause an answer of `set ssl ocsp-response` gives (None: the response was taken)."""
    if "OCSP Response updated" in answer:
        return None
    if "does not match any certificate" in answer:
        return causes.RELOAD_NOT_EFFECTIVE
    if "no longer valid" in answer:
        return causes.RESPONSE_STALE
    return causes.HAPROXY_UPDATER_FAILED


def ocsp_updates(show_ocsp_updates: str) -> List[Dict[str, str]]:
    """The rows of `show ssl ocsp-updates` (2.8+) as dicts keyed by its header; [] for an older HAProxy
    (which answers `Unknown command`)."""
    lines = [line for line in show_ocsp_updates.splitlines() if "|" in line]
    if not lines:
        return []
    header = [field.strip() for field in lines[0].lstrip("#").split("|")]
    return [dict(zip(header, (field.strip() for field in line.split("|")))) for line in lines[1:]]


def runtime_lines(certificate_path: str, show_ssl_cert: str, show_ocsp_updates: str = "") -> List[str]:
    """What HAProxy's runtime API says of `certificate_path`, as evidence lines: whether it holds a response
    (`show ssl cert`) and, from 2.8, its updater's row (`show ssl ocsp-updates`)."""
    lines = []
    if cert_has_response(show_ssl_cert) is False:
        lines.append("HAProxy (show ssl cert %s): no OCSP response loaded" % certificate_path)
    lines += [UPDATES_LINE + _row_line(row) for row in ocsp_updates(show_ocsp_updates)
              if row.get("Path") == certificate_path and attempted(row)]
    return lines


def updater_cause(status: str) -> Optional[str]:
    """The cause a `show ssl ocsp-updates` status names (None: the update succeeded)."""
    if status == UPDATE_OK:
        return None
    return causes.HAPROXY_UPDATER_REFUSED if status in UPDATE_REFUSED else causes.HAPROXY_UPDATER_FAILED


def cause_of(lines: List[str]) -> Optional[str]:
    """The cause HAProxy's own evidence lines (`runtime_lines`, the refresher's lines) name, newest first."""
    for line in reversed(lines):
        if line.startswith(UPDATES_LINE):
            status = line.rsplit("Last Update Status (str): ", 1)[-1].strip()
            return updater_cause(status)
        record = refresher_records(line)
        if record and record[0]["verdict"] != "good":
            return _VERDICTS.get(record[0]["verdict"], causes.HAPROXY_UPDATER_FAILED)
    return None


def updater_status(lines: List[str]) -> Optional[str]:
    """HAProxy's own updater's last status in the evidence lines, with its failure count, or None."""
    for line in reversed(lines):
        if line.startswith(UPDATES_LINE):
            fields = dict(field.split(": ", 1) for field in line[len(UPDATES_LINE):].split(" | ") if ": " in field)
            return "%s, %s failures" % (fields.get("Last Update Status (str)"), fields.get("Failures"))
    return None


def attempted(row: Dict[str, str]) -> bool:
    """Whether HAProxy's updater has tried this certificate yet (a row before its first attempt says nothing)."""
    try:
        return int(row.get("Successes", "0")) + int(row.get("Failures", "0")) > 0
    except ValueError:
        return False


def refresher_records(log_text: str, certificate_path: Optional[str] = None) -> List[Dict[str, str]]:
    """The refresher's lines (for `certificate_path` when given), each with time, path, action, verdict,
    reason and the raw line."""
    found = []
    for line in log_text.splitlines():
        match = _REFRESHER.match(line)
        if match and (certificate_path is None or match.group("path") == certificate_path):
            found.append(dict(match.groupdict(), line=line))
    return found


def diagnose(certificate_path: str, serial: Optional[str] = None, show_ocsp_response: Optional[str] = None,
             show_ocsp_updates: str = "", refresher_log: str = "", **facts: Any) -> Optional[Dict[str, Any]]:
    """The cause HAProxy's runtime API and the refresher's log give for `certificate_path`, or None.

    A response loaded for `serial` settles it (None). Then 2.8's updater row for the file, if any, then the
    refresher's newest line for the file. A refresher that got a good response but could not hand it to
    HAProxy (its socket absent, the certificate without a slot) is RELOAD_NOT_EFFECTIVE.
    """
    if serial and show_ocsp_response is not None and serial.upper() in loaded_serials(show_ocsp_response):
        return None
    facts.setdefault("certificate", certificate_path)
    for row in ocsp_updates(show_ocsp_updates):
        cause = updater_cause(row.get("Last Update Status (str)", UPDATE_OK))
        if row.get("Path") == certificate_path and attempted(row) and cause:
            facts.setdefault("answer", "%s, %s failures" % (row.get("Last Update Status (str)"), row.get("Failures")))
            return causes.diagnosis(cause, [_row_line(row)], **facts)
    records = refresher_records(refresher_log, certificate_path)
    if not records:
        return None
    newest = records[-1]
    facts.setdefault("answer", newest["reason"])
    cause = _VERDICTS.get(newest["verdict"], causes.HAPROXY_UPDATER_FAILED)
    if newest["verdict"] == "good":
        if "HAProxy not asked" not in newest["reason"] and "not pushed live" not in newest["reason"]:
            return None
        cause = causes.RELOAD_NOT_EFFECTIVE
    return causes.diagnosis(cause, [record["line"] for record in records][-10:], **facts)


def _row_line(row: Dict[str, str]) -> str:
    return " | ".join("%s: %s" % item for item in row.items())
