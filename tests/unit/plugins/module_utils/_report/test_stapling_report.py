# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report every server role records: fact entries, summary lines and the failure rules."""
from __future__ import annotations

from typing import Any

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._report import stapling_report as report
from ansible_collections.tlsops.ocsp.plugins.module_utils._report.stapling_report import stapling_report


def _endpoint(name: str, **extra: Any) -> dict[str, Any]:
    return dict(host="h", port=1, server_name=name, certificate_path=f"/{name}.pem",
                stapling_applicable=True, stapling_reason="ok", **extra)


def _staple(name: str, verdict: str, must_staple: bool | None, reason: str = "none sent") -> dict[str, Any]:
    return dict(host="h", port=1, server_name=name, verdict=verdict, reason=reason, must_staple=must_staple)


def test_report_fails_must_staple_without_good_staple_and_revoked_only():
    endpoints = [_endpoint(name) for name in "abcd"]
    staples = [_staple("a", "good", True, "fine"), _staple("b", "no_staple", True),
               _staple("c", "no_staple", False), _staple("d", "revoked", False, "revoked")]
    report = stapling_report(endpoints, staples, changed=True, server_kind="nginx")
    assert len(report["failures"]) == 2
    assert "Must-Staple" in report["failures"][0] and "/b.pem" in report["failures"][0]
    assert report["failures"][0].startswith("h:1 no_staple:") and report["failures"][1].startswith("h:1 revoked:")
    assert report["endpoints"][2]["server_kind"] == "nginx" and report["endpoints"][2]["changed"] is True
    assert report["summary"][1].startswith("h:1 (b) /b.pem: no_staple - none sent")


@pytest.mark.parametrize("server_kind", ["nginx", "apache", "iis"])
def test_entries_carry_the_server_kind_and_the_planned_fields(server_kind: str):
    report = stapling_report([_endpoint("a", must_staple=False)], [_staple("a", "good", False, "fine")],
                             changed=False, server_kind=server_kind)
    [entry] = report["endpoints"]
    assert entry["server_kind"] == server_kind and entry["changed"] is False
    assert (entry["certificate_path"], entry["stapling_applicable"], entry["stapling_reason"]) == ("/a.pem", True, "ok")
    assert report["failures"] == []


def test_an_unknown_server_kind_is_refused():
    with pytest.raises(ValueError, match="one of nginx, apache, haproxy, iis"):
        stapling_report([], [], changed=False, server_kind="lighttpd")


def test_an_unreachable_must_staple_endpoint_fails_by_the_planned_certificate():
    # staple_info knows Must-Staple only from a served certificate: unreachable leaves it null
    endpoints = [_endpoint("a", must_staple=True), _endpoint("b", must_staple=False)]
    staples = [_staple("a", "unreachable", None, "connection refused"),
               _staple("b", "unreachable", None, "connection refused")]
    report = stapling_report(endpoints, staples, changed=False, server_kind="apache")
    assert [entry["must_staple"] for entry in report["endpoints"]] == [True, False]
    [failure] = report["failures"]
    assert failure.startswith("h:1 unreachable:") and "Must-Staple certificate /a.pem" in failure


def test_a_served_certificate_decides_must_staple_over_the_plan():
    report = stapling_report([_endpoint("a", must_staple=False)], [_staple("a", "no_staple", True)],
                             changed=False, server_kind="nginx")
    assert report["endpoints"][0]["must_staple"] is True and len(report["failures"]) == 1


def test_report_explains_a_missing_staple_with_the_responders_answer():
    endpoint = _endpoint("a")
    staple = _staple("a", "no_staple", False)
    report = stapling_report([endpoint, endpoint], [staple, staple], changed=False, server_kind="nginx",
                             responders=[{"verdict": "unreachable", "reason": "connection refused"},
                                         {"skipped": True}])
    first, second = report["endpoints"]
    assert first["responder_verdict"] == "unreachable"
    assert first["reason"] == "none sent; asked from this host, the OCSP responder says unreachable: connection refused"
    assert second["reason"] == "none sent" and "responder_verdict" not in second


@pytest.mark.parametrize("verdict, responder, crl, expected", [
    ("good", None, None, ("good", "staple")),
    ("revoked", {"verdict": "good"}, None, ("revoked", "staple")),
    ("no_staple", {"verdict": "revoked", "reason": "key compromise"}, None, ("revoked", "responder")),
    ("no_staple", {"verdict": "unknown"}, None, ("unknown", "responder")),
    ("no_staple", {"verdict": "unreachable"}, {"verdict": "good"}, ("good", "crl")),
    ("not_applicable", None, {"verdict": "revoked", "reason": "serial on the CRL"}, ("revoked", "crl")),
    ("not_applicable", None, {"verdict": "unreachable"}, (None, None)),
    ("bad_signature", {"verdict": "unreachable"}, {"skipped": True}, (None, None)),
])
def test_revocation_status_comes_from_the_staple_then_the_responder_then_the_crl(verdict, responder, crl, expected):
    report = stapling_report([_endpoint("a")], [_staple("a", verdict, False)], changed=False, server_kind="apache",
                             responders=[responder] if responder else None,
                             crls=[dict(crl, item="/a.pem")] if crl else None)
    [entry] = report["endpoints"]
    assert (entry["revocation_status"], entry["revocation_source"]) == expected
    if crl and not crl.get("skipped"):
        assert entry["crl_verdict"] == crl["verdict"]
    if responder:
        assert entry["responder_verdict"] == responder["verdict"] and "responder_reason" in entry


