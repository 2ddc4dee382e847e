# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The throwaway HAProxy that tells whether HAProxy's own updater staples a certificate: its files and its verdicts
(on real `show ssl ocsp-updates` answers of HAProxy 3.0.11, Debian 13), and a binary that is not HAProxy."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import evidence
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import updater_trial

FIXTURES = Path(__file__).with_name("fixtures")


def rows(name: str):
    return evidence.ocsp_updates((FIXTURES / name).read_text())


def test_global_lines_carry_the_users_updater_and_http_client_settings_but_not_a_resolvers_reference():
    lines = updater_trial.global_lines({"ocsp-update.mindelay": "10", "ocsp-update.mode": "on",
                                        "httpclient.resolvers.prefer": "ipv4", "httpclient.resolvers.id": "dns",
                                        "tune.bufsize": "32768"}, "/etc/haproxy/issuers")
    assert lines == ["httpclient.resolvers.prefer ipv4", "ocsp-update.mindelay 10", "issuers-chain-path /etc/haproxy/issuers"]


def test_the_configuration_binds_an_abstract_socket_with_the_updater_on_for_each_certificate():
    text = updater_trial.config_text("/tmp/x/admin.sock", "/tmp/x/crt-list", "tlsops-ocsp-haproxy-trial-x",
                                     ["httpclient.resolvers.prefer ipv4"])
    assert "    stats socket /tmp/x/admin.sock mode 600 level admin\n" in text
    assert "    httpclient.resolvers.prefer ipv4\n" in text
    assert "    bind abns@tlsops-ocsp-haproxy-trial-x ssl crt-list /tmp/x/crt-list\n" in text
    assert updater_trial.crt_list_text(["/t/0-a.pem", "/t/1-b.pem"]) == \
        "/t/0-a.pem [ocsp-update on]\n/t/1-b.pem [ocsp-update on]\n"


def test_links_leave_the_ocsp_file_behind_so_the_first_attempt_is_not_put_off(tmp_path):
    certs = tmp_path / "certs"
    certs.mkdir()
    for name in ("site.pem", "site.pem.key", "site.pem.ocsp", "site.pem.issuer"):
        (certs / name).write_text(name)
    trial = tmp_path / "trial"
    trial.mkdir()
    links = updater_trial.link_certificates([str(certs / "site.pem")], str(trial))
    assert links == {str(trial / "0-site.pem"): str(certs / "site.pem")}
    assert sorted(os.listdir(trial)) == ["0-site.pem", "0-site.pem.issuer", "0-site.pem.key"]
    assert (trial / "0-site.pem.key").read_text() == "site.pem.key"


def test_verdicts_of_a_delegated_responder_on_haproxy_3_0_are_refusals():
    links = {"/etc/haproxy/certs/plain.pem": "/srv/plain.pem", "/etc/haproxy/certs/revoked.pem": "/srv/revoked.pem"}
    found = updater_trial.verdicts(rows("show_ocsp_updates_3.0_refused.txt"), links)
    assert sorted(found) == ["/srv/plain.pem", "/srv/revoked.pem"]  # must_staple.pem was not asked about
    assert found["/srv/plain.pem"]["status"] == "OCSP response check failure"
    assert found["/srv/plain.pem"]["rejected"] is True and found["/srv/plain.pem"]["ok"] is False
    assert "Path: /srv/plain.pem" in str(found["/srv/plain.pem"]["row"])


def test_verdicts_of_an_issuer_signed_answer_and_of_an_http_error():
    links = {"/etc/haproxy/certs/plain.pem": "/srv/plain.pem"}
    stapled = updater_trial.verdicts(rows("show_ocsp_updates_3.0_issuer_signed.txt"), links)["/srv/plain.pem"]
    assert stapled["ok"] is True and stapled["rejected"] is False
    failed = updater_trial.verdicts(rows("show_ocsp_updates_3.0_http_error.txt"), links)["/srv/plain.pem"]
    assert failed["ok"] is False and failed["rejected"] is False and failed["status"] == "HTTP error"


def test_a_row_before_the_first_attempt_is_no_verdict():
    row = dict(rows("show_ocsp_updates_3.0_refused.txt")[0], Successes="0", Failures="0")
    assert updater_trial.verdicts([row], {row["Path"]: "/srv/x.pem"}) == {}


def test_a_binary_that_does_not_start_says_what_it_printed_and_leaves_nothing_behind(tmp_path, monkeypatch):
    fake = tmp_path / "haproxy"
    fake.write_text("#!/bin/sh\necho \"[ALERT] config: parsing [$3:1]: unknown keyword 'ocsp-update.mode'\"\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(updater_trial.tempfile, "tempdir", str(tmp_path))
    cert = tmp_path / "site.pem"
    cert.write_text("x")
    with pytest.raises(updater_trial.TrialError, match=r"exited \(1\) before answering: \[ALERT\] config: parsing"):
        updater_trial.run(str(fake), [str(cert)], [], timeout=5)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["haproxy", "site.pem"]
