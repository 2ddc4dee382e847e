# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report every server role records: one fact entry per endpoint, a summary line each, and the failures.

Failure rules (the same for every server kind): a staple whose verdict is
`revoked`, or a Must-Staple certificate served without a `good` staple, fails
the host.

Revocation status (`_with_revocation`, in the order of `SOURCES`; the entry's fields are listed in
docs/architecture.md, "Roles: shared shape"): a verified staple (good or
revoked) is the source; else what the responder, asked from the host, answered (good,
revoked, unknown); else the CRL's verdict (good, revoked); else nothing is known.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

SERVER_KINDS = ("nginx", "apache", "haproxy", "iis")
# the server kind, check place and host of an endpoint checked from the controller, not from a host of its own
OUTSIDE = "outside"
SOURCES = (("staple", "verdict", ("good", "revoked")),
           ("responder", "responder_verdict", ("good", "revoked", "unknown")),
           ("crl", "crl_verdict", ("good", "revoked")))


def _endpoint(entry: Dict[str, Any]) -> str:
    return f"{entry['host']}:{entry['port']}"


def _summary_line(entry: Dict[str, Any]) -> str:
    sni = entry.get("server_name") or "no SNI"
    return f"{_endpoint(entry)} ({sni}) {entry['certificate_path']}: {entry['verdict']} - {entry['reason']}"


def _failure(entry: Dict[str, Any]) -> Optional[str]:
    verdict = entry.get("verdict")
    if verdict == "revoked":
        return f"{_endpoint(entry)} revoked: it staples a revoked response: {entry['reason']}"
    if entry.get("must_staple") and verdict != "good":
        return (f"{_endpoint(entry)} {verdict}: it serves the Must-Staple certificate {entry['certificate_path']} "
                f"without a good staple: {entry['reason']}")
    return None


def _with_responder(entry: Dict[str, Any], responder: Optional[Dict[str, Any]],
                    asked_from: str = "this host") -> Dict[str, Any]:
    """Say why nothing was stapled: what the responder tells the host itself (or the controller, from outside)."""
    if not responder or responder.get("skipped"):
        return entry
    verdict = responder.get("verdict") or "unchecked"
    said = responder.get("reason") or responder.get("msg") or "no answer"
    return dict(entry, responder_verdict=verdict, responder_reason=said,
                reason=f"{entry['reason']}; asked from {asked_from}, the OCSP responder says {verdict}: {said}")


