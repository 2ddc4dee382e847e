# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy's evidence reader on HAProxy 2.6.12's runtime API answers and the refresher's lines (fixtures/README.md)."""
from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import evidence

FIXTURES = Path(__file__).parent / "fixtures"
BUNDLE = "/tmp/tlsops-evidence-work/haproxy/plain.pem"


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def served_serial() -> str:
    line = next(line for line in read("show_ssl_cert_with_ocsp.txt").splitlines() if line.startswith("Serial:"))
    return line.split(":", 1)[1].strip()


def test_show_ocsp_response_lists_the_loaded_serials():
    assert evidence.loaded_serials(read("show_ocsp_response_none.txt")) == []
    assert evidence.loaded_serials(read("show_ocsp_response_one.txt")) == [served_serial()]


def test_show_ssl_cert_says_whether_a_response_is_loaded():
    assert evidence.cert_has_response(read("show_ssl_cert_no_ocsp.txt")) is False
    assert evidence.cert_has_response(read("show_ssl_cert_with_ocsp.txt")) is True
    assert evidence.cert_has_response("Unknown command") is None


def test_set_ocsp_response_answers():
    assert evidence.set_response_cause(read("set_ocsp_response_ok.txt")) is None
    assert evidence.set_response_cause(read("set_ocsp_response_no_ocsp_file.txt")) == causes.RELOAD_NOT_EFFECTIVE
    assert evidence.set_response_cause(read("set_ocsp_response_stale.txt")) == causes.RESPONSE_STALE


def test_haproxy_2_6_has_no_ocsp_updates():
    assert "Unknown command" in read("show_ocsp_updates_2.6.txt")
    assert evidence.ocsp_updates(read("show_ocsp_updates_2.6.txt")) == []


def test_a_loaded_response_settles_it():
    assert evidence.diagnose(BUNDLE, served_serial(), read("show_ocsp_response_one.txt"),
                             refresher_log=read("refresher.txt")) is None


def test_refresher_unreachable_responder():
    found = evidence.diagnose(BUNDLE, served_serial(), read("show_ocsp_response_none.txt"),
                              refresher_log=read("refresher.txt"), url="http://127.0.0.1:31160")
    assert found["cause"] == causes.RESPONDER_UNREACHABLE
    assert "connection refused by 127.0.0.1 port 31160" in found["sentence"]
    assert len(found["evidence"]) == 3 and ": none, unreachable: " in found["evidence"][-1]


@pytest.mark.parametrize("verdict, cause", [
    ("bad_signature", causes.RESPONSE_INVALID), ("unauthorized_signer", causes.RESPONSE_INVALID),
    ("expired", causes.RESPONSE_STALE), ("unknown", causes.RESPONDER_REFUSES), ("malformed", causes.RESPONDER_NOT_OCSP),
    ("revoked", causes.CERTIFICATE_REVOKED), ("something_new", causes.HAPROXY_UPDATER_FAILED)])
def test_the_refreshers_verdict_is_the_cause(verdict, cause):
    # the refresher's line as it prints it, with each verdict the engine gives (refresh.py)
    log = "2026-12-05T02:19:09Z %s: none, %s: the responder's answer, in words\n" % (BUNDLE, verdict)
    found = evidence.diagnose(BUNDLE, refresher_log=log, url="http://ocsp.example.test")
    assert found["cause"] == cause and found["evidence"] == [log.strip()]
    assert "`" not in found["remedy"] or "ocsp-update" not in found["remedy"]  # HAProxy has no responder override


def test_refresher_that_could_not_hand_it_to_haproxy():
    log = "\n".join(read("refresher.txt").splitlines()[:4])  # the runs with the socket gone
    found = evidence.diagnose(BUNDLE, served_serial(), read("show_ocsp_response_none.txt"), refresher_log=log)
    assert found["cause"] == causes.RELOAD_NOT_EFFECTIVE
    assert "stats socket" in found["sentence"]


