# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx's error log lines about fetches (real lines of nginx 1.22, fixtures/README.md): matched to the
certificate, only since the workers started, and what each says."""
from __future__ import annotations

import time
from pathlib import Path

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
