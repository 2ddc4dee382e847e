# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet audit as metrics: ocsp-audit.prom for node_exporter's textfile collector.

The text is OpenMetrics 1.0 (HELP, TYPE and UNIT lines, `# EOF`) and, by
using gauges only, also the Prometheus text format 0.0.4 that node_exporter's
textfile collector parses (there `# UNIT` and `# EOF` are comments; an
OpenMetrics stateset or info type would make it reject the file). States
(verdict, severity, revocation) are 1-valued gauges with the state as a
label, like kube-state-metrics: one series per endpoint, not one per
possible state. Every metric is documented in docs/metrics.md.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import lifetime
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import audit_report as report

PREFIX = "tlsops_ocsp_"
ENDPOINT_LABELS = ("host", "server", "endpoint", "server_name")

Labels = Sequence[Tuple[str, str]]
Sample = Tuple[Labels, float]


class Metric:
    """One gauge family: name, help, unit (or None) and how to get its samples from one row."""

    def __init__(self, name: str, help_text: str, unit: Optional[str],
                 samples: Callable[[Dict[str, Any]], Iterable[Tuple[Labels, Optional[float]]]]) -> None:
        self.name = PREFIX + name
        self.help = help_text
        self.unit = unit
        self.samples = samples


def _one(key: str) -> Callable[[Dict[str, Any]], Iterable[Tuple[Labels, Optional[float]]]]:
    """A 1-valued state gauge whose state is the label `key` (from the row field of the same name)."""
    return lambda row: [(((key, str(row.get(key) or "none")),), 1)]


def _flag(field: str) -> Callable[[Dict[str, Any]], Iterable[Tuple[Labels, Optional[float]]]]:
    return lambda row: [((), 1 if row.get(field) else 0)]


def _timestamp(field: str) -> Callable[[Dict[str, Any]], Iterable[Tuple[Labels, Optional[float]]]]:
    def samples(row: Dict[str, Any]) -> Iterable[Tuple[Labels, Optional[float]]]:
        when = lifetime.parse_time(row.get(field))
        return [((), int(when.timestamp()) if when else None)]
    return samples


def _staple_remaining(row: Dict[str, Any]) -> Iterable[Tuple[Labels, Optional[float]]]:
    seconds = row.get("seconds_until_next_update")
    return [((), seconds if row.get("stapled") and isinstance(seconds, (int, float)) else None)]


def _verdict(row: Dict[str, Any]) -> Iterable[Tuple[Labels, Optional[float]]]:
    """The verdict, and why nothing is stapled where the check found the cause (none elsewhere)."""
    return [((("verdict", str(row.get("verdict"))), ("cause", row.get("cause") or "none")), 1)]


def _revocation(row: Dict[str, Any]) -> Iterable[Tuple[Labels, Optional[float]]]:
    return [((("status", row.get("revocation_status") or "none"),
              ("source", row.get("revocation_source") or "none")), 1)]


ENDPOINT_METRICS: Tuple[Metric, ...] = (
    Metric("endpoint_verdict", "The staple verdict of the endpoint and, where nothing is stapled, its cause "
           "(value 1, both in labels; cause none where there is none).", None, _verdict),
    Metric("endpoint_severity", "The audit's severity for the endpoint: ok, warning or critical (value 1).", None,
           _one("severity")),
    Metric("endpoint_stapled", "1 when the endpoint sent an OCSP response in the handshake, else 0.", None,
           _flag("stapled")),
    Metric("staple_remaining_seconds", "Seconds from the audit until the stapled response's nextUpdate "
           "(negative when past).", "seconds", _staple_remaining),
    Metric("staple_next_update_timestamp_seconds", "The stapled response's nextUpdate (Unix time).", "seconds",
           lambda row: _timestamp("next_update")(row) if row.get("stapled") else [((), None)]),
    Metric("certificate_expiry_timestamp_seconds", "The certificate's notAfter (Unix time).", "seconds",
           _timestamp("not_after")),
    Metric("certificate_must_staple", "1 when the certificate carries Must-Staple (TLS Feature), else 0.", None,
           _flag("must_staple")),
    Metric("revocation_status", "The certificate's revocation status and where it came from: staple, "
           "responder or crl (value 1; none when not known).", None, _revocation),
)


def escape(value: str) -> str:
    """A label value as both text formats escape it: backslash, double quote, line feed."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Labels) -> str:
    return "{%s}" % ",".join('%s="%s"' % (name, escape(value)) for name, value in pairs) if pairs else ""


def _number(value: float) -> str:
    return repr(value) if isinstance(value, float) else "%d" % value


def _family(name: str, help_text: str, unit: Optional[str], samples: Iterable[Sample]) -> List[str]:
    lines = ["# HELP %s %s" % (name, help_text), "# TYPE %s gauge" % name]
    if unit:
        lines.append("# UNIT %s %s" % (name, unit))
    return lines + ["%s%s %s" % (name, _labels(labels), _number(value)) for labels, value in samples]


def _endpoint_labels(row: Dict[str, Any]) -> Labels:
    return tuple(zip(ENDPOINT_LABELS, report.identity(row)))


def _unique(rows: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """One row per label set: the first, which is the worst as the report sorts them."""
    seen = set()
    unique = []
    for row in rows:
        if report.identity(row) not in seen:
            seen.add(report.identity(row))
            unique.append(row)
    return unique


def render_metrics(data: Dict[str, Any]) -> str:
    """ocsp-audit.prom: per-endpoint gauges, then the audit's time and counts, then `# EOF`."""
    rows = _unique(data["endpoints"])
    row_labels = [tuple(_endpoint_labels(row)) for row in rows]  # the same in every family
    lines: List[str] = []
    for metric in ENDPOINT_METRICS:
        samples = [(labels + tuple(extra), value)
                   for row, labels in zip(rows, row_labels) for extra, value in metric.samples(row) if value is not None]
        lines += _family(metric.name, metric.help, metric.unit, samples)
    when = lifetime.parse_time(data["generated_at"])
    lines += _family(PREFIX + "audit_timestamp_seconds", "When the audit ran (Unix time).", "seconds",
                     [((), int(when.timestamp()) if when else 0)])
    lines += _family(PREFIX + "audit_endpoints", "Endpoints audited, by severity.", None,
                     [((("severity", severity),), data["summary"][severity]) for severity in report.SEVERITIES])
    lines += _family(PREFIX + "audit_hosts", "Hosts audited, those without a web server included.", None,
                     [((), data["summary"]["hosts"])])
    states = data["summary"].get("hosts_by_state") or {}
    lines += _family(PREFIX + "hosts", "Hosts by what the audit could do on them (audited, unreachable, failed, "
                     "not_run), and servers that could not be read (unreadable_servers).", None,
                     [((("state", state),), count) for state, count in states.items()])
    return "\n".join(lines + ["# EOF"]) + "\n"
