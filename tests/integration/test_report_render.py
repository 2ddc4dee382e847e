# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit report as operators see it: rendered in a real headless Chromium, after its script ran.

Two fleets: a synthetic audit of 1,000 endpoints (counts known by
construction) rendered from the engine, and a small realistic one written by
real runs of the tlsops.ocsp.audit playbook's report play (twice, so that the
second report says what changed). Assertions read the DOM Chromium dumps
after the page's script ran (`--dump-dom`); the filter is driven through the
page's `?filter=` parameter. Screenshots are kept in tests/output/report-render/
for people to look at.
"""
from __future__ import annotations

import datetime
import html.parser
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as report
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_html
from tests.support import audit_entries

ARTIFACTS = Path(__file__).resolve().parents[1] / "output" / "report-render"

pytestmark = pytest.mark.skipif(not shutil.which("chromium"),
                                reason="chromium is not installed: run tests/setup/system-deps.sh")


def chromium(tmp_path: Path, *args: str) -> str:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}"]
    return subprocess.run(["chromium", *flags, *args], capture_output=True, text=True, timeout=180,
                          check=True).stdout


def screenshot(tmp_path: Path, page: Path, name: str, height: int) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    chromium(tmp_path, f"--screenshot={path}", f"--window-size=1400,{height}", page.as_uri())
    assert path.stat().st_size > 20_000
    return path


class Dom(html.parser.HTMLParser):
    """What the tests read from a dumped DOM: elements by id, groups, rows, hosts."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.stack: List[Tuple[str, Dict[str, Any]]] = []
        self.text_by_id: Dict[str, str] = {}
        self.elements: List[Tuple[str, Dict[str, Any]]] = []
        self.title = ""
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag not in ("br", "hr", "img", "input", "link", "meta"):
            self.stack.append((tag, attributes))

    def handle_endtag(self, tag):
        if any(open_tag == tag for open_tag, _a in self.stack):
            while self.stack.pop()[0] != tag:
                pass

    def handle_data(self, data):
        for tag, attributes in self.stack:
            if "id" in attributes:
                self.text_by_id[attributes["id"]] = self.text_by_id.get(attributes["id"], "") + data
        if [tag for tag, _a in self.stack[-2:]] == ["head", "title"]:
            self.title += data

    def text(self, element_id: str) -> str:
        return " ".join(self.text_by_id.get(element_id, "").split())

    def rows(self, hidden: bool = False) -> List[Dict[str, Any]]:
        return [a for tag, a in self.elements if tag == "tr" and "data-search" in a and ("hidden" in a) == hidden]

    def groups(self) -> List[Dict[str, Any]]:
        return [a for tag, a in self.elements if tag == "li" and "group" in a.get("class", "")]


def dump(tmp_path: Path, page: Path, query: str = "") -> Dom:
    return Dom(chromium(tmp_path, "--dump-dom", page.as_uri() + query))


@pytest.fixture(scope="module")
def synthetic_page(tmp_path_factory) -> Path:
    data = report.build(audit_entries.synthetic(1000), now=audit_entries.NOW)
    page = tmp_path_factory.mktemp("synthetic") / "ocsp-audit.html"
    page.write_text(audit_html.render_html(data), encoding="utf-8")
    return page


def test_synthetic_1000_summary_and_fix_first_order(synthetic_page, tmp_path):
    dom = dump(tmp_path, synthetic_page)
    counts = {severity: dom.text("count-" + severity) for severity in ("critical", "warning", "ok")}
    assert counts == {key: str(audit_entries.SYNTHETIC_COUNTS[key]) for key in counts}
    assert (dom.text("count-endpoints"), dom.text("count-hosts")) == ("1000", "250")
    groups = [(g["data-severity"], g["data-code"]) for g in dom.groups()]
    assert groups == [("critical", "revoked"), ("critical", "certificate_expired"), ("critical", "no_staple"),
                      ("warning", "certificate_expiring"), ("warning", "no_staple"), ("warning", "not_renewable")]
    assert len(dom.rows()) == 1000 and dom.text("filter-count") == "1000 endpoints"
    svg_rects = sum(1 for tag, _a in dom.elements if tag == "rect")
    assert svg_rects <= 3 * (len(audit_html.EXPIRY_BINS) + len(audit_html.STAPLE_BINS) + 2)
    shot = screenshot(tmp_path, synthetic_page, "ocsp-audit-1000.png", 2000)
    print("screenshot:", shot)


@pytest.mark.parametrize("query, shown, groups", [
    ("web-007", 4, 0), ("web-000 critical", 3, 3), ("site7", 111, 5), ("no-such-host", 0, 0)])
