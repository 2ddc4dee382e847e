# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet audit report in Markdown, in the order of the HTML page.

Summary, fix first, since the last audit, then one table per host. Every
text from the fleet is escaped: Markdown punctuation and inline HTML render
as the characters they are, never as markup.
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as report

_SPECIAL = re.compile(r"([\\`*_\[\]<>|&])")

# (heading, cell function) of the per-host tables; the host column keeps every row meaningful alone.
COLUMNS: Tuple[Tuple[str, Any], ...] = (
    ("Host", lambda row: row.get("inventory_host")),
    ("Server", lambda row: row.get("server_kind")),
    ("Endpoint", lambda row: row["endpoint"]),
    ("Server name", lambda row: row.get("server_name")),
    ("Subject", lambda row: row.get("subject")),
    ("Severity", lambda row: row["severity"]),
    ("Verdict", lambda row: row.get("verdict")),
    ("Staple", report.staple_freshness),
    ("Revocation", report.revocation_text),
    ("Must-Staple", lambda row: "yes" if row.get("must_staple") else "no"),
    ("Certificate expires", report.certificate_expiry),
    ("Lifetime", lambda row: "%s days" % row["lifetime"]["days"] if row.get("lifetime") else ""),
    ("OCSP URL or why stapling does not apply", lambda row: row.get("ocsp")),
)


def md(value: Any) -> str:
    """Text as Markdown shows it literally, on one line."""
    text = "" if value is None else str(value)
    return _SPECIAL.sub(r"\\\1", " ".join(text.split()))


def _who(item: Dict[str, Any]) -> str:
    return "%s %s %s (%s)" % (item["inventory_host"], item["server_kind"], item["endpoint"],
                              item["server_name"] or "no SNI")


def _items(items: Iterable[Dict[str, Any]]) -> List[str]:
    return ["- **%s** %s %s: %s" % (item["severity"], md(item["code"]), md(_who(item)), md(item["reason"]))
            for item in items]


def _summary(data: Dict[str, Any]) -> List[str]:
    s = data["summary"]
    return ["# OCSP audit", "",
            "Generated %s: %s." % (md(data["generated_at"]), md(report.summary_line(data))), "",
            "| Critical | Warning | OK | Endpoints | Hosts |", "|---|---|---|---|---|",
            "| %d | %d | %d | %d | %d |" % (s["critical"], s["warning"], s["ok"], s["endpoints"], s["hosts"]), ""
            ] + _coverage(data)


def _coverage(data: Dict[str, Any]) -> List[str]:
    """What could not be audited, each with why: the audit is blind there."""
    covered = data.get("coverage") or {}
    return (_coverage_section("Not audited", covered.get("not_audited", []) + covered.get("unreadable_servers", []))
            + _coverage_section("Counted twice", covered.get("counted_twice", [])))


def _coverage_section(title: str, items: List[Dict[str, Any]]) -> List[str]:
    if not items:
        return []
    return ["## %s" % title, ""] + ["- %s" % md(report.coverage_line(item)) for item in items] + [""]


def _since_last(since: Dict[str, Any]) -> List[str]:
    lines = ["## Since the last audit (%s)" % md(since["previous_generated_at"] or "unknown time"), "",
             "%d new, %d fixed; %d endpoints added, %d gone." % (
                 len(since["new"]), len(since["fixed"]), len(since["added"]), len(since["gone"])), ""]
    for title, items in (("New", since["new"]), ("Fixed", since["fixed"])):
        if items:
            lines += ["### %s" % title, ""] + _items(items) + [""]
    if since["gone"]:
        lines += ["### No longer audited", ""] + ["- %s" % md(" ".join(ident)) for ident in since["gone"]] + [""]
    return lines


def render_markdown(data: Dict[str, Any]) -> str:
    lines = _summary(data)
    lines += ["## Fix first", ""]
    for number, ((severity, code), members) in enumerate(report.fix_first_groups(data["fix_first"]), 1):
        plural = "" if len(members) == 1 else "s"
        lines.append("%d. **%s** %s: %d endpoint%s. Remedy: %s"
                     % (number, severity, md(code), len(members), plural, md(members[0]["remedy"])))
        for item in members:
            lines.append("    - %s: %s" % (md(_who(item)), md(item["reason"])))
            lines += ["        - server log: `%s`" % line.replace("`", "'") for line in item.get("evidence", [])]
    lines += [] if data["fix_first"] else ["Nothing to fix."]
    lines.append("")
    if data.get("since_last"):
        lines += _since_last(data["since_last"])
    if data["hosts_without_servers"]:
        lines += ["Hosts with no web server found: " + ", ".join(md(h) for h in data["hosts_without_servers"]), ""]
    lines += ["## Hosts", ""]
    for host, rows in report.by_host(data["endpoints"]):
        counts = ", ".join("%d %s" % (n, severity) for severity, n in report.severity_counts(rows) if n)
        lines += ["### %s (%s)" % (md(host), counts), "",
                  "| " + " | ".join(heading for heading, _cell in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(md(cell(row)) for _heading, cell in COLUMNS) + " |" for row in rows]
        lines.append("")
    return "\n".join(lines)
