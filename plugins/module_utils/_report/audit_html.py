# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet audit report as one self-contained HTML page.

Summary first (counts by severity), then the fix-first list, what changed
since the last audit, two binned charts that stay readable at thousands of
endpoints, and the hosts as collapsible sections with a filter box. Inline
CSS, script and SVG only: the page loads nothing, so it can be attached to a
ticket or opened offline. Every text from the fleet is HTML-escaped; the
script reads only the page's own DOM.
"""
from __future__ import annotations

import html
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as report

# List items shown before the rest is folded away: per fix-first group, and in other lists.
GROUP_ITEMS = 8
SHOWN_ITEMS = 25

# (heading, cell text, sort key) of the per-host tables.
COLUMNS: Tuple[Tuple[str, Callable[[Dict[str, Any]], str], Callable[[Dict[str, Any]], Any]], ...] = (
    ("Server", lambda r: r.get("server_kind") or "", lambda r: r.get("server_kind") or ""),
    ("Endpoint", lambda r: r["endpoint"], lambda r: r["endpoint"]),
    ("Server name", lambda r: r.get("server_name") or "no SNI", lambda r: r.get("server_name") or ""),
    ("Verdict", lambda r: r.get("verdict") or "", lambda r: r.get("verdict") or ""),
    ("Staple", report.staple_freshness, lambda r: r.get("seconds_until_next_update") if r.get("stapled") else None),
    ("Revocation", report.revocation_text, report.revocation_text),
    ("Must-Staple", lambda r: "yes" if r.get("must_staple") else "no", lambda r: bool(r.get("must_staple"))),
    ("Certificate expires", report.certificate_expiry, lambda r: r.get("seconds_until_expiry")),
    ("Lifetime", lambda r: "%d days" % r["lifetime"]["days"] if r.get("lifetime") else "",
     lambda r: r["lifetime"]["days"] if r.get("lifetime") else None),
    ("Subject / issuer", lambda r: "%s / %s" % (r.get("subject") or "?", r.get("issuer") or "?"),
     lambda r: r.get("subject") or ""),
    ("Findings", lambda r: ", ".join(f["code"] for f in r["findings"]), lambda r: report.SEVERITY_ORDER[r["severity"]]),
)

# Columns of free text from the certificates, wrapped anywhere so that a long name cannot widen the page.
WRAPPED = frozenset(("Server name", "Subject / issuer"))

# Chart bins: (label, upper bound exclusive); values at or above the last bound fall in the last bin.
EXPIRY_BINS: Tuple[Tuple[str, float], ...] = (
    ("expired", 0), ("< 7 d", 7), ("7-30 d", 30), ("30-60 d", 60), ("60-90 d", 90),
    ("90-180 d", 180), ("180-365 d", 365), ("> 1 y", float("inf")),
)
STAPLE_BINS: Tuple[Tuple[str, float], ...] = (
    ("past", 0), ("< 1 h", 1), ("1-6 h", 6), ("6-24 h", 24), ("1-3 d", 72), ("3-7 d", 168),
    ("> 7 d", float("inf")),
)

esc = html.escape


def _search_text(row: Dict[str, Any]) -> str:
    words = [row.get("inventory_host"), row.get("server_kind"), row["endpoint"], row.get("server_name"),
             row.get("verdict"), row["severity"], report.revocation_text(row), row.get("subject"), row.get("issuer")]
    words += [f["code"] for f in row["findings"]]
    return " ".join(str(w) for w in words if w).lower()


def _sort_key(value: Any) -> str:
    """Numbers sort numerically in the page's script (fixed-width text); everything else as text."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return "%020.3f" % (value + 1e15)
    return "" if value is None else str(value).lower()


def _who(item: Dict[str, Any]) -> str:
    return "<b>%s</b> %s %s (%s)" % (esc(item["inventory_host"]), esc(item["server_kind"]), esc(item["endpoint"]),
                                     esc(item["server_name"] or "no SNI"))


def _item(item: Dict[str, Any], with_code: bool = False) -> str:
    search = " ".join((item["inventory_host"], item["server_kind"], item["endpoint"], item["server_name"],
                       item["code"], item["severity"])).lower()
    code = '<span class="badge %s">%s</span> <code>%s</code> ' % (
        esc(item["severity"]), esc(item["severity"]), esc(item["code"])) if with_code else ""
    # the server's own log lines that show why nothing is stapled, under the endpoint
    evidence = ('<pre class="evidence">%s</pre>' % esc("\n".join(item["evidence"]))) if item.get("evidence") else ""
    return '<li data-search="%s">%s%s &mdash; %s%s</li>' % (
        esc(search), code, _who(item), esc(item["reason"]), evidence)


