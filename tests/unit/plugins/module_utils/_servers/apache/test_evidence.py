# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mod_ssl's stapling lines (real lines of Apache 2.4.71, fixtures/README.md) and what each says."""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache import evidence

LOG = (Path(__file__).parent / "fixtures" / "error.log").read_text()


def test_only_the_stapling_lines():
    lines = evidence.stapling_lines(LOG)
    assert len(lines) == 1 and "AH02217" in lines[0]
    assert evidence.cause_of(lines) == causes.ISSUER_NOT_SERVED


def test_since_the_last_start():
    later = time.mktime((2026, 12, 5, 2, 11, 0, 0, 0, -1))
    assert evidence.stapling_lines(LOG, since=later) == []
    assert evidence.line_time(LOG.splitlines()[1]) == time.mktime((2026, 12, 5, 2, 10, 10, 0, 0, -1))


def test_each_code_names_its_cause():
    line = "[Sat Dec 05 02:10:10.1 2026] [ssl:error] [pid 1] %s: something"
    assert evidence.cause_of([line % "AH01958"]) == causes.CACHE_MISSING
    assert evidence.cause_of([line % "AH01974"]) == causes.RESPONDER_UNREACHABLE
    assert evidence.cause_of([line % "AH01936"]) == causes.RESPONSE_STALE
    assert evidence.cause_of([line % "AH01928"]) == causes.RESPONSE_TOO_LARGE
    assert evidence.cause_of([line % "AH00489"]) is None


# --- on the lines Apache 2.4.71 wrote for each failure the lab produces (tests/lab/evidence_capture.py) ---

FIXTURES = Path(__file__).parent / "fixtures"


def running(name: str) -> str:
    """The scenario's log while Apache ran (start, handshake, graceful, handshake): before the final stop."""
    lines = (FIXTURES / ("%s.error.log" % name)).read_text().splitlines()
    stops = [index for index, line in enumerate(lines) if "AH00169:" in line]
    return "\n".join(lines[:stops[-1]] if stops else lines) + "\n"


def serial_of(name: str) -> str:
    return re.search(r"serial(?: number)?:? ([0-9A-F]+)", running(name)).group(1)


@pytest.mark.parametrize("scenario, cause, code", [
    ("leaf_only", causes.ISSUER_NOT_SERVED, "AH02217"),
    ("no_ocsp_url", causes.NO_OCSP_URL, "AH02218"),
    ("refused", causes.RESPONDER_UNREACHABLE, "AH01974"),
    ("timeout", causes.RESPONDER_UNREACHABLE, "AH01977"),
    ("unresolvable", causes.RESPONDER_NAME_UNRESOLVED, "AH01972"),
    ("html200", causes.RESPONDER_NOT_OCSP, "AH01988"),
    ("notfound", causes.RESPONDER_NOT_OCSP, "AH01980"),
    ("stale", causes.RESPONSE_STALE, "AH01936"),
    ("unknown", causes.RESPONDER_REFUSES, "AH02969"),
    ("revoked", causes.CERTIFICATE_REVOKED, "AH02969"),
    ("big", causes.RESPONSE_TOO_LARGE, "AH01928"),
])
def test_each_failure_gives_its_cause(scenario: str, cause: str, code: str) -> None:
    found = evidence.diagnose(running(scenario))
    assert found is not None and found["cause"] == cause
    assert any(code in line for line in found["evidence"])
    assert found["fetch_due"] is False
    # only the generation after the graceful restart: one failure's lines, not the start's as well
    assert all(line in evidence.since_last_start(running(scenario)) for line in found["evidence"])


def test_the_graceful_restart_starts_the_evidence() -> None:
    text = running("refused")
    assert text.count("AH01974") == 2
    found = evidence.diagnose(text)
    assert [line.split("] ")[-1][:7] for line in found["evidence"]] == ["AH01974", "AH01941"]


def test_leaf_only_is_matched_by_serial_and_vhost_and_names_the_directive() -> None:
    text = running("leaf_only")
    found = evidence.diagnose(text, serial=serial_of("leaf_only"), vhost="plain.lab.test",
                              certificate="/etc/ssl/plain.pem", issuer="CN=tlsops Test Intermediate CA")
    assert found["cause"] == causes.ISSUER_NOT_SERVED
    assert "append the issuing CA certificate (CN=tlsops Test Intermediate CA) after the leaf in " \
           "/etc/ssl/plain.pem" in found["remedy"]
    assert "AH02604: Unable to configure certificate plain.lab.test:443:0" in found["evidence"][-1]
    assert evidence.diagnose(text, serial="0123ABCD", vhost="other.lab.test") is None


def test_timeout_names_what_happened_and_not_the_none_answer() -> None:
    found = evidence.diagnose(running("timeout"), url="http://ocsp.example.test")
    assert found["sentence"] == ("the OCSP responder http://ocsp.example.test cannot be reached from this host "
                                 "(failed reading line from OCSP server)")
    assert "bad response from OCSP server: (none)" in found["evidence"][1]


def test_a_404_names_the_status() -> None:
    found = evidence.diagnose(running("notfound"), url="http://ocsp.example.test")
    assert "(bad response from OCSP server: 404 Not Found)" in found["sentence"]


def test_the_library_error_line_stays_with_its_failure() -> None:
    found = evidence.diagnose(running("html200"))
    assert any("SSL Library Error" in line and "not enough data" in line for line in found["evidence"])


def test_unresolvable_names_the_host() -> None:
    found = evidence.diagnose(running("unresolvable"))
    assert "make ocsp.unresolvable.invalid resolve on this host" in found["remedy"]


def test_unknown_status_is_a_refusal_with_its_word() -> None:
    found = evidence.diagnose(running("unknown"), serial=serial_of("unknown"))
    assert "(stapling_check_response: response has certificate status unknown" in found["sentence"]


def test_too_big_says_the_size_and_is_not_a_small_cache() -> None:
    for scenario in ("big", "tiny_cache"):
        found = evidence.diagnose(running(scenario))
        assert found["cause"] == causes.RESPONSE_TOO_LARGE
        assert "AH01928: OCSP stapling response too big (1961" in found["evidence"][-2]


def test_caching_failure_alone_is_a_small_cache() -> None:
    text = running("big").replace("AH01928: OCSP stapling response too big", "AH01999: something else")
    assert evidence.diagnose(text)["cause"] == causes.CACHE_TOO_SMALL


def test_missing_cache_stops_apache() -> None:
    text = (FIXTURES / "no_cache.error.log").read_text()
    found = evidence.diagnose(text)
    assert found["cause"] == causes.CACHE_MISSING
    assert "SSLStaplingCache shmcb:" in found["remedy"] and "mod_socache_shmcb" in found["remedy"]
    assert "AH01958" in found["evidence"][0]


@pytest.mark.parametrize("scenario", ["good", "trylater", "unauthorized"])
def test_nothing_logged_means_no_cause(scenario: str) -> None:
    # tryLater / unauthorized: mod_ssl staples the responder's error answer and logs nothing at warn
    assert evidence.diagnose(running(scenario)) is None


def test_a_stopped_apache_has_no_evidence() -> None:
    assert evidence.diagnose((FIXTURES / "refused.error.log").read_text()) is None
