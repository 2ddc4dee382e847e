# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils import report, verdicts

NOW = datetime.datetime(2026, 11, 24, 12, 0, 0, tzinfo=datetime.timezone.utc)


def entry(verdict: str, must_staple: bool = False, stapled: bool = True, **extra) -> dict:
    base = {
        "inventory_host": "web1", "server_kind": "nginx", "host": "127.0.0.1", "port": 443,
        "server_name": "www.example.test", "subject": "CN=www.example.test", "issuer": "CN=CA",
        "ocsp_uris": ["http://127.0.0.1:8888"], "must_staple": must_staple, "stapled": stapled,
        "verdict": verdict, "reason": "because", "seconds_until_next_update": 7200,
        "not_after": "2027-01-23T12:00:00Z", "lifetime_days": 90,
    }
    base.update(extra)
    return base


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
])
def test_classify(row, expected):
    assert report.classify(row) == expected


def test_build_sorts_worst_first_and_counts():
    data = report.build([
        entry(verdicts.GOOD, inventory_host="a"),
        entry(verdicts.REVOKED, inventory_host="b", port=8443),
        entry(verdicts.NO_STAPLE, inventory_host="c", stapled=False),
    ], hosts_without_servers=["d"], now=NOW)
    assert [r["verdict"] for r in data["endpoints"]] == ["revoked", "no_staple", "good"]
    assert data["summary"] == {"hosts": 4, "endpoints": 3, "critical": 1, "warning": 1,
                               "by_verdict": {"good": 1, "no_staple": 1, "revoked": 1}}
    assert data["critical"] == ["b nginx 127.0.0.1:8443 (www.example.test): revoked - because"]
    assert data["endpoints"][0]["days_until_expiry"] == 60
    assert json.loads(report.render_json(data))["summary"]["critical"] == 1


def test_not_applicable_row_says_why():
    data = report.build([entry(verdicts.NOT_APPLICABLE, ocsp_uris=[], stapling_reason="no OCSP URL")], now=NOW)
    assert data["endpoints"][0]["ocsp"] == "no OCSP URL"


def test_markdown_escapes_table_separators():
    text = report.render_markdown(report.build([entry(verdicts.GOOD, subject="CN=a|b")], now=NOW))
    assert "CN=a\\|b" in text
    assert text.count("\n|") == 3  # header, rule, one row


def test_html_is_self_contained_and_escaped():
    page = report.render_html(report.build([
        entry(verdicts.GOOD, subject="CN=<script>alert(1)</script>"),
        entry(verdicts.REVOKED, port=8443),
    ], now=NOW))
    assert "<script>alert(1)</script>" not in page
    assert "CN=&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "http://" not in page.replace("http://127.0.0.1:8888", "").replace("http://www.w3.org/2000/svg", "")
    assert page.count("<circle") == 2
    assert page.count('<tr class="') == 2
    assert '<ul class="critical">' in page


def test_numbers_sort_numerically_in_html():
    keys = [report._sort_key({"n": n}, "n") for n in (-5, 3, 20, 100)]
    assert keys == sorted(keys)