def test_broken_settings_line_is_no_record_and_other_files_do_not_count():
    assert all(record["path"] == BUNDLE for record in evidence.refresher_records(read("refresher.txt")))
    assert evidence.diagnose("/etc/haproxy/other.pem", refresher_log=read("refresher.txt")) is None


def test_ocsp_updates_of_2_8_from_the_management_guide():
    text = ("OCSP Certid | Path | Next Update | Last Update | Successes | Failures | Last Update Status | "
            "Last Update Status (str)\n"
            "303b30 | /etc/haproxy/site.pem | 30/Jan/2023:00:08:09 +0000 | - | 0 | 1 | 2 | HTTP error\n")
    rows = evidence.ocsp_updates(text)
    assert rows[0]["Path"] == "/etc/haproxy/site.pem" and rows[0]["Failures"] == "1"
    found = evidence.diagnose("/etc/haproxy/site.pem", show_ocsp_updates=text, url="http://ocsp.test/")
    assert found["cause"] == causes.HAPROXY_UPDATER_FAILED
    assert "(HTTP error, 1 failures)" in found["sentence"] and "http://ocsp.test/" in found["remedy"]


def test_runtime_lines_say_what_haproxy_holds_for_the_file():
    lines = evidence.runtime_lines(BUNDLE, read("show_ssl_cert_no_ocsp.txt"), read("show_ocsp_updates_2.6.txt"))
    assert lines == ["HAProxy (show ssl cert %s): no OCSP response loaded" % BUNDLE]  # 2.6: no updater rows
    assert evidence.runtime_lines(BUNDLE, read("show_ssl_cert_with_ocsp.txt")) == []
    updates = ("OCSP Certid | Path | Next Update | Last Update | Successes | Failures | Last Update Status | "
               "Last Update Status (str)\n"
               "303b30 | %s | - | - | 0 | 3 | 2 | HTTP error\n" % BUNDLE)
    row = evidence.runtime_lines(BUNDLE, "", updates)
    assert len(row) == 1 and row[0].startswith("HAProxy (show ssl ocsp-updates): ") and "HTTP error" in row[0]


# --- HAProxy 3.0's own updater, in its own words (real answers of 3.0.11 on Debian 13) -----------------------

def test_haproxy_3_0_refusing_a_delegated_responders_answer_is_its_own_cause():
    text = (FIXTURES / "show_ocsp_updates_3.0_refused.txt").read_text()
    found = evidence.diagnose("/etc/haproxy/certs/plain.pem", show_ocsp_updates=text, url="http://ocsp.test")
    assert found["cause"] == "haproxy_updater_refused"
    assert "(OCSP response check failure, 1 failures)" in found["sentence"]
    assert "ocsp-update off" in found["remedy"]
    lines = evidence.runtime_lines("/etc/haproxy/certs/plain.pem", (FIXTURES / "show_ssl_cert_3.0.txt").read_text(),
                                   text)
    assert evidence.cause_of(lines) == "haproxy_updater_refused"
    assert evidence.updater_status(lines) == "OCSP response check failure, 1 failures"


def test_haproxy_3_0_http_error_is_the_updater_failing_and_success_is_no_cause():
    failed = (FIXTURES / "show_ocsp_updates_3.0_http_error.txt").read_text()
    assert evidence.cause_of(evidence.runtime_lines("/etc/haproxy/certs/plain.pem", "", failed)) == \
        "haproxy_updater_failed"
    stapled = (FIXTURES / "show_ocsp_updates_3.0_issuer_signed.txt").read_text()
    assert evidence.cause_of(evidence.runtime_lines("/etc/haproxy/certs/plain.pem", "", stapled)) is None
    # the other certificates of the same answer are still refused
    assert evidence.cause_of(evidence.runtime_lines("/etc/haproxy/certs/revoked.pem", "", stapled)) == \
        "haproxy_updater_refused"