def test_synthetic_1000_filter_hides_rows(synthetic_page, tmp_path, query, shown, groups):
    dom = dump(tmp_path, synthetic_page, "?filter=" + query.replace(" ", "+"))
    assert len(dom.rows()) == shown and len(dom.rows(hidden=True)) == 1000 - shown
    assert dom.text("filter-count") == "%d of 1000 endpoints" % shown
    visible_hosts = [a for tag, a in dom.elements if tag == "details" and a.get("class") == "host"
                     and "hidden" not in a]
    assert len(visible_hosts) == len({r["data-search"].split()[0] for r in dom.rows()})
    assert all("open" in a for a in visible_hosts)
    assert sum(1 for g in dom.groups() if "hidden" not in g) == groups  # fix-first groups with a match


def write_inventory(path: Path, entries: List[Dict[str, Any]]) -> Path:
    """Hosts whose facts look as the stapling role leaves them, plus one host without a web server."""
    hosts: Dict[str, Any] = {"db1.example.test": {"stapling_summary": {"host": "db1.example.test", "servers": []},
                                                  "stapling_endpoints": []}}
    for entry in entries:
        host = hosts.setdefault(entry["inventory_host"], {
            "stapling_summary": {"host": entry["inventory_host"], "servers": []}, "stapling_endpoints": []})
        host["stapling_endpoints"].append(entry)
        if entry["server_kind"] not in host["stapling_summary"]["servers"]:
            host["stapling_summary"]["servers"].append(entry["server_kind"])
    path.write_text(json.dumps({"all": {"hosts": hosts}}, indent=1), encoding="utf-8")
    return path


def test_realistic_audit_from_the_playbook(run_playbook, tmp_path):
    report_dir, metrics_dir = tmp_path / "report", tmp_path / "textfile"
    extra = {"tlsops_ocsp_hosts": "no_host_matches_this", "tlsops_ocsp_report_dir": str(report_dir),
             "tlsops_ocsp_metrics_dir": str(metrics_dir)}
    first = audit_entries.realistic(datetime.datetime.now(datetime.timezone.utc))
    run = run_playbook("tlsops.ocsp.audit", extra, inventory=str(write_inventory(tmp_path / "one.json", first)))
    assert run.returncode != 0  # critical findings fail the play, after the report is written
    messages = " ".join(run.failure_messages())
    assert "old.example.test" in messages and "must_staple_without_ocsp" in messages

    # the next day: the staple on shop.example.test works, api.example.test breaks
    second = [dict(e, verdict="good", stapled=True, revocation_status="good", revocation_source="staple")
              if e["server_name"] == "shop.example.test" else
              dict(e, verdict="bad_signature", revocation_status=None, revocation_source=None)
              if e["server_name"] == "api.example.test" else e for e in first]
    run = run_playbook("tlsops.ocsp.audit", extra, inventory=str(write_inventory(tmp_path / "two.json", second)))
    assert run.returncode != 0
    data = json.loads((report_dir / "ocsp-audit.json").read_text())
    assert (report_dir / "ocsp-audit.previous.json").exists()
    assert data["summary"]["hosts"] == 4 and data["hosts_without_servers"] == ["db1.example.test"]
    assert [i["server_name"] for i in data["since_last"]["fixed"]] == ["shop.example.test"]
    new = [(i["server_name"], i["code"]) for i in data["since_last"]["new"]]
    assert new == [("api.example.test", "bad_signature")]

    prom = (metrics_dir / "ocsp-audit.prom").read_text()
    parser = pytest.importorskip("prometheus_client.openmetrics.parser")
    metrics = {f.name: f for f in parser.text_string_to_metric_families(prom)}
    assert {s.labels["severity"]: s.value for s in metrics["tlsops_ocsp_audit_endpoints"].samples} == {
        "critical": 2, "warning": 2, "ok": 3}
    if shutil.which("promtool"):
        checked = subprocess.run(["promtool", "check", "metrics"], input=prom, capture_output=True, text=True,
                                 timeout=60, check=False)
        assert checked.returncode == 0, checked.stdout + checked.stderr

    page = report_dir / "ocsp-audit.html"
    dom = dump(tmp_path, page)
    assert dom.title == "OCSP audit"  # the hostile server name's script did not run
    assert not any(tag == "img" for tag, _a in dom.elements)
    assert (dom.text("count-critical"), dom.text("count-warning"), dom.text("count-ok")) == ("2", "2", "3")
    assert [g["data-code"] for g in dom.groups()] == ["revoked", "must_staple_without_ocsp", "bad_signature",
                                                      "not_renewable"]
    assert "api.example.test" in dom.text("since-new") and "shop.example.test" in dom.text("since-fixed")
    filtered = dump(tmp_path, page, "?filter=haproxy")
    assert len(filtered.rows()) == 2 and filtered.text("filter-count") == "2 of 7 endpoints"
    shot = screenshot(tmp_path, page, "ocsp-audit-small.png", 1500)
    print("screenshot:", shot)
