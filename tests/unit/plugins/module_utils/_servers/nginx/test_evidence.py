# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx's error log lines about fetches (real lines of nginx 1.22, fixtures/README.md): matched to the
certificate, only since the workers started, and what each says."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx import evidence

LOG = (Path(__file__).parent / "fixtures" / "error.log").read_text()
PLAIN = "/srv/lab/pki/leaves/plain/fullchain.pem"
TWO_URLS = "/srv/lab/two-urls/fullchain.pem"


def test_lines_are_matched_to_the_certificate():
    plain = evidence.fetch_failures(LOG, PLAIN)
    assert len(plain) == 1 and "OCSP_basic_verify() failed" in plain[0]
    assert len(evidence.fetch_failures(LOG, TWO_URLS)) == 2
    assert evidence.fetch_failures(LOG, "/srv/lab/pki/leaves/plain/cert.pem") == []


def test_only_lines_since_the_workers_started():
    started = time.mktime(time.strptime("2026/12/05 02:08:30", "%Y/%m/%d %H:%M:%S"))
    assert evidence.fetch_failures(LOG, PLAIN, since=started) == []
    assert len(evidence.fetch_failures(LOG, TWO_URLS, since=started)) == 2


def test_what_the_lines_say():
    assert evidence.cause_of(evidence.fetch_failures(LOG, PLAIN)) == causes.TRUSTED_WITHOUT_ROOT
    assert evidence.cause_of(evidence.fetch_failures(LOG, TWO_URLS)) == causes.RESPONDER_UNREACHABLE
    assert evidence.cause_of(['2026/12/05 02:00:00 [error] 1#1: no resolver defined to resolve ocsp.example.test '
                              'while requesting certificate status, responder: ocsp.example.test, certificate: "/x"']
                             ) == causes.NO_RESOLVER
    assert evidence.cause_of([]) is None


def test_line_time_is_local_time():
    assert evidence.line_time("2026/12/05 02:08:05 [error] x") == time.mktime((2026, 12, 5, 2, 8, 5, 0, 0, -1))
    assert evidence.line_time("no time here") is None


# --- on the lines nginx 1.22 wrote for each failure the lab produces (tests/lab/evidence_capture.py) ---

FIXTURES = Path(__file__).parent / "fixtures"
LEAVES = "/tmp/tlsops-evidence-work/lab/pki/leaves"
FULLCHAIN = LEAVES + "/plain/fullchain.pem"


def _until_signaller(name: str, which: int) -> str:
    """The scenario's log up to the `nginx -s` process number `which` (0: the reload, -1: the quit)."""
    lines = (FIXTURES / ("%s.error.log" % name)).read_text().splitlines()
    signaller = [line.split()[3] for line in lines if line.endswith("signal process started")][which]
    return "\n".join(lines[:next(i for i, line in enumerate(lines) if line.split()[3] == signaller)]) + "\n"


def log(name: str) -> str:
    """As nginx wrote it after its start and the first handshakes (the capture reloaded it then)."""
    return _until_signaller(name, 0)


def running(name: str) -> str:
    """As nginx wrote it until the capture stopped it (after one reload)."""
    return _until_signaller(name, -1)


@pytest.mark.parametrize("scenario, cause, needle", [
    ("trusted_without_root", causes.TRUSTED_WITHOUT_ROOT, "OCSP_basic_verify() failed"),
    ("refused", causes.RESPONDER_UNREACHABLE, "prematurely closed connection"),
    ("timeout", causes.RESPONDER_UNREACHABLE, "OCSP responder timed out (110: Connection timed out)"),
    ("unauthorized", causes.RESPONDER_REFUSES, "(6: unauthorized)"),
    ("trylater", causes.RESPONDER_REFUSES, "(3: trylater)"),
    ("unknown", causes.RESPONDER_REFUSES, 'certificate status "unknown"'),
    ("html200", causes.RESPONDER_NOT_OCSP, 'invalid "Content-Type" header: "text/html"'),
    ("notfound", causes.RESPONDER_NOT_OCSP, 'invalid "Content-Type" header'),
    ("stale", causes.RESPONSE_STALE, "OCSP_check_validity() failed"),
    ("big", causes.RESPONSE_TOO_LARGE, "d2i_OCSP_RESPONSE() failed"),
    ("name_resolver_dead", causes.RESPONDER_NAME_UNRESOLVED, "localhost could not be resolved"),
])
def test_fetch_failures_give_their_cause_with_the_lines(scenario: str, cause: str, needle: str) -> None:
    found = evidence.diagnose(FULLCHAIN, log(scenario))
    assert found is not None
    assert found["cause"] == cause
    assert needle in found["evidence"][-1]
    assert all("while requesting certificate status" in line for line in found["evidence"])
    assert found["fetch_due"] is False


def test_trusted_without_root_names_the_trusted_file() -> None:
    found = evidence.diagnose(FULLCHAIN, log("trusted_without_root"), trusted="/etc/nginx/ocsp-trust.pem")
    assert "add the root CA certificate to /etc/nginx/ocsp-trust.pem" in found["remedy"]


def test_refusal_names_the_status_and_the_responder_host() -> None:
    found = evidence.diagnose(FULLCHAIN, log("unauthorized"), url="http://ocsp.example.test")
    assert found["sentence"].endswith("(OCSP response not successful (6: unauthorized))")
    assert "ask the CA why http://ocsp.example.test answers" in found["remedy"]
    unreachable = evidence.diagnose(FULLCHAIN, log("timeout"), url="http://127.0.0.1:9/")
    assert "allow this host to reach 127.0.0.1 over HTTP" in unreachable["remedy"]
    assert "(OCSP responder timed out (110: Connection timed out))" in unreachable["sentence"]


