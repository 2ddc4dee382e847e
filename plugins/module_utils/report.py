# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet audit report: one data model, three renderings (JSON, Markdown, HTML).

Input is the list of endpoint entries the server roles record
(`<role>_endpoints` facts: the staple_info entry plus server_kind,
certificate_path, stapling_reason...), each tagged with its inventory host.
The HTML page is self-contained: inline CSS, inline script for sorting and an
inline SVG picture, so it can be attached to a ticket or opened offline.
"""
from __future__ import annotations

import datetime
import html
import json
from typing import Any, Dict, Iterable, Optional, Sequence, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils import verdicts

Entry = Dict[str, Any]

# (key, heading) of the table columns, shared by Markdown and HTML.
COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("inventory_host", "Host"),
    ("server_kind", "Server"),
    ("endpoint", "Endpoint"),
    ("server_name", "Server name"),
    ("subject", "Subject"),
    ("issuer", "Issuer"),
    ("ocsp", "OCSP URL or why stapling does not apply"),
    ("must_staple", "Must-Staple"),
    ("verdict", "Verdict"),
    ("seconds_until_next_update", "Seconds until nextUpdate"),
    ("not_after", "Certificate expires"),
    ("days_until_expiry", "Days left"),
    ("lifetime_days", "Lifetime (days)"),
)

KEYS = tuple(key for key, _heading in COLUMNS)
HEADINGS = tuple(heading for _key, heading in COLUMNS)

SEVERITY_ORDER = {verdicts.CRITICAL: 0, verdicts.WARNING: 1, verdicts.OK: 2}


def classify(entry: Entry) -> str:
    """OK, WARNING or CRITICAL.

    A staple past nextUpdate is critical whatever the certificate, and so is
    a certificate whose responder says revoked when the server staples
    nothing (servers refuse to staple revoked answers, so the staple alone
    would hide it).
    """
    verdict = entry.get("verdict") or verdicts.MALFORMED
    if verdict == verdicts.EXPIRED and entry.get("stapled"):
        return verdicts.CRITICAL
    if entry.get("responder_verdict") == verdicts.REVOKED:
        return verdicts.CRITICAL
    return verdicts.severity(verdict, bool(entry.get("must_staple")))


def _parse_time(value: Optional[str]) -> Optional[datetime.datetime]:
    if not value:
        return None
    return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def normalise(entry: Entry, now: datetime.datetime) -> Entry:
    """One report row from one role entry: derived columns added, nothing dropped."""
    row = dict(entry)
    row["endpoint"] = "%s:%s" % (entry.get("host", ""), entry.get("port", ""))
    uris = entry.get("ocsp_uris") or []
    row["ocsp"] = ", ".join(uris) if uris else (entry.get("stapling_reason") or entry.get("reason") or "")
    expiry = _parse_time(entry.get("not_after"))
    row["days_until_expiry"] = (expiry - now).days if expiry else None
    row["severity"] = classify(entry)
    return row


def build(entries: Iterable[Entry], hosts_without_servers: Sequence[str] = (),
          now: Optional[datetime.datetime] = None) -> Dict[str, Any]:
    """The report as data: rows sorted worst first, counts, critical findings."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    rows = sorted((normalise(e, now) for e in entries),
                  key=lambda r: (SEVERITY_ORDER[r["severity"]], str(r.get("inventory_host")), r["endpoint"]))
    by_verdict: Dict[str, int] = {}
    for row in rows:
        by_verdict[row.get("verdict") or "none"] = by_verdict.get(row.get("verdict") or "none", 0) + 1
    critical = [r for r in rows if r["severity"] == verdicts.CRITICAL]
    return {
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": {
            "hosts": len({r.get("inventory_host") for r in rows} | set(hosts_without_servers)),
            "endpoints": len(rows),
            "by_verdict": dict(sorted(by_verdict.items())),
            "critical": len(critical),
            "warning": sum(1 for r in rows if r["severity"] == verdicts.WARNING),
        },
        "critical": [finding(r) for r in critical],
        "hosts_without_servers": sorted(hosts_without_servers),
        "endpoints": rows,
    }


def finding(row: Entry) -> str:
    """One line naming a critical endpoint and what is wrong."""
    return "%s %s %s (%s): %s - %s" % (
        row.get("inventory_host"), row.get("server_kind"), row["endpoint"],
        row.get("server_name") or "no SNI", row.get("verdict"), row.get("reason"),
    )


def summary_line(report: Dict[str, Any]) -> str:
    s = report["summary"]
    verdict_counts = ", ".join("%s %d" % item for item in s["by_verdict"].items()) or "none"
    return "%d hosts, %d endpoints (%s); %d critical, %d warnings" % (
        s["hosts"], s["endpoints"], verdict_counts, s["critical"], s["warning"])


