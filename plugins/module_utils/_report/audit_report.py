# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet audit report as data: rows, findings, the fix-first list, and what changed since the last audit.

Input is the list of endpoint entries the server roles record
(`<role>_endpoints` facts: the staple_info entry plus server_kind,
certificate_path, stapling_reason, and from newer roles responder_verdict,
crl_verdict, revocation_status, revocation_source, not_before), each tagged
with its inventory host. Entries of older roles without the newer fields are
judged on what they have.

Each row carries `findings`: what is wrong, how bad (critical or warning),
why, and what to do. The renderings are audit_markdown, audit_html and
audit_metrics; `render_json` is here.
"""
from __future__ import annotations

import datetime
import json
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import lifetime
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from ansible_collections.tlsops.ocsp.plugins.module_utils._report.stapling_report import OUTSIDE

Entry = Dict[str, Any]
Finding = Dict[str, Any]

SEVERITIES: Tuple[str, ...] = (verdicts.CRITICAL, verdicts.WARNING, verdicts.OK)
SEVERITY_ORDER = {severity: index for index, severity in enumerate(SEVERITIES)}

# Finding codes besides the staple verdicts, in fix-first order within a severity.
REVOKED = "revoked"
MUST_STAPLE_WITHOUT_OCSP = "must_staple_without_ocsp"
STALE_STAPLE = "stale_staple"
REVOCATION_UNKNOWN = "revocation_unknown"
CERTIFICATE_EXPIRED = "certificate_expired"
CERTIFICATE_EXPIRING = "certificate_expiring"
CODE_ORDER: Tuple[str, ...] = (
    REVOKED, CERTIFICATE_EXPIRED, MUST_STAPLE_WITHOUT_OCSP, STALE_STAPLE, CERTIFICATE_EXPIRING,
) + tuple(v for v in verdicts.ALL if v not in (verdicts.GOOD, verdicts.REVOKED)) + (
    REVOCATION_UNKNOWN, lifetime.TOO_LONG, lifetime.NOT_RENEWABLE,
)

# A certificate that expires sooner than this is a warning: automatic renewal has not run.
EXPIRING_DAYS = 14

# Revocation statuses and where they came from (the rule of stapling_report._with_revocation).
STATUSES = (verdicts.GOOD, verdicts.REVOKED, verdicts.UNKNOWN)
SOURCES = ("staple", "responder", "crl")

# CRL verdicts that leave the revocation status open.
_CRL_FAILURES = frozenset((verdicts.BAD_SIGNATURE, verdicts.EXPIRED, verdicts.NOT_YET_VALID,
                           verdicts.UNREACHABLE, verdicts.MALFORMED, verdicts.UNKNOWN))

_REPLACE = "Replace the certificate now (new key, new certificate), deploy it and find out why it was revoked."
_REFETCH = ("Reload the server so that it fetches a fresh response, and check that it can reach the responder "
            "and has the issuer certificate.")
REMEDIES: Dict[str, str] = {
    REVOKED: _REPLACE,
    MUST_STAPLE_WITHOUT_OCSP: ("Reissue the certificate without the Must-Staple (TLS Feature) extension, or from "
                               "a CA that puts an OCSP URL into it: no server can staple it."),
    STALE_STAPLE: _REFETCH,
    verdicts.UNKNOWN: "Check that the OCSP responder serves this certificate's issuer (a new certificate can take "
                      "minutes to be known).",
    verdicts.NO_STAPLE: "Turn stapling on (playbook tlsops.ocsp.enable) and check that the server can reach the "
                        "OCSP responder (resolver, firewall, proxy).",
    verdicts.NOT_APPLICABLE: "Nothing to staple: the certificate names no OCSP responder.",
    verdicts.BAD_SIGNATURE: _REFETCH,
    verdicts.UNAUTHORIZED_SIGNER: "Serve the full chain (or give the audit the CA with ca_path) and reload the "
                                  "server so that it fetches a fresh response.",
    verdicts.WRONG_CERTIFICATE: _REFETCH,
    verdicts.EXPIRED: _REFETCH,
    verdicts.NOT_YET_VALID: "Check the clocks of the server and of the OCSP responder (NTP).",
    verdicts.RESPONDER_ERROR: "Check the OCSP responder: it answers with an error status.",
    verdicts.MALFORMED: "Check what the server serves: its certificate or staple cannot be read.",
    verdicts.UNREACHABLE: "Check that the endpoint is up and reachable from the controller (address, port, "
                          "firewall).",
    CERTIFICATE_EXPIRED: "Renew the certificate and deploy it now; find out why automatic renewal did not run.",
    CERTIFICATE_EXPIRING: "Renew the certificate now and check that automatic renewal works.",
    REVOCATION_UNKNOWN: "Check that the CRL distribution point is reachable from the host and that the CRL is "
                        "current and signed by the issuer.",
    lifetime.TOO_LONG: "Reissue the certificate with a lifetime within the maximum.",
    lifetime.NOT_RENEWABLE: "Set the CA or ACME client to the shorter lifetime and renew automatically.",
}


def revocation(entry: Entry) -> Tuple[Optional[str], Optional[str]]:
    """(revocation_status, revocation_source) of an entry.

    Newer roles fill both fields (stapling_report._with_revocation); for older entries they are derived by the same rule:
    a verified staple, else the responder asked from the host, else the CRL.
    """
    if "revocation_status" in entry or "revocation_source" in entry:
        return entry.get("revocation_status"), entry.get("revocation_source")
    if entry.get("stapled") and entry.get("verdict") in (verdicts.GOOD, verdicts.REVOKED):
        return entry["verdict"], "staple"
    if entry.get("responder_verdict") in STATUSES:
        return entry["responder_verdict"], "responder"
    if entry.get("crl_verdict") in (verdicts.GOOD, verdicts.REVOKED):
        return entry["crl_verdict"], "crl"
    return None, None


def _finding(severity: str, code: str, reason: str, remedy: Optional[str] = None) -> Finding:
    return {"severity": severity, "code": code, "reason": reason, "remedy": remedy or REMEDIES[code]}


def _without_ocsp_url(entry: Entry) -> bool:
    """The certificate names no OCSP responder (from the served certificate, else from the role's inspection)."""
    uris = entry.get("ocsp_uris")
    if isinstance(uris, list):
        return not uris
    return entry.get("verdict") == verdicts.NOT_APPLICABLE or entry.get("stapling_applicable") is False


def _revoked(entry: Entry, status: Optional[str], source: Optional[str]) -> Optional[Finding]:
    reason = entry.get("reason") or verdicts.sentence(verdicts.REVOKED)
    if verdicts.REVOKED in (entry.get("verdict"), entry.get("responder_verdict")):
        return _finding(verdicts.CRITICAL, REVOKED, reason)  # the staple's, or the role's naming the responder
    if entry.get("crl_verdict") == verdicts.REVOKED:
        return _finding(verdicts.CRITICAL, REVOKED, "the CRL lists the certificate as revoked: %s"
                        % (entry.get("crl_reason") or reason))
    if status == verdicts.REVOKED:
        return _finding(verdicts.CRITICAL, REVOKED, "revoked according to the %s: %s" % (source or "audit", reason))
    return None


def _staple(entry: Entry) -> Optional[Finding]:
    """The finding of the staple verdict itself, Must-Staple considered."""
    verdict = entry.get("verdict") or verdicts.MALFORMED
    must_staple = bool(entry.get("must_staple"))
    reason = entry.get("reason") or ""
    if must_staple and _without_ocsp_url(entry):
        why = ("the certificate demands a staple (Must-Staple) but names no OCSP responder, so it can never be "
               "stapled: clients that enforce Must-Staple refuse it")
        return _finding(verdicts.CRITICAL, MUST_STAPLE_WITHOUT_OCSP, "%s; %s" % (why, reason) if reason else why)
    if verdict == verdicts.EXPIRED and entry.get("stapled"):
        return _finding(verdicts.CRITICAL, STALE_STAPLE, reason or "the stapled response is past its nextUpdate")
    if verdict not in verdicts.ALL:
        return _finding(verdicts.WARNING, verdicts.MALFORMED, "unknown verdict %r: %s" % (verdict, reason))
    severity = verdicts.severity(verdict, must_staple)
    if severity == verdicts.OK or verdict == verdicts.REVOKED:
        return None
    # a diagnosed cause (the server's own evidence, confirmed from the host) says what to change
    remedy = entry.get("remedy") or REMEDIES[verdict]
    if must_staple:
        remedy = "Must-Staple: clients that enforce it refuse this endpoint until it staples a good response. " + remedy
    found = _finding(severity, verdict, reason or verdicts.sentence(verdict), remedy)
    if entry.get("cause"):
        found["cause"] = entry["cause"]
    return found


def _crl(entry: Entry, status: Optional[str]) -> Optional[Finding]:
    crl_verdict = entry.get("crl_verdict")
    if status is None and crl_verdict in _CRL_FAILURES:
        return _finding(verdicts.WARNING, REVOCATION_UNKNOWN, "the revocation status is unknown: the CRL check "
                        "says %s: %s" % (crl_verdict, entry.get("crl_reason") or verdicts.sentence(crl_verdict)))
    return None


def _expiry(entry: Entry, now: datetime.datetime) -> Optional[Finding]:
    expiry = lifetime.parse_time(entry.get("not_after"))
    if expiry is None:
        return None
    left = (expiry - now).total_seconds()
    if left <= 0:
        return _finding(verdicts.CRITICAL, CERTIFICATE_EXPIRED, "the certificate expired %s ago (%s): clients refuse "
                        "it" % (human_duration(left), entry["not_after"]))
    if left < EXPIRING_DAYS * 86400:
        return _finding(verdicts.WARNING, CERTIFICATE_EXPIRING, "the certificate expires in %s (%s)"
                        % (human_duration(left), entry["not_after"]))
    return None


def _lifetime(judgment: Optional[Dict[str, Any]]) -> Optional[Finding]:
    if judgment is None or judgment["verdict"] == lifetime.OK:
        return None
    return _finding(verdicts.WARNING, judgment["verdict"], judgment["reason"])


def findings(entry: Entry, now: Optional[datetime.datetime] = None) -> List[Finding]:
    """What is wrong with one endpoint entry at `now` (default: the current time), worst first; empty when nothing is."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    status, source = revocation(entry)
    found = [_revoked(entry, status, source), _expiry(entry, now), _staple(entry), _crl(entry, status),
             _lifetime(lifetime.judge(entry))]
    return sorted((f for f in found if f), key=_finding_rank)


def _finding_rank(item: Finding) -> Tuple[int, int]:
    return SEVERITY_ORDER[item["severity"]], CODE_ORDER.index(item["code"])


def classify(entry: Entry, now: Optional[datetime.datetime] = None) -> str:
    """OK, WARNING or CRITICAL: the worst finding's severity."""
    found = findings(entry, now)
    return found[0]["severity"] if found else verdicts.OK


def normalise(entry: Entry, now: datetime.datetime) -> Entry:
    """One report row from one role entry: derived columns added, nothing dropped."""
    row = dict(entry)
    row["endpoint"] = "%s:%s" % (entry.get("host", ""), entry.get("port", ""))
    uris = entry.get("ocsp_uris") or []
    row["ocsp"] = ", ".join(uris) if uris else (entry.get("stapling_reason") or entry.get("reason") or "")
    expiry = lifetime.parse_time(entry.get("not_after"))
    row["days_until_expiry"] = (expiry - now).days if expiry else None
    row["seconds_until_expiry"] = int((expiry - now).total_seconds()) if expiry else None
    row["revocation_status"], row["revocation_source"] = revocation(entry)
    row["lifetime"] = lifetime.judge(entry)
    row["findings"] = findings(entry, now)
    row["severity"] = row["findings"][0]["severity"] if row["findings"] else verdicts.OK
    return row


def identity(row: Entry) -> Tuple[str, str, str, str]:
    """What names one endpoint across audits: inventory host, server kind, address:port, server name."""
    return (str(row.get("inventory_host") or ""), str(row.get("server_kind") or ""),
            "%s:%s" % (row.get("host", ""), row.get("port", "")), str(row.get("server_name") or ""))


def _item(row: Entry, found: Finding) -> Finding:
    """A fix-first item: the finding with the endpoint it is about."""
    host, server, endpoint, server_name = identity(row)
    item = dict(found, inventory_host=host, server_kind=server, endpoint=endpoint, server_name=server_name)
    if found.get("cause") and row.get("evidence"):
        item["evidence"] = list(row["evidence"])  # the server's own lines, shown under the endpoint
    return item


def _item_key(item: Finding) -> Tuple[Any, ...]:
    return _finding_rank(item) + (item["inventory_host"], item["endpoint"], item["server_name"])


def fix_first(rows: Iterable[Entry]) -> List[Finding]:
    """Every finding with its endpoint: critical before warning, the worst kind first, then by host."""
    return sorted((_item(row, found) for row in rows for found in row["findings"]), key=_item_key)


def fix_first_groups(items: Sequence[Finding]) -> List[Tuple[Tuple[str, str], List[Finding]]]:
    """Items grouped by (severity, code), a missing staple also by its cause (`no_staple: trusted_without_root`),
    in the order of their first item (fix-first order)."""
    groups: Dict[Tuple[str, str], List[Finding]] = {}
    for item in items:
        code = "%s: %s" % (item["code"], item["cause"]) if item.get("cause") else item["code"]
        groups.setdefault((item["severity"], code), []).append(item)
    return list(groups.items())


UNREACHABLE, FAILED, UNREADABLE, NOT_RUN = "unreachable", "failed", "unreadable", "not_run"
COUNTED_TWICE = "counted_twice"  # a merged sliced audit's host that two slices audited
COVERAGE_STATES = ("audited", UNREACHABLE, FAILED, NOT_RUN)


def coverage(rows: Sequence[Entry], hosts_without_servers: Sequence[str], not_audited: Sequence[Dict[str, Any]],
             targeted: Sequence[str], counted_twice: Sequence[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """Which hosts were audited and which were not, with why: a host that could not be reached or whose audit
    failed, a server of an audited host that could not be read (its host's other servers are audited), and a
    targeted host the audit never reached (the play stopped before it, or its slice wrote no part); and, in a
    merged sliced audit, the hosts two slices audited (counted once)."""
    blind = {item["host"]: item for item in not_audited if item.get("state") in (UNREACHABLE, FAILED)}
    audited = sorted(({str(r.get("inventory_host")) for r in rows} | set(hosts_without_servers)) - set(blind))
    missed = [{"host": host, "state": NOT_RUN, "reason": "the audit did not run on it: the play ended before "
               "this host (a failed batch, any_errors_fatal), its slice wrote no part, or it was left out"}
              for host in targeted if host not in blind and host not in audited]
    hosts = sorted(list(blind.values()) + missed, key=lambda item: (item["state"], item["host"]))
    servers = sorted((item for item in not_audited if item.get("state") == UNREADABLE),
                     key=lambda item: (item["host"], item.get("server") or ""))
    counts = {state: sum(1 for item in hosts if item["state"] == state) for state in COVERAGE_STATES[1:]}
    return {"audited": audited, "not_audited": hosts, "unreadable_servers": servers,
            "counted_twice": [dict(item, state=COUNTED_TWICE) for item in counted_twice],
            "counts": dict({"audited": len(audited)}, **counts, unreadable_servers=len(servers))}


def coverage_line(item: Dict[str, Any]) -> str:
    """One line naming what could not be audited, and why."""
    if item["state"] == UNREADABLE:
        return "%s %s could not be read: %s" % (item["host"], item.get("server") or "server", item["reason"])
    if item["state"] == COUNTED_TWICE:
        return ("%s was audited by %d slices (%s) and is counted once, from the first: give each host to one slice"
                % (item["host"], len(item["parts"]), ", ".join(item["parts"])))
    return "%s could not be audited (%s): %s" % (item["host"], item["state"], item["reason"])


def build(entries: Iterable[Entry], hosts_without_servers: Sequence[str] = (),
          now: Optional[datetime.datetime] = None, previous: Optional[Dict[str, Any]] = None,
          not_audited: Sequence[Dict[str, Any]] = (), targeted: Sequence[str] = (),
          counted_twice: Sequence[Dict[str, Any]] = ()) -> Dict[str, Any]:
    """The report as data: rows sorted worst first, counts, the fix-first list, what could not be audited
    (coverage; each one critical: the audit is blind there) and, given the previous report's JSON, what is
    new and what was fixed since."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    rows = sorted((normalise(e, now) for e in entries),
                  key=lambda r: (SEVERITY_ORDER[r["severity"]], str(r.get("inventory_host")), r["endpoint"]))
    by_verdict: Dict[str, int] = {}
    for row in rows:
        by_verdict[row.get("verdict") or "none"] = by_verdict.get(row.get("verdict") or "none", 0) + 1
    items = fix_first(rows)
    from_hosts = [row for row in rows if row.get("checked_from") != OUTSIDE]  # outside: no host was audited
    covered = coverage(from_hosts, hosts_without_servers, not_audited, targeted, counted_twice)
    blind = [coverage_line(item) for item in covered["not_audited"] + covered["unreadable_servers"]]
    data: Dict[str, Any] = {
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": dict({
            "hosts": len({r.get("inventory_host") for r in from_hosts} | set(hosts_without_servers)
                         | {item["host"] for item in covered["not_audited"]}),
            "hosts_by_state": covered["counts"],
            "endpoints": len(rows),
            "outside_endpoints": len(rows) - len(from_hosts),
            "counted_twice": len(counted_twice),
            "by_verdict": dict(sorted(by_verdict.items())),
        }, **{severity: sum(1 for r in rows if r["severity"] == severity) for severity in SEVERITIES}),
        "coverage": covered,
        "critical": blind + [line(item) for item in items if item["severity"] == verdicts.CRITICAL],
        "fix_first": items,
        "hosts_without_servers": sorted(hosts_without_servers),
        "endpoints": rows,
    }
    data["since_last"] = since_last(previous, data, now) if previous else None
    return data


def by_host(rows: Iterable[Entry]) -> List[Tuple[str, List[Entry]]]:
    """Rows grouped by inventory host: the worst host first, then by name; rows keep their order."""
    groups: Dict[str, List[Entry]] = {}
    for row in rows:
        groups.setdefault(str(row.get("inventory_host") or ""), []).append(row)
    return sorted(groups.items(), key=lambda group: (
        min(SEVERITY_ORDER[row["severity"]] for row in group[1]), group[0]))


def severity_counts(rows: List[Entry]) -> List[Tuple[str, int]]:
    return [(severity, sum(1 for row in rows if row["severity"] == severity)) for severity in SEVERITIES]


def line(item: Finding) -> str:
    """One line naming the endpoint of a finding and what is wrong."""
    return "%s %s %s (%s): %s - %s" % (item["inventory_host"], item["server_kind"], item["endpoint"],
                                       item["server_name"] or "no SNI", item["code"], item["reason"])


def since_last(previous: Dict[str, Any], current: Dict[str, Any], now: datetime.datetime) -> Dict[str, Any]:
    """What changed since the previous report: new findings, fixed findings, endpoints gone and added.

    The previous findings are judged again from its endpoint entries with today's rules, so that a
    new rule does not show up as a change in the fleet. A finding on an endpoint that is no longer
    audited is not "fixed": the endpoint is listed as gone.
    """
    old_rows = [normalise(entry, now) for entry in previous.get("endpoints") or [] if isinstance(entry, dict)]
    old_items = {_key(item): item for item in fix_first(old_rows)}
    new_items = {_key(item): item for item in current["fix_first"]}
    old_ids = {identity(row) for row in old_rows}
    new_ids = {identity(row) for row in current["endpoints"]}
    return {
        "previous_generated_at": previous.get("generated_at"),
        "new": sorted((item for key, item in new_items.items() if key not in old_items), key=_item_key),
        "fixed": sorted((item for key, item in old_items.items() if key not in new_items and key[:4] in new_ids),
                        key=_item_key),
        "gone": [list(ident) for ident in sorted(old_ids - new_ids)],
        "added": [list(ident) for ident in sorted(new_ids - old_ids)],
    }


def _key(item: Finding) -> Tuple[str, str, str, str, str]:
    return item["inventory_host"], item["server_kind"], item["endpoint"], item["server_name"], item["code"]


def summary_line(report: Dict[str, Any]) -> str:
    s = report["summary"]
    verdict_counts = ", ".join("%s %d" % item for item in s["by_verdict"].items()) or "none"
    states = s.get("hosts_by_state") or {}
    blind = ", ".join("%d %s" % (count, state.replace("_", " ")) for state, count in states.items()
                      if state != "audited" and count)
    if s.get("counted_twice"):
        blind = ", ".join(filter(None, (blind, "%d counted twice" % s["counted_twice"])))
    outside = ", %d checked from outside" % s["outside_endpoints"] if s.get("outside_endpoints") else ""
    return "%d hosts%s, %d endpoints%s (%s); %d critical, %d warnings" % (
        s["hosts"], " (%s)" % blind if blind else "", s["endpoints"], outside, verdict_counts, s["critical"],
        s["warning"])


def human_duration(seconds: float) -> str:
    """A duration as people say it, rounded down: "45 s", "59 min", "5 h", "89 days" (sign dropped)."""
    seconds = abs(seconds)
    if seconds < 120:
        return "%d s" % seconds
    if seconds < 120 * 60:
        return "%d min" % (seconds // 60)
    if seconds < 48 * 3600:
        return "%d h" % (seconds // 3600)
    return "%d days" % (seconds // 86400)


def staple_freshness(row: Entry) -> str:
    """How long the stapled response stays valid, in words."""
    seconds = row.get("seconds_until_next_update")
    if not row.get("stapled"):
        return "no staple"
    if seconds is None:
        return "stapled"
    return "%s left" % human_duration(seconds) if seconds >= 0 else "expired %s ago" % human_duration(seconds)


def certificate_expiry(row: Entry) -> str:
    """When the certificate expires, in words."""
    seconds = row.get("seconds_until_expiry")
    if seconds is None:
        return ""
    return "in %s" % human_duration(seconds) if seconds >= 0 else "expired %s ago" % human_duration(seconds)


def revocation_text(row: Entry) -> str:
    status, source = row.get("revocation_status"), row.get("revocation_source")
    if not status:
        return "not known"
    return "%s (%s)" % (status, source) if source else status


def render_json(report: Dict[str, Any]) -> str:
    """The report indented, except that each item of a top-level list (an endpoint, a finding) is one line:
    as readable, and json's C encoder writes it (an indented encoding runs in Python, seconds at 10,000 rows)."""
    members = []
    for key in sorted(report):
        value = report[key]
        if isinstance(value, list) and value:
            text = "[\n%s\n  ]" % ",\n".join("    " + json.dumps(item, sort_keys=True) for item in value)
        else:
            text = json.dumps(value, indent=2, sort_keys=True).replace("\n", "\n  ")
        members.append("  %s: %s" % (json.dumps(key), text))
    return "{\n%s\n}\n" % ",\n".join(members)
