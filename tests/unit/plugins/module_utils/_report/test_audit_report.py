# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report's data model: findings, severities, fix-first order, since the last audit, durations."""
from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as report
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_html
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_markdown
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from tests.support import audit_entries

NOW = datetime.datetime(2026, 11, 24, 12, 0, 0, tzinfo=datetime.timezone.utc)


def entry(verdict: str, must_staple: bool = False, stapled: bool = True, **extra) -> dict:
    """An entry as older roles record it: no revocation fields, no not_before (a 90-day certificate)."""
    base = {
        "inventory_host": "web1", "server_kind": "nginx", "host": "127.0.0.1", "port": 443,
        "server_name": "www.example.test", "subject": "CN=www.example.test", "issuer": "CN=CA",
        "ocsp_uris": ["http://127.0.0.1:8888"], "must_staple": must_staple, "stapled": stapled,
        "verdict": verdict, "reason": "because", "seconds_until_next_update": 7200,
        "not_after": "2027-01-23T12:00:00Z", "lifetime_days": 90,
    }
    base.update(extra)
    return base


def codes(item: dict) -> list:
    return [(f["severity"], f["code"]) for f in report.findings(item, NOW)]


@pytest.mark.parametrize("row, expected", [
    (entry(verdicts.GOOD), verdicts.OK),
    (entry(verdicts.GOOD, must_staple=True), verdicts.OK),
    (entry(verdicts.NO_STAPLE, stapled=False), verdicts.WARNING),
    (entry(verdicts.NO_STAPLE, must_staple=True, stapled=False), verdicts.CRITICAL),
    (entry(verdicts.REVOKED), verdicts.CRITICAL),
    (entry(verdicts.EXPIRED), verdicts.CRITICAL),
    (entry(verdicts.NOT_APPLICABLE, stapled=False, ocsp_uris=[]), verdicts.OK),
    (entry(verdicts.UNREACHABLE, stapled=False), verdicts.WARNING),
    (entry(verdicts.NO_STAPLE, stapled=False, responder_verdict=verdicts.REVOKED), verdicts.CRITICAL),
    (entry(verdicts.NO_STAPLE, stapled=False, responder_verdict=verdicts.GOOD), verdicts.WARNING),
    # issue 12: CRL and revocation_status
    (entry(verdicts.NOT_APPLICABLE, stapled=False, ocsp_uris=[], crl_verdict=verdicts.REVOKED), verdicts.CRITICAL),
    (entry(verdicts.NOT_APPLICABLE, stapled=False, ocsp_uris=[], crl_verdict=verdicts.GOOD), verdicts.OK),
    (entry(verdicts.NOT_APPLICABLE, stapled=False, ocsp_uris=[], revocation_status="revoked",
           revocation_source="crl"), verdicts.CRITICAL),
    (entry(verdicts.NOT_APPLICABLE, stapled=False, ocsp_uris=[], crl_verdict=verdicts.UNREACHABLE),
     verdicts.WARNING),
    (entry(verdicts.GOOD, server_kind="haproxy"), verdicts.OK),
])
def test_classify(row, expected):
    assert report.classify(row, NOW) == expected


@pytest.mark.parametrize("not_after, expected", [
    ("2026-11-24T12:00:00Z", [(verdicts.CRITICAL, report.CERTIFICATE_EXPIRED)]),   # expires now
    ("2026-11-24T12:00:01Z", [(verdicts.WARNING, report.CERTIFICATE_EXPIRING)]),
    ("2026-12-08T11:59:59Z", [(verdicts.WARNING, report.CERTIFICATE_EXPIRING)]),   # 14 days less a second
    ("2026-12-08T12:00:00Z", []),
])
def test_certificate_expiry(not_after, expected):
    found = report.findings(entry(verdicts.GOOD, not_after=not_after), NOW)
    assert [(f["severity"], f["code"]) for f in found] == expected


def test_must_staple_without_ocsp_url_is_critical_and_says_it_can_never_be_stapled():
    found = report.findings(entry(verdicts.NOT_APPLICABLE, must_staple=True, stapled=False, ocsp_uris=[]), NOW)
    assert [(f["severity"], f["code"]) for f in found] == [(verdicts.CRITICAL, report.MUST_STAPLE_WITHOUT_OCSP)]
    assert "never be stapled" in found[0]["reason"] and "Must-Staple" in found[0]["remedy"]