def _cell(row: Entry, key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def render_json(report: Dict[str, Any]) -> str:
    return json.dumps(report, indent=2, sort_keys=True) + "\n"


def render_markdown(report: Dict[str, Any]) -> str:
    def md(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["# OCSP stapling audit", "", "Generated %s: %s." % (report["generated_at"], summary_line(report)), ""]
    if report["critical"]:
        lines += ["## Critical", ""] + ["- " + md(item) for item in report["critical"]] + [""]
    if report["hosts_without_servers"]:
        lines += ["Hosts with no nginx, Apache or IIS: " + ", ".join(report["hosts_without_servers"]), ""]
    lines += ["## Endpoints", "",
              "| " + " | ".join(HEADINGS) + " |",
              "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(md(_cell(row, key)) for key in KEYS) + " |" for row in report["endpoints"]]
    return "\n".join(lines) + "\n"


def render_html(report: Dict[str, Any]) -> str:
    esc = html.escape
    head = "".join('<th data-key="%s">%s</th>' % (esc(key), esc(heading)) for key, heading in COLUMNS)
    body = "\n".join(
        '<tr class="%s">%s</tr>' % (esc(row["severity"]), "".join(
            '<td data-sort="%s">%s</td>' % (esc(_sort_key(row, key)), esc(_cell(row, key))) for key in KEYS))
        for row in report["endpoints"]
    )
    critical = "".join("<li>%s</li>" % esc(item) for item in report["critical"])
    return _PAGE % {
        "generated": esc(report["generated_at"]),
        "summary": esc(summary_line(report)),
        "critical": '<h2>Critical</h2><ul class="critical">%s</ul>' % critical if critical else "",
        "chart": freshness_chart(report["endpoints"]),
        "head": head,
        "body": body,
    }


def _sort_key(row: Entry, key: str) -> str:
    """Numbers sort numerically in the page's script; everything else as text."""
    value = row.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "%020.3f" % (value + 1e15)
    return _cell(row, key).lower()


def freshness_chart(rows: Sequence[Entry], width: int = 760, height: int = 340) -> str:
    """An SVG scatter: days until certificate expiry (x) against hours until the staple's nextUpdate (y).

    Endpoints without a staple sit on a band under the axis, so nothing is
    hidden; colours are the severity; hovering a dot names the endpoint.
    """
    left, right, top, bottom = 64, 24, 16, 64
    band = 18  # the "no staple" band under the x axis
    points = [(r["days_until_expiry"], _staple_hours(r), r) for r in rows if r.get("days_until_expiry") is not None]
    max_x = max([point[0] for point in points] + [30]) * 1.1
    max_y = max([point[1] for point in points if point[1] is not None] + [1]) * 1.15
    plot_bottom = height - bottom - band

    def sx(x: float) -> float:
        return left + (max(x, 0) / max_x) * (width - left - right)

    def sy(y: Optional[float]) -> float:
        if y is None:
            return plot_bottom + band / 2
        return plot_bottom - (max(y, 0) / max_y) * (plot_bottom - top)

    def dot(x: float, y: Optional[float], row: Entry) -> str:
        title = "%s %s (%s): %s, certificate expires in %s days, %s" % (
            row.get("inventory_host"), row["endpoint"], row.get("server_name") or "no SNI", row.get("verdict"), x,
            "no staple" if y is None else "staple fresh for %.1f h" % y)
        return '<circle class="%s" cx="%.1f" cy="%.1f" r="5"><title>%s</title></circle>' % (
            html.escape(row["severity"]), sx(x), sy(y), html.escape(title))

    ticks = "".join(
        '<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (
            sx(max_x * i / 4), height - bottom + 16, round(max_x * i / 4)) for i in range(5)
    ) + "".join(
        '<text x="%d" y="%.1f" text-anchor="end" dy="4">%.1f</text>' % (left - 6, sy(max_y * i / 4), max_y * i / 4)
        for i in range(5)
    )
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" width="%d" height="%d" viewBox="0 0 %d %d" '
        'aria-label="Staple freshness against certificate expiry">' % (width, height, width, height),
        '<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>' % (left, plot_bottom, width - right, plot_bottom),
        '<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>' % (left, top, left, plot_bottom),
        '<text x="%d" y="%.1f" text-anchor="end" dy="4">no staple</text>' % (left - 6, sy(None)),
        ticks,
        '<text x="%d" y="%d" text-anchor="middle">days until certificate expiry</text>'
        % ((left + width - right) // 2, height - 12),
        '<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">hours until staple nextUpdate'
        '</text>' % ((top + plot_bottom) // 2, (top + plot_bottom) // 2),
        "".join(dot(x, y, row) for x, y, row in points),
        "</svg>",
    ]
    return "".join(parts)


def _staple_hours(row: Entry) -> Optional[float]:
    if not row.get("stapled") or row.get("seconds_until_next_update") is None:
        return None
    return row["seconds_until_next_update"] / 3600.0


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>OCSP stapling audit</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; cursor: pointer; user-select: none; }
th.asc::after { content: " \\25B2"; } th.desc::after { content: " \\25BC"; }
tr.critical td { background: #fdd; } tr.warning td { background: #ffd; }
ul.critical { color: #a00; }
svg .axis { stroke: #555; } svg text { font-size: 12px; fill: #333; }
svg circle.ok { fill: #2a2; } svg circle.warning { fill: #e90; } svg circle.critical { fill: #d00; }
.legend .ok { color: #2a2; } .legend .warning { color: #e90; } .legend .critical { color: #d00; }
</style></head>
<body>
<h1>OCSP stapling audit</h1>
<p>Generated %(generated)s: <span id="summary">%(summary)s</span>.</p>
%(critical)s
<h2>Staple freshness and certificate expiry</h2>
<p class="legend"><span class="ok">&#9679; ok</span> <span class="warning">&#9679; warning</span>
<span class="critical">&#9679; critical</span></p>
%(chart)s
<h2>Endpoints</h2>
<table id="endpoints"><thead><tr>%(head)s</tr></thead>
<tbody>
%(body)s
</tbody></table>
<script>
document.querySelectorAll("#endpoints th").forEach(function (th, index) {
  th.addEventListener("click", function () {
    var ascending = !th.classList.contains("asc");
    document.querySelectorAll("#endpoints th").forEach(function (other) { other.classList.remove("asc", "desc"); });
    th.classList.add(ascending ? "asc" : "desc");
    var tbody = document.querySelector("#endpoints tbody");
    var rows = Array.prototype.slice.call(tbody.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.sort, y = b.cells[index].dataset.sort;
      return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
    });
    rows.forEach(function (row) { tbody.appendChild(row); });
  });
});
</script>
</body></html>
"""
