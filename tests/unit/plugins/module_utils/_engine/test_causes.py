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


def test_the_causes_the_real_servers_showed_have_remedies_naming_what_to_change():
    assert "ssl_stapling_responder <url>" in causes.diagnosis(
        causes.NO_OCSP_URL, certificate="/etc/ssl/le.pem", directive="ssl_stapling_responder")["remedy"]
    assert "ocsp.example.test" in causes.diagnosis(causes.RESPONDER_NAME_UNRESOLVED, host="ocsp.example.test",
                                                   answer="host not found")["remedy"]
    html = causes.diagnosis(causes.RESPONDER_NOT_OCSP, url="http://ocsp.test/", answer="text/html",
                            directive="SSLStaplingForceURL")
    assert "(text/html)" in html["sentence"] and "SSLStaplingForceURL" in html["remedy"]
    assert "/etc/ssl/site.pem" in causes.diagnosis(causes.CERTIFICATE_REVOKED, certificate="/etc/ssl/site.pem")["remedy"]
    assert "SSLStaplingCache" in causes.diagnosis(causes.CACHE_TOO_SMALL)["remedy"]


def test_render_shows_the_last_lines_and_whether_it_is_settled():
    found = causes.diagnosis(causes.RESPONDER_UNREACHABLE, ["l%d" % n for n in range(7)], settled=False,
                             url="http://ocsp.test/", host="ocsp.test", answer="refused")
    text = causes.render(found, max_lines=2)
    assert text.startswith("responder_unreachable: the OCSP responder http://ocsp.test/ cannot be reached")
    assert "(the evidence does not settle it)" in text
    assert text.endswith("(and 5 earlier):\n  l5\n  l6")
    assert "\n" not in causes.render(causes.diagnosis(causes.NOT_FETCHED_YET, url="http://ocsp.test/"))


def test_a_server_without_a_responder_override_is_not_told_to_set_one():
    found = causes.diagnosis(causes.FIRST_URL_DEAD, url="http://dead.test/", other_url="http://alive.test/",
                             directive=None, answer="refused")
    assert "`" not in found["remedy"] and "http://alive.test/ first" in found["remedy"]
    with_one = causes.diagnosis(causes.FIRST_URL_DEAD, url="http://dead.test/", other_url="http://alive.test/",
                                directive="ssl_stapling_responder", answer="refused")
    assert "`ssl_stapling_responder http://alive.test/`" in with_one["remedy"]