def test_must_staple_without_ocsp_url_is_found_on_an_unreachable_endpoint_from_the_inspection():
    # the endpoint served nothing (ocsp_uris None); the role's inspection says stapling does not apply
    unreachable = entry(verdicts.UNREACHABLE, must_staple=True, stapled=False, ocsp_uris=None,
                        stapling_applicable=False)
    assert codes(unreachable) == [(verdicts.CRITICAL, report.MUST_STAPLE_WITHOUT_OCSP)]
    reachable_later = entry(verdicts.UNREACHABLE, must_staple=True, stapled=False, ocsp_uris=None,
                            stapling_applicable=True)
    assert codes(reachable_later) == [(verdicts.CRITICAL, verdicts.UNREACHABLE)]


def test_revoked_by_crl_names_the_crl_and_says_replace():
    found = report.findings(entry(verdicts.NOT_APPLICABLE, stapled=False, ocsp_uris=[], crl_verdict="revoked",
                                  crl_reason="serial 12 revoked on 2026-11-01 (keyCompromise)"), NOW)
    assert found[0]["code"] == report.REVOKED
    assert "keyCompromise" in found[0]["reason"] and "Replace" in found[0]["remedy"]


@pytest.mark.parametrize("row, status, source", [
    (entry(verdicts.GOOD), "good", "staple"),
    (entry(verdicts.REVOKED), "revoked", "staple"),
    (entry(verdicts.BAD_SIGNATURE), None, None),
    (entry(verdicts.NO_STAPLE, stapled=False, responder_verdict="unknown"), "unknown", "responder"),
    (entry(verdicts.NO_STAPLE, stapled=False, responder_verdict="unreachable", crl_verdict="good"), "good", "crl"),
    (entry(verdicts.NOT_APPLICABLE, stapled=False, crl_verdict="expired"), None, None),
    # newer roles say it themselves, null included: their word counts
    (entry(verdicts.GOOD, revocation_status=None, revocation_source=None), None, None),
    (entry(verdicts.NO_STAPLE, stapled=False, revocation_status="good", revocation_source="responder"),
     "good", "responder"),
])
def test_revocation_from_the_entry_or_derived_for_older_roles(row, status, source):
    assert report.revocation(row) == (status, source)


def test_lifetime_warning_carries_the_date():
    found = report.findings(entry(verdicts.GOOD, not_before="2026-06-01T00:00:00Z",
                                  not_after="2026-12-17T23:59:59Z"), NOW)  # 200 days, issued after 2026-03-15
    assert [(f["severity"], f["code"]) for f in found] == [(verdicts.WARNING, "not_renewable")]
    assert "2027-03-15" in found[0]["reason"]


def test_build_sorts_worst_first_and_counts():
    data = report.build([
        entry(verdicts.GOOD, inventory_host="a"),
        entry(verdicts.REVOKED, inventory_host="b", port=8443),
        entry(verdicts.NO_STAPLE, inventory_host="c", stapled=False),
    ], hosts_without_servers=["d"], now=NOW)
    assert [r["verdict"] for r in data["endpoints"]] == ["revoked", "no_staple", "good"]
    assert data["summary"] == {"hosts": 4, "endpoints": 3, "outside_endpoints": 0, "counted_twice": 0, "critical": 1, "warning": 1, "ok": 1,
                               "by_verdict": {"good": 1, "no_staple": 1, "revoked": 1},
                               "hosts_by_state": {"audited": 4, "unreachable": 0, "failed": 0, "not_run": 0,
                                                  "unreadable_servers": 0}}
    assert data["critical"] == ["b nginx 127.0.0.1:8443 (www.example.test): revoked - because"]
    assert data["endpoints"][0]["days_until_expiry"] == 60
    assert data["endpoints"][0]["revocation_status"] == "revoked"
    assert data["since_last"] is None
    assert json.loads(report.render_json(data))["summary"]["critical"] == 1


def test_fix_first_lists_critical_then_warning_worst_kind_first():
    data = report.build([
        entry(verdicts.NO_STAPLE, inventory_host="a", stapled=False),
        entry(verdicts.GOOD, inventory_host="b", not_before="2026-06-01T00:00:00Z", not_after="2026-12-17T23:59:59Z"),
        entry(verdicts.NO_STAPLE, inventory_host="c", stapled=False, must_staple=True),
        entry(verdicts.REVOKED, inventory_host="z"),
    ], now=NOW)
    assert [(i["severity"], i["code"], i["inventory_host"]) for i in data["fix_first"]] == [
        ("critical", "revoked", "z"), ("critical", "no_staple", "c"),
        ("warning", "no_staple", "a"), ("warning", "not_renewable", "b")]
    assert all(item["remedy"] for item in data["fix_first"])