def test_the_refused_responder_gives_both_of_its_lines() -> None:
    found = evidence.diagnose(FULLCHAIN, log("refused"))
    assert len(found["evidence"]) == 2
    assert "recv() failed (111: Connection refused)" in found["evidence"][0]


def test_revoked_is_its_own_cause() -> None:
    found = evidence.diagnose(LEAVES + "/revoked/fullchain.pem", log("revoked"))
    assert found["cause"] == causes.CERTIFICATE_REVOKED
    assert "replace the certificate in %s/revoked/fullchain.pem" % LEAVES in found["remedy"]


@pytest.mark.parametrize("scenario, path, cause", [
    ("issuer_not_served", LEAVES + "/plain/cert.pem", causes.ISSUER_NOT_SERVED),
    ("no_ocsp_url", LEAVES + "/no_ocsp/fullchain.pem", causes.NO_OCSP_URL),
    ("unresolvable_no_resolver", FULLCHAIN, causes.RESPONDER_NAME_UNRESOLVED),
])
def test_ignored_warnings_of_nginx_t(scenario: str, path: str, cause: str) -> None:
    test_output = (FIXTURES / ("%s.nginx-t.txt" % scenario)).read_text()
    found = evidence.diagnose(path, test_output=test_output)
    assert found["cause"] == cause
    assert found["evidence"] == [test_output.splitlines()[0]]
    assert path in found["sentence"] or "ocsp.unresolvable.invalid" in found["remedy"]


def test_ignored_warnings_in_the_log_after_the_reload_only() -> None:
    text = running("issuer_not_served")
    found = evidence.diagnose(LEAVES + "/plain/cert.pem", text)
    assert found["cause"] == causes.ISSUER_NOT_SERVED
    # the master's warning after `reconfiguring`; the start's two and the `-s reload` signaller's are before it
    assert len(found["evidence"]) == 1
    lines = text.splitlines()
    reload_at = max(i for i, line in enumerate(lines) if line.endswith("reconfiguring"))
    assert lines.index(found["evidence"][0]) == reload_at + 1


def test_a_stopped_nginx_has_no_evidence() -> None:
    text = (FIXTURES / "trusted_without_root.error.log").read_text()
    assert any(line.endswith(", shutting down") for line in text.splitlines()[-10:])
    assert all("[notice]" in line for line in evidence.since_last_start(text))
    assert evidence.diagnose(FULLCHAIN, text) is None


def test_an_unresolvable_name_is_no_resolver_when_nginx_has_none() -> None:
    text = running("unresolvable_no_resolver")
    found = evidence.diagnose(FULLCHAIN, text, has_resolver=False)
    assert found["cause"] == causes.NO_RESOLVER
    assert "ocsp.unresolvable.invalid" in found["sentence"] and "`resolver <your DNS server>;`" in found["remedy"]
    assert evidence.diagnose(FULLCHAIN, text, has_resolver=True)["cause"] == causes.RESPONDER_NAME_UNRESOLVED


def test_no_resolver_warning_alone_is_not_a_failure() -> None:
    # nginx warns, then connects to the address it found at start: the staple came
    assert "no resolver defined to resolve localhost" in log("name_no_resolver")
    assert evidence.diagnose(FULLCHAIN, log("name_no_resolver")) is None


def test_a_good_server_says_nothing() -> None:
    assert evidence.diagnose(FULLCHAIN, log("good"), test_output=(FIXTURES / "good.nginx-t.txt").read_text()) is None


def test_lines_of_another_certificate_do_not_count() -> None:
    assert evidence.diagnose(LEAVES + "/revoked/fullchain.pem", log("trusted_without_root")) is None
    assert evidence.diagnose("/etc/ssl/other.pem", log("unauthorized")) is None


def test_a_relative_path_in_the_configuration_matches() -> None:
    lines = evidence.fetch_failures(log("stale"), "lab/pki/leaves/plain/fullchain.pem")
    assert len(lines) == 1 and "OCSP_check_validity() failed" in lines[0]
    assert evidence.fetch_failures(log("stale"), "leaves/plain/cert.pem") == []


def test_only_lines_since_the_last_reload_count() -> None:
    # a failure, then a reload (at notice level): the failure belongs to the old configuration
    assert "(6: unauthorized)" in running("unauthorized")
    assert evidence.diagnose(FULLCHAIN, running("unauthorized")) is None
    kept = evidence.since_last_start(running("unauthorized"))
    assert kept[0].endswith("reconfiguring")
    assert evidence.since_last_start(log("unauthorized"))[0] == log("unauthorized").splitlines()[0]


def test_since_drops_older_lines_when_the_level_hides_the_reload() -> None:
    text = "\n".join(line for line in running("timeout").splitlines() if "[notice]" not in line)
    fetch_time = evidence.line_time(evidence.fetch_failures(text, FULLCHAIN)[0])
    assert evidence.diagnose(FULLCHAIN, text, since=fetch_time) is not None
    assert evidence.diagnose(FULLCHAIN, text, since=fetch_time + 2) is None


def test_an_unknown_line_is_unsettled_with_its_words() -> None:
    line = ('2026/12/05 02:16:02 [error] 1#1: SSL_something_new() failed while requesting certificate status, '
            'responder: ocsp.example.test, peer: 192.0.2.1:80, certificate: "%s"' % FULLCHAIN)
    found = evidence.diagnose(FULLCHAIN, line)
    assert found["cause"] == causes.UNSETTLED
    assert "(SSL_something_new() failed)" in found["sentence"]
    assert found["evidence"] == [line]
