# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML report's structure, parsed with the standard library: order, escaping, self-containment, charts."""
from __future__ import annotations

import html.parser
import re

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as report
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_html
from tests.support import audit_entries


class Outline(html.parser.HTMLParser):
    """Tags and attributes in document order; text of h2 headings."""

    def __init__(self) -> None:
        super().__init__()
        self.tags = []
        self.headings = []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.headings.append(data)
            self._in_h2 = False


def outline(page: str) -> Outline:
    parser = Outline()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def realistic_page():
    data = report.build(audit_entries.realistic(), now=audit_entries.NOW,
                        previous={"generated_at": "2026-11-30T12:00:00Z", "endpoints": audit_entries.realistic()[:2]})
    return data, audit_html.render_html(data)


def test_sections_in_order(realistic_page):
    _data, page = realistic_page
    assert outline(page).headings == ["Fix first", "Since the last audit", "Across the fleet", "Hosts"]
    assert page.index('id="summary-section"') < page.index('id="fix-first"')


def test_hostile_names_are_text_never_markup(realistic_page):
    _data, page = realistic_page
    tags = outline(page).tags
    assert [tag for tag, _attrs in tags].count("script") == 1  # the page's own
    assert not any(tag == "img" for tag, _attrs in tags)
    assert audit_entries.HOSTILE_NAME not in page
    assert audit_html.esc(audit_entries.HOSTILE_NAME) in page


def test_page_loads_nothing(realistic_page):
    _data, page = realistic_page
    for tag, attrs in outline(page).tags:
        assert "src" not in attrs and tag not in ("link", "iframe", "object", "embed"), (tag, attrs)
        assert not attrs.get("href", "#").split("#")[0], (tag, attrs)  # in-page anchors only
    assert "url(" not in page and "@import" not in page


def test_fix_first_groups_critical_before_warning(realistic_page):
    _data, page = realistic_page
    groups = [(a["data-severity"], a["data-code"]) for tag, a in outline(page).tags
              if tag == "li" and "group" in a.get("class", "")]
    assert groups == [("critical", "revoked"), ("critical", "must_staple_without_ocsp"),
                      ("warning", "no_staple"), ("warning", "not_renewable")]


def test_one_row_per_endpoint_in_collapsible_hosts(realistic_page):
    data, page = realistic_page
    tags = outline(page).tags
    assert sum(1 for tag, a in tags if tag == "tr" and "data-search" in a) == len(data["endpoints"])
    hosts = [a for tag, a in tags if tag == "details" and a.get("class") == "host"]
    assert len(hosts) == 3 and sum(1 for a in hosts if "open" in a) == 2  # hosts with critical findings open
    assert "59 min left" in page and "in 79 days" in page


def test_chart_size_does_not_grow_with_the_fleet():
    small = audit_html.charts(report.build(audit_entries.synthetic(8), now=audit_entries.NOW)["endpoints"])
    large = audit_html.charts(report.build(audit_entries.synthetic(1000), now=audit_entries.NOW)["endpoints"])
    bars = len(audit_html.EXPIRY_BINS) + len(audit_html.STAPLE_BINS) + 2
    assert len(re.findall("<rect", large)) <= bars * len(report.SEVERITIES)
    assert len(large) < 3 * len(small)


def test_binned_counts_every_row_once():
    rows = report.build(audit_entries.synthetic(), now=audit_entries.NOW)["endpoints"]
    bins = audit_html.binned(rows, lambda r: r.get("days_until_expiry"), audit_html.EXPIRY_BINS, missing="unknown")
    assert sum(sum(counts.values()) for _label, counts in bins) == 1000
    assert [label for label, _counts in bins] == [label for label, _upper in audit_html.EXPIRY_BINS]


def test_long_lists_fold():
    data = report.build(audit_entries.synthetic(), now=audit_entries.NOW)
    page = audit_html.render_html(data)
    assert '<summary>92 more</summary>' in page  # 100 endpoints without staple, 8 shown


def test_an_endpoints_note_shows_with_its_row():
    entries = audit_entries.synthetic(2)
    entries[0] = dict(entries[0], note="the role's refresher keeps its staple fresh: HAProxy refused it")
    page = audit_html.render_html(report.build(entries, now=audit_entries.NOW))
    titles = [a.get("title", "") for tag, a in outline(page).tags if tag == "tr" and "data-search" in a]
    assert sum("HAProxy refused it" in title for title in titles) == 1