def test_synthetic_fleet_counts_are_as_constructed():
    data = report.build(audit_entries.synthetic(), now=audit_entries.NOW)
    assert {key: data["summary"][key] for key in audit_entries.SYNTHETIC_COUNTS} == audit_entries.SYNTHETIC_COUNTS


def test_since_last_lists_new_and_fixed_findings_and_endpoints_gone():
    before = [entry(verdicts.NO_STAPLE, inventory_host="a", stapled=False),   # fixed below
              entry(verdicts.REVOKED, inventory_host="gone"),                 # no longer audited
              entry(verdicts.GOOD, inventory_host="b")]                       # breaks below
    previous = json.loads(report.render_json(report.build(before, now=NOW)))
    after = [entry(verdicts.GOOD, inventory_host="a"), entry(verdicts.BAD_SIGNATURE, inventory_host="b"),
             entry(verdicts.GOOD, inventory_host="new")]
    since = report.build(after, now=NOW, previous=previous)["since_last"]
    assert since["previous_generated_at"] == "2026-11-24T12:00:00Z"
    assert [(i["inventory_host"], i["code"]) for i in since["new"]] == [("b", "bad_signature")]
    assert [(i["inventory_host"], i["code"]) for i in since["fixed"]] == [("a", "no_staple")]
    assert since["gone"] == [["gone", "nginx", "127.0.0.1:443", "www.example.test"]]
    assert since["added"] == [["new", "nginx", "127.0.0.1:443", "www.example.test"]]


def test_since_last_reads_a_version_1_report():
    version_1 = {"generated_at": "2026-11-01T00:00:00Z", "summary": {},
                 "endpoints": [dict(entry(verdicts.NO_STAPLE, stapled=False), severity="warning", endpoint="x"),
                               "not a row"]}
    since = report.build([entry(verdicts.GOOD)], now=NOW, previous=version_1)["since_last"]
    assert [i["code"] for i in since["fixed"]] == ["no_staple"] and since["new"] == []


@pytest.mark.parametrize("seconds, text", [
    (0, "0 s"), (119, "119 s"), (120, "2 min"), (3540, "59 min"), (3599, "59 min"), (7199, "119 min"),
    (7200, "2 h"), (48 * 3600 - 1, "47 h"), (48 * 3600, "2 days"), (89 * 86400 + 86399, "89 days"),
    (-3 * 86400, "3 days"),
])
def test_human_duration(seconds, text):
    assert report.human_duration(seconds) == text


def test_row_texts_in_words():
    row = report.normalise(entry(verdicts.GOOD, seconds_until_next_update=3540), NOW)
    assert report.staple_freshness(row) == "59 min left"
    assert report.certificate_expiry(row) == "in 60 days"
    assert report.revocation_text(row) == "good (staple)"
    stale = report.normalise(entry(verdicts.EXPIRED, seconds_until_next_update=-7200,
                                   not_after="2026-11-20T12:00:00Z"), NOW)
    assert report.staple_freshness(stale) == "expired 2 h ago"
    assert report.certificate_expiry(stale) == "expired 4 days ago"


def test_markdown_in_report_order_and_escaped():
    hostile = "x|y<script>*_[a](b)`"
    text = audit_markdown.render_markdown(report.build([
        entry(verdicts.GOOD, subject="CN=a|b", inventory_host="ok-host"),
        entry(verdicts.REVOKED, server_name=hostile, inventory_host="bad-host"),
    ], now=NOW, previous={"generated_at": "2026-11-23T00:00:00Z", "endpoints": []}))
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == ["# OCSP audit", "## Fix first", "## Since the last audit (2026-11-23T00:00:00Z)", "### New",
                        "## Hosts", "### bad-host (1 critical)", "### ok-host (1 ok)"]
    assert "CN=a\\|b" in text and "<script>" not in text
    assert "x\\|y\\<script\\>\\*\\_\\[a\\](b)\\`" in text
    assert "| 1 | 0 | 1 | 2 | 2 |" in text  # critical, warning, ok, endpoints, hosts
    assert text.count("| ok-host |") == 1 and text.count("| bad-host |") == 1
    assert "\n1. **critical** revoked: 1 endpoint. Remedy: Replace" in text
    assert "\n    - bad-host nginx 127.0.0.1:443 (x\\|y" in text