def _list(items: Sequence[Dict[str, Any]], with_code: bool = False, shown: int = SHOWN_ITEMS) -> str:
    """A list whose items beyond `shown` fold into a <details>."""
    html_list = "<ul>%s</ul>" % "".join(_item(item, with_code) for item in items[:shown])
    rest = items[shown:]
    if rest:
        html_list += ('<details class="more"><summary>%d more</summary><ul>%s</ul></details>'
                      % (len(rest), "".join(_item(item, with_code) for item in rest)))
    return html_list


def _summary(data: Dict[str, Any]) -> str:
    s = data["summary"]
    cards = "".join('<div class="card %s"><span class="count" id="count-%s">%d</span> %s</div>'
                    % (severity, severity, s[severity], severity) for severity in report.SEVERITIES)
    cards += '<div class="card"><span class="count" id="count-endpoints">%d</span> endpoints</div>' % s["endpoints"]
    cards += '<div class="card"><span class="count" id="count-hosts">%d</span> hosts</div>' % s["hosts"]
    if s.get("outside_endpoints"):
        cards += ('<div class="card" title="checked from the controller: no host logged in to"><span class="count" '
                  'id="count-outside">%d</span> endpoints checked from outside</div>' % s["outside_endpoints"])
    cards += _coverage_card(data)
    since = data.get("since_last")
    change = (' <a href="#since-last">Since the last audit: %d new, %d fixed.</a>'
              % (len(since["new"]), len(since["fixed"]))) if since else ""
    return ('<section id="summary-section"><div class="cards">%s</div><p>Generated %s: <span id="summary">%s</span>.%s'
            '</p></section>' % (cards, esc(data["generated_at"]), esc(report.summary_line(data)), change))


def _coverage_card(data: Dict[str, Any]) -> str:
    """Hosts audited of hosts targeted; what could not be audited, each with why, under it (critical)."""
    covered = data.get("coverage") or {}
    blind = covered.get("not_audited", []) + covered.get("unreadable_servers", [])
    audited = len(covered.get("audited", []))
    items = "".join("<li>%s</li>" % esc(report.coverage_line(item))
                    for item in blind + covered.get("counted_twice", []))
    return ('<div class="card coverage%s" id="coverage"><span class="count" id="count-audited">%d/%d</span> hosts '
            'audited%s</div>' % (" critical" if blind else " ok", audited, audited + len(covered.get("not_audited", [])),
                                 "<ul>%s</ul>" % items if items else ""))


def _fix_first(data: Dict[str, Any]) -> str:
    """One entry per kind of problem, critical first: how many endpoints, the remedy, and each endpoint's reason."""
    groups = ["<li class=\"group %s\" data-severity=\"%s\" data-code=\"%s\"><span class=\"badge %s\">%s</span> "
              "<b>%s</b> &mdash; <span class=\"n\">%d</span> endpoint%s<div class=\"remedy\">Remedy: %s</div>%s</li>"
              % (esc(severity), esc(severity), esc(code), esc(severity), esc(severity), esc(code), len(members),
                 "" if len(members) == 1 else "s", esc(members[0]["remedy"]), _list(members, shown=GROUP_ITEMS))
              for (severity, code), members in report.fix_first_groups(data["fix_first"])]
    body = '<ol id="fix-first-list">%s</ol>' % "".join(groups) if groups else '<p class="ok">Nothing to fix.</p>'
    return '<section id="fix-first"><h2>Fix first</h2>%s</section>' % body


def _since_last(since: Optional[Dict[str, Any]]) -> str:
    if not since:
        return ""
    parts = ['<section id="since-last"><h2>Since the last audit</h2><p>Previous audit %s: <b>%d new</b>, '
             '<b>%d fixed</b>; %d endpoints added, %d no longer audited.</p>' % (
                 esc(since["previous_generated_at"] or "(time unknown)"), len(since["new"]), len(since["fixed"]),
                 len(since["added"]), len(since["gone"]))]
    if since["new"]:
        parts.append('<h3>New</h3><div id="since-new">%s</div>' % _list(since["new"], with_code=True))
    if since["fixed"]:
        parts.append('<h3>Fixed</h3><div id="since-fixed">%s</div>' % _list(since["fixed"], with_code=True))
    if since["gone"]:
        parts.append("<h3>No longer audited</h3><ul>%s</ul>" % "".join(
            "<li>%s</li>" % esc(" ".join(ident)) for ident in since["gone"]))
    return "".join(parts) + "</section>"


def _bin(value: Optional[float], bins: Sequence[Tuple[str, float]]) -> Optional[str]:
    if value is None:
        return None
    return next(label for label, upper in bins if value < upper or upper == float("inf"))


