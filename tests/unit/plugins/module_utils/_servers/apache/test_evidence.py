# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mod_ssl's stapling lines (real lines of Apache 2.4.71, fixtures/README.md) and what each says."""
from __future__ import annotations

import time
from pathlib import Path

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