def test_configured_by_and_not_before_come_from_the_plan_and_a_user_line_that_cannot_apply_says_the_remedy():
    endpoints = [_endpoint("a", configured_by="role", not_before="2026-01-01T00:00:00Z"),
                 dict(_endpoint("n", configured_by="user"), stapling_applicable=False,
                      stapling_reason="/s:3: no OCSP URL; your own directive at /s:5 ... remove that line")]
    staples = [_staple("a", "good", False, "fine"), _staple("n", "not_applicable", False, "no OCSP URL")]
    first, second = stapling_report(endpoints, staples, changed=False, server_kind="nginx")["endpoints"]
    assert first["configured_by"] == "role" and first["not_before"] == "2026-01-01T00:00:00Z"
    assert second["configured_by"] == "user" and second["not_before"] is None
    assert second["reason"].startswith("no OCSP URL; /s:3") and "remove that line" in second["reason"]


def test_endpoints_sharing_a_certificate_share_its_crl_answer():
    endpoints = [_endpoint("a"), dict(_endpoint("b"), certificate_path="/a.pem"), _endpoint("c")]
    staples = [_staple(name, "not_applicable", False) for name in "abc"]
    report = stapling_report(endpoints, staples, changed=False, server_kind="nginx",
                             crls=[{"item": "/a.pem", "verdict": "revoked", "reason": "on the CRL"}])
    assert [entry.get("crl_verdict") for entry in report["endpoints"]] == ["revoked", "revoked", None]
    assert [entry["revocation_source"] for entry in report["endpoints"]] == ["crl", "crl", None]


def test_host_summary_counts_verdicts_and_says_whether_anything_changed():
    endpoints = [{"verdict": "good", "changed": False}, {"verdict": "not_applicable"}, {"verdict": "good", "changed": True}]
    summary = report.host_summary("web1", ["nginx"], endpoints)
    assert summary == {"host": "web1", "servers": ["nginx"], "endpoints": 3,
                       "verdicts": {"good": 2, "not_applicable": 1}, "changed": True}
    assert report.host_summary_line(summary) == \
        "web1: nginx; 3 endpoints (good 2, not_applicable 1); configuration changed"
    empty = report.host_summary("web2", [], [])
    assert report.host_summary_line(empty) == "web2: no web server; 0 endpoints (none); configuration unchanged"


def test_a_diagnosis_replaces_the_generic_advice_and_reaches_the_failure_message():
    from ansible_collections.tlsops.ocsp.plugins.module_utils._report.stapling_report import stapling_report as build
    planned = [{"certificate_path": "/etc/ssl/site.pem", "stapling_applicable": True, "stapling_reason": "",
                "must_staple": True, "configured_by": "user"}] * 2
    staples = [{"host": "127.0.0.1", "port": 443, "server_name": "a.test", "verdict": "no_staple",
                "reason": "no staple; check that stapling is on"},
               {"host": "127.0.0.1", "port": 443, "server_name": "b.test", "verdict": "good", "reason": "good"}]
    diagnosis = {"cause": "trusted_without_root", "sentence": "cannot verify", "remedy": "add the root to /x.pem",
                 "evidence": ["2026/12/05 [error] OCSP_basic_verify() failed"], "fetch_due": False, "settled": True}
    report = build(planned, staples, False, "nginx", None, None, [diagnosis, diagnosis])
    first, second = report["endpoints"]
    assert (first["cause"], first["remedy"], first["fetch_due"]) == ("trusted_without_root", "add the root to /x.pem",
                                                                     False)
    assert first["reason"] == "nothing stapled (trusted_without_root): cannot verify; add the root to /x.pem"
    assert first["evidence"] == diagnosis["evidence"] and "add the root to /x.pem" in report["summary"][0]
    assert "add the root to /x.pem" in report["failures"][0]
    # a staple that came after the diagnosis (a fresh fetch) keeps no cause
    assert "cause" not in second and second["verdict"] == "good"


def test_the_plans_note_on_an_endpoint_is_kept_and_only_where_there_is_one():
    noted = dict(_endpoint("a", must_staple=False), note="the role's refresher keeps its staple fresh: ...")
    report = stapling_report([noted, _endpoint("b", must_staple=False)],
                             [_staple("a", "good", False, "fine"), _staple("b", "good", False, "fine")],
                             changed=False, server_kind="haproxy")
    assert report["endpoints"][0]["note"] == "the role's refresher keeps its staple fresh: ..."
    assert "note" not in report["endpoints"][1]