def _with_diagnosis(entry: Dict[str, Any], diagnosis: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """Why nothing was stapled, from the server's own evidence and the engine (module_utils/_servers/diagnosis.py):
    the cause and its remedy replace the generic advice."""
    if not diagnosis or not diagnosis.get("cause") or entry.get("verdict") != "no_staple":
        return entry  # a fresh fetch after the diagnosis may have brought the staple
    return dict(entry, cause=diagnosis["cause"], cause_sentence=diagnosis["sentence"], remedy=diagnosis["remedy"],
                evidence=list(diagnosis.get("evidence") or []), fetch_due=bool(diagnosis.get("fetch_due")),
                reason=f"nothing stapled ({diagnosis['cause']}): {diagnosis['sentence']}; {diagnosis['remedy']}")


def _with_crl(entry: Dict[str, Any], crl: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """What the certificate's CRL says, where it was asked (no OCSP URL, or OCSP failed)."""
    if not crl or crl.get("skipped") or not crl.get("verdict"):
        return entry
    return dict(entry, crl_verdict=crl["verdict"], crl_reason=crl.get("reason") or crl.get("msg") or "")


def _with_revocation(entry: Dict[str, Any]) -> Dict[str, Any]:
    for source, key, answers in SOURCES:
        if entry.get(key) in answers:
            return dict(entry, revocation_status=entry[key], revocation_source=source)
    return dict(entry, revocation_status=None, revocation_source=None)


def _entry(endpoint: Dict[str, Any], staple: Dict[str, Any], server_kind: str, changed: bool) -> Dict[str, Any]:
    # an endpoint that could not be reached has served no certificate: Must-Staple comes from the plan
    must_staple = staple.get("must_staple")
    if must_staple is None:
        must_staple = endpoint.get("must_staple")
    entry = dict(staple, must_staple=must_staple, server_kind=server_kind,
                 certificate_path=endpoint["certificate_path"],
                 stapling_applicable=endpoint["stapling_applicable"],
                 stapling_reason=endpoint["stapling_reason"], changed=changed,
                 configured_by=endpoint.get("configured_by"),
                 not_before=staple.get("not_before") or endpoint.get("not_before"))
    if endpoint.get("note"):
        entry["note"] = endpoint["note"]
    if entry["configured_by"] == "user" and not entry["stapling_applicable"] and "reason" in entry:
        # the user's own line turns stapling on where it cannot apply: say so, with the remedy
        entry["reason"] = f"{entry['reason']}; {entry['stapling_reason']}"
    return entry


def _aligned(results: Optional[List[Dict[str, Any]]], count: int) -> List[Dict[str, Any]]:
    return list(results or []) + [{}] * (count - len(results or []))


def stapling_report(endpoints: List[Dict[str, Any]], staples: List[Dict[str, Any]], changed: bool,
                    server_kind: str, responders: Optional[List[Dict[str, Any]]] = None,
                    crls: Optional[List[Dict[str, Any]]] = None,
                    diagnoses: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    """Fact entries (staple_info's entry plus where it came from), summary lines and failure messages.

    `endpoints` are the planned endpoints (certificate_path, stapling_applicable, stapling_reason and,
    where known, the certificate's must_staple), `staples` staple_info's entries in the same order, and
    `responders` responder_info results in that order too (skipped where a staple came), and `crls`
    crl_info results of a loop over certificate paths (each result's `item`): endpoints sharing a
    certificate share its CRL answer, asked once; `diagnoses` the check's causes in the endpoints' order.
    """
    if server_kind not in SERVER_KINDS:
        raise ValueError(f"server_kind must be one of {', '.join(SERVER_KINDS)}, not {server_kind!r}")
    crl_by_path = {result.get("item"): result for result in crls or []}
    entries = [_with_revocation(_with_crl(_with_diagnosis(
        _with_responder(_entry(endpoint, staple, server_kind, changed), answer), diagnosis),
        crl_by_path.get(endpoint["certificate_path"])))
        for endpoint, staple, answer, diagnosis in zip(endpoints, staples, _aligned(responders, len(endpoints)),
                                                       _aligned(diagnoses, len(endpoints)))]
    failures = [message for message in map(_failure, entries) if message]
    return {"endpoints": entries, "summary": [_summary_line(entry) for entry in entries], "failures": failures}


def outside_entries(staples: List[Dict[str, Any]], responders: List[Dict[str, Any]], crls: List[Dict[str, Any]],
                    names: Optional[List[Optional[str]]] = None) -> List[Dict[str, Any]]:
    """Fact entries of endpoints checked from outside (stapling_check.check_outside, its results aligned): no
    host was logged in to and no file read, so `server_kind`, `checked_from` and, unless `names` gives the
    endpoint's inventory name, `inventory_host` say OUTSIDE; revocation comes from the staple, else the
    responder or the CRL asked from the controller."""
    names = names or [None] * len(staples)
    return [_with_revocation(_with_crl(_with_responder(_outside_entry(staple, name), answer, "the controller"), crl))
            for staple, answer, crl, name in zip(staples, responders, crls, names)]


def _outside_entry(staple: Dict[str, Any], name: Optional[str]) -> Dict[str, Any]:
    served = staple.get("ocsp_uris") is not None  # nothing is known of an endpoint that could not be reached
    return dict(staple, server_kind=OUTSIDE, checked_from=OUTSIDE, inventory_host=name or OUTSIDE,
                certificate_path=None, stapling_applicable=bool(staple.get("ocsp_uris")) if served else None,
                stapling_reason=None, changed=False, configured_by=None)


def host_summary(host: str, servers: List[str], endpoints: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The stapling role's summary of one host: its servers, endpoint count, verdict counts, whether it changed."""
    verdicts: Dict[str, int] = {}
    for entry in endpoints:
        verdicts[entry["verdict"]] = verdicts.get(entry["verdict"], 0) + 1
    return {"host": host, "servers": list(servers), "endpoints": len(endpoints),
            "verdicts": dict(sorted(verdicts.items())), "changed": any(entry.get("changed") for entry in endpoints)}


def host_summary_line(summary: Dict[str, Any]) -> str:
    """One line a person reads: `web1: nginx; 4 endpoints (good 3, no_ocsp_url 1); configuration unchanged`."""
    verdicts = ", ".join(f"{verdict} {count}" for verdict, count in summary["verdicts"].items()) or "none"
    return (f"{summary['host']}: {', '.join(summary['servers']) or 'no web server'}; {summary['endpoints']} endpoints "
            f"({verdicts}); configuration {'changed' if summary['changed'] else 'unchanged'}")
