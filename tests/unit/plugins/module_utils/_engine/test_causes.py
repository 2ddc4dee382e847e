# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The vocabulary of causes: every cause renders with its facts, and only a fetch can fix the due ones."""
from __future__ import annotations

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes


@pytest.mark.parametrize("cause", sorted(causes.CAUSES))
def test_every_cause_renders_a_sentence_and_a_remedy(cause):
    found = causes.diagnosis(cause, ["a log line"], certificate="/etc/ssl/site.pem", url="http://ocsp.test/",
                             other_url="http://ocsp2.test/", host="ocsp.test", trusted="/etc/ssl/chain.pem",
                             issuer="CN=Issuing CA", directive="ssl_stapling_responder", answer="refused")
    assert found["cause"] == cause and found["evidence"] == ["a log line"] and found["settled"] is True
    assert "{" not in found["sentence"] + found["remedy"] and found["remedy"]


def test_only_a_fetch_can_fix_the_due_causes():
    due = {cause for cause, known in causes.CAUSES.items() if known.fetch_due}
    assert due == {causes.NOT_FETCHED_YET, causes.RESPONDER_RECOVERED}


def test_remedies_name_the_file_and_the_url():
    trusted = causes.diagnosis(causes.TRUSTED_WITHOUT_ROOT, trusted="/etc/nginx/chain.pem", issuer="CN=Int")
    assert "/etc/nginx/chain.pem" in trusted["remedy"] and "root" in trusted["remedy"]
    dead = causes.diagnosis(causes.FIRST_URL_DEAD, url="http://a/", other_url="http://b/",
                            directive="SSLStaplingForceURL", answer="refused")
    assert dead["remedy"] == "point the server at the URL that answers: `SSLStaplingForceURL http://b/`"


def test_a_missing_fact_reads_unknown():
    assert "unknown" in causes.diagnosis(causes.RESPONDER_UNREACHABLE)["sentence"]