def binned(rows: Iterable[Dict[str, Any]], value: Callable[[Dict[str, Any]], Optional[float]],
           bins: Sequence[Tuple[str, float]], missing: Optional[str] = None) -> List[Tuple[str, Dict[str, int]]]:
    """Counts per (bin, severity); rows without a value go to the `missing` bin, shown first when not empty."""
    labels = ([missing] if missing else []) + [label for label, _upper in bins]
    counts = {label: {severity: 0 for severity in report.SEVERITIES} for label in labels}
    for row in rows:
        label = _bin(value(row), bins) or missing
        if label:
            counts[label][row["severity"]] += 1
    return [(label, counts[label]) for label in labels if label != missing or sum(counts[label].values())]


def bar_chart(title: str, what: str, bins: List[Tuple[str, Dict[str, int]]], width: int = 520,
              height: int = 240) -> str:
    """A stacked bar chart (severity colours, count above each bar) as inline SVG."""
    left, right, top, bottom = 12, 12, 44, 30
    slot = (width - left - right) / max(len(bins), 1)
    tallest = max([sum(counts.values()) for _label, counts in bins] + [1])
    scale = (height - top - bottom) / tallest
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="%d" height="%d" '
             'viewBox="0 0 %d %d" aria-label="%s">' % (width, height, width, height, esc(title)),
             '<text class="title" x="%d" y="16">%s</text>' % (left, esc(title)),
             '<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>' % (left, height - bottom, width - right,
                                                                       height - bottom)]
    for index, (label, counts) in enumerate(bins):
        x = left + index * slot + slot * 0.15
        y = float(height - bottom)
        for severity in reversed(report.SEVERITIES):  # ok at the bottom, critical on top
            if counts[severity]:
                segment = counts[severity] * scale
                y -= segment
                parts.append('<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%d %s: %s %s'
                             '</title></rect>' % (severity, x, y, slot * 0.7, segment, counts[severity], severity,
                                                  esc(what), esc(label)))
        total = sum(counts.values())
        parts.append('<text class="total" x="%.1f" y="%.1f" text-anchor="middle">%d</text>'
                     % (x + slot * 0.35, y - 4, total))
        parts.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>'
                     % (x + slot * 0.35, height - bottom + 16, esc(label)))
    return "".join(parts) + "</svg>"


def _staple_hours(row: Dict[str, Any]) -> Optional[float]:
    seconds = row.get("seconds_until_next_update")
    return seconds / 3600.0 if row.get("stapled") and isinstance(seconds, (int, float)) else None


def charts(rows: Sequence[Dict[str, Any]]) -> str:
    expiry = binned(rows, lambda r: r.get("days_until_expiry"), EXPIRY_BINS, missing="unknown")
    staples = binned(rows, _staple_hours, STAPLE_BINS, missing="no staple")
    return ('<section id="charts"><h2>Across the fleet</h2><p class="legend"><span class="critical">&#9632; '
            'critical</span> <span class="warning">&#9632; warning</span> <span class="ok">&#9632; ok</span> '
            '(endpoints per bar; hover a bar for its counts)</p>%s%s</section>'
            % (bar_chart("Certificates expire in", "certificate expires in", expiry),
               bar_chart("Staples stay valid for", "staple valid for", staples)))


def _row(row: Dict[str, Any]) -> str:
    cells = "".join('<td data-sort="%s"%s>%s</td>' % (esc(_sort_key(key(row))),
                                                      ' class="wrap"' if heading in WRAPPED else "", esc(text(row)))
                    for heading, text, key in COLUMNS)
    # the server role's note (HAProxy: why the refresher, not HAProxy's updater, staples it) follows the findings
    reasons = " | ".join([f["reason"] for f in row["findings"]] + ([row["note"]] if row.get("note") else [])) \
        or row.get("ocsp") or ""
    return '<tr class="%s" data-search="%s" title="%s">%s</tr>' % (
        esc(row["severity"]), esc(_search_text(row)), esc(reasons), cells)


def _hosts(data: Dict[str, Any]) -> str:
    head = "".join("<th>%s</th>" % esc(heading) for heading, _text, _key in COLUMNS)
    sections = []
    for host, rows in report.by_host(data["endpoints"]):
        counts = report.severity_counts(rows)
        badges = "".join('<span class="badge %s">%d %s</span>' % (severity, n, severity) for severity, n in counts if n)
        sections.append('<details class="host"%s><summary><span class="name">%s</span> %s</summary>'
                        '<table><thead><tr>%s</tr></thead><tbody>%s</tbody></table></details>'
                        % (" open" if counts[0][1] else "", esc(host), badges, head, "".join(map(_row, rows))))
    without = data["hosts_without_servers"]
    note = ('<p>Hosts with no web server found: %s</p>' % esc(", ".join(without))) if without else ""
    return ('<section id="hosts"><h2>Hosts</h2><p><input id="filter" type="search" placeholder="Filter: host, '
            'name, verdict, severity..." size="40" aria-label="Filter endpoints"> <span id="filter-count">%d '
            'endpoints</span></p>%s%s</section>' % (len(data["endpoints"]), note, "".join(sections)))