def test_a_missing_staple_with_a_cause_is_grouped_by_it_with_its_remedy_and_the_servers_lines():
    from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_html, audit_markdown, audit_metrics
    from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as fleet
    line = '2026/12/05 02:08:05 [error] 1#1: OCSP_basic_verify() failed <x> "quoted"'
    entry = {"inventory_host": "web1", "server_kind": "nginx", "host": "127.0.0.1", "port": 443,
             "server_name": "a.test", "verdict": "no_staple", "stapled": False, "must_staple": False,
             "reason": "nothing stapled: cannot verify", "cause": "trusted_without_root",
             "remedy": "add the root CA certificate to /etc/nginx/chain.pem", "evidence": [line],
             "stapling_applicable": True, "ocsp_uris": ["http://ocsp.test/"]}
    data = fleet.build([entry])
    ((severity, code), members), = fleet.fix_first_groups(data["fix_first"])
    assert code == "no_staple: trusted_without_root"
    assert members[0]["remedy"] == "add the root CA certificate to /etc/nginx/chain.pem"
    page = audit_html.render_html(data)
    assert '<pre class="evidence">' in page and "&lt;x&gt; &quot;quoted&quot;" in page and "<x>" not in page
    assert "server log: `%s`" % line in audit_markdown.render_markdown(data)
    assert 'cause="trusted_without_root"' in audit_metrics.render_metrics(data)


def test_what_could_not_be_audited_is_counted_named_and_critical():
    rows = [entry("good", inventory_host="web1"), entry("good", inventory_host="web2", port=8443)]
    not_audited = [{"host": "ghost", "state": "unreachable", "reason": "Failed to connect to the host via ssh"},
                   {"host": "web3", "state": "failed", "reason": "Gather the host's facts: Permission denied"},
                   {"host": "web2", "server": "apache", "state": "unreadable",
                    "reason": "apache2ctl -t failed: Syntax error on line 3"}]
    data = report.build(rows, now=NOW, not_audited=not_audited, targeted=["web1", "web2", "web3", "ghost", "late"])
    covered = data["coverage"]
    assert covered["audited"] == ["web1", "web2"]  # web2's other server still counts: only apache is blind
    assert [(item["host"], item["state"]) for item in covered["not_audited"]] == [
        ("web3", "failed"), ("late", "not_run"), ("ghost", "unreachable")]
    assert data["summary"]["hosts"] == 5 and data["summary"]["hosts_by_state"] == {
        "audited": 2, "unreachable": 1, "failed": 1, "not_run": 1, "unreadable_servers": 1}
    assert data["critical"][:4] == [
        "web3 could not be audited (failed): Gather the host's facts: Permission denied",
        "late could not be audited (not_run): " + covered["not_audited"][1]["reason"],
        "ghost could not be audited (unreachable): Failed to connect to the host via ssh",
        "web2 apache could not be read: apache2ctl -t failed: Syntax error on line 3"]
    assert report.summary_line(data).startswith("5 hosts (1 unreachable, 1 failed, 1 not run, 1 unreadable servers), ")


def from_outside(verdict: str, host: str, name: str = "outside", **extra) -> dict:
    return entry(verdict, host=host, server_kind="outside", checked_from="outside", inventory_host=name,
                 certificate_path=None, **extra)


def test_endpoints_checked_from_outside_are_reported_and_counted_but_are_no_host():
    rows = [entry("good", inventory_host="web1"), from_outside("revoked", "192.0.2.8"),
            from_outside("unreachable", "192.0.2.9", name="lb1", stapled=False)]
    data = report.build(rows, now=NOW, targeted=["web1"])

    assert data["summary"]["hosts"] == 1 and data["coverage"]["audited"] == ["web1"]
    assert (data["summary"]["endpoints"], data["summary"]["outside_endpoints"]) == (3, 2)
    assert report.summary_line(data).startswith("1 hosts, 3 endpoints, 2 checked from outside (")
    assert any(line.startswith("outside outside 192.0.2.8:443") and " revoked - " in line for line in data["critical"])
    assert 'id="count-outside">2</span> endpoints checked from outside' in audit_html.render_html(data)