def render_html(data: Dict[str, Any]) -> str:
    return _PAGE % {
        "body": _summary(data) + _fix_first(data) + _since_last(data.get("since_last")) + charts(data["endpoints"])
        + _hosts(data),
    }


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OCSP audit</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em 2em; color: #222; max-width: 110em; }
h1 { margin: 0 0 0.3em; } h2 { margin: 1.2em 0 0.4em; border-bottom: 1px solid #ddd; }
.cards { display: flex; gap: 0.8em; flex-wrap: wrap; }
.card { border: 1px solid #ccc; border-radius: 6px; padding: 0.4em 1em; min-width: 6em; background: #fafafa; }
.card .count { display: block; font-size: 2em; font-weight: 600; }
.card.critical { border-color: #c62828; color: #c62828; } .card.warning { border-color: #d97a00; color: #b36200; }
.card.ok { border-color: #2e7d32; color: #2e7d32; }
.badge { display: inline-block; border-radius: 3px; padding: 0 0.4em; font-size: 0.85em; color: #fff;
  background: #777; margin-right: 0.2em; }
.badge.critical { background: #c62828; } .badge.warning { background: #d97a00; } .badge.ok { background: #2e7d32; }
ol li { margin: 0.25em 0; } .remedy { color: #555; font-size: 0.9em; }
details.more > summary, details.host > summary { cursor: pointer; }
details.host { border: 1px solid #ddd; border-radius: 4px; margin: 0.3em 0; padding: 0.2em 0.6em; }
details.host > summary .name { font-weight: 600; margin-right: 0.5em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.4em 0; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.45em; text-align: left; vertical-align: top; }
td.wrap { min-width: 10em; max-width: 24em; overflow-wrap: anywhere; }
#fix-first-list > li { margin: 0.6em 0; } #fix-first-list ul { margin: 0.2em 0; font-size: 0.9em; }
th { background: #eee; cursor: pointer; user-select: none; }
th.asc::after { content: " \\25B2"; } th.desc::after { content: " \\25BC"; }
tr.critical td { background: #fde8e8; } tr.warning td { background: #fff5dc; }
.chart { margin-right: 1.5em; } .chart .axis { stroke: #555; } .chart text { font-size: 11px; fill: #333; }
.chart text.title { font-size: 13px; font-weight: 600; } .chart text.total { font-weight: 600; }
.chart rect.ok { fill: #2e7d32; } .chart rect.warning { fill: #e89400; } .chart rect.critical { fill: #c62828; }
.legend .ok { color: #2e7d32; } .legend .warning { color: #e89400; } .legend .critical { color: #c62828; }
p.ok { color: #2e7d32; }
[hidden] { display: none !important; }
</style></head>
<body>
<h1>OCSP audit</h1>
%(body)s
<script>
(function () {
  var filter = document.getElementById("filter");
  var count = document.getElementById("filter-count");
  var rows = document.querySelectorAll("#hosts tr[data-search]");
  function apply() {
    var terms = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    document.querySelectorAll("[data-search]").forEach(function (element) {
      var text = element.getAttribute("data-search");
      element.hidden = !terms.every(function (term) { return text.indexOf(term) >= 0; });
    });
    document.querySelectorAll("details.host").forEach(function (host) {
      var visible = host.querySelectorAll("tr[data-search]:not([hidden])").length;
      shown += visible;
      host.hidden = visible === 0;
      if (terms.length) { host.open = true; }
    });
    document.querySelectorAll("#fix-first-list > li").forEach(function (group) {
      group.hidden = !group.querySelector("[data-search]:not([hidden])");
    });
    if (terms.length) {
      document.querySelectorAll("details.more").forEach(function (more) { more.open = true; });
    }
    count.textContent = terms.length ? shown + " of " + rows.length + " endpoints" : rows.length + " endpoints";
  }
  filter.addEventListener("input", apply);
  document.querySelectorAll("#hosts th").forEach(function (th) {
    th.addEventListener("click", function () {
      var table = th.closest("table"), index = th.cellIndex, ascending = !th.classList.contains("asc");
      table.querySelectorAll("th").forEach(function (other) { other.classList.remove("asc", "desc"); });
      th.classList.add(ascending ? "asc" : "desc");
      var body = table.tBodies[0], sorted = Array.prototype.slice.call(body.rows);
      sorted.sort(function (a, b) {
        var x = a.cells[index].getAttribute("data-sort"), y = b.cells[index].getAttribute("data-sort");
        return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
      });
      sorted.forEach(function (row) { body.appendChild(row); });
    });
  });
  var query = new URLSearchParams(window.location.search).get("filter");
  if (query) { filter.value = query; apply(); }
})();
</script>
</body></html>
"""
