# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Endpoint entries as the server roles record them, for the fleet report's tests.

`synthetic(1000)` is a fleet whose counts are known by construction
(SYNTHETIC_COUNTS); `realistic()` is a small fleet with the cases an operator
meets: nginx, Apache and HAProxy, entries from older roles without the
revocation fields, a CRL-only certificate, Must-Staple without OCSP URL, a
revoked certificate, a long-lived certificate, and a hostile server name.
"""
from __future__ import annotations

import datetime
from typing import Any, Dict, List

NOW = datetime.datetime(2026, 12, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
HOSTILE_NAME = '"><img src=x onerror="document.title=\'pwned\'"></details><script>document.title=\'pwned\'</script>'


def iso(when: datetime.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def entry(inventory_host: str, port: int, server_name: str, verdict: str = "good", now: datetime.datetime = NOW,
          **extra: Any) -> Dict[str, Any]:
    """A staple_info entry plus the fields the roles add (stapling_report.stapling_report), for a 90-day certificate issued 10 days before now."""
    not_before = now - datetime.timedelta(days=10)
    stapled = verdict not in ("no_staple", "not_applicable", "unreachable")
    base: Dict[str, Any] = {
        "inventory_host": inventory_host, "server_kind": "nginx", "host": "192.0.2.%d" % (port % 250),
        "port": port, "server_name": server_name, "protocol": "TLSv1.3", "stapled": stapled,
        "verdict": verdict, "reason": "%s:%d (%s): %s" % ("192.0.2.%d" % (port % 250), port, server_name, verdict),
        "cert_status": verdict if verdict in ("good", "revoked") else None,
        "this_update": iso(now - datetime.timedelta(hours=2)) if stapled else None,
        "next_update": iso(now + datetime.timedelta(hours=70)) if stapled else None,
        "seconds_until_next_update": 70 * 3600 if stapled else None,
        "must_staple": False, "ocsp_uris": ["http://ocsp.example.test"],
        "serial_number": port * 7919, "subject": "CN=%s" % server_name, "issuer": "CN=Example Issuing CA",
        "not_before": iso(not_before), "not_after": iso(not_before + datetime.timedelta(days=90, seconds=-1)),
        "lifetime_days": 90, "certificate_path": "/etc/ssl/%s.pem" % port, "stapling_applicable": True,
        "stapling_reason": "OCSP responder http://ocsp.example.test", "changed": False,
        "configured_by": "role", "revocation_status": verdict if stapled and verdict in ("good", "revoked") else None,
        "revocation_source": "staple" if stapled and verdict in ("good", "revoked") else None,
    }
    base.update(extra)
    return base


def _crl_only(status: str) -> Dict[str, Any]:
    return {"verdict": "not_applicable", "stapled": False, "ocsp_uris": [], "stapling_applicable": False,
            "stapling_reason": "the certificate names no OCSP responder URL", "seconds_until_next_update": None,
            "crl_verdict": status, "crl_reason": "the CRL http://crl.example.test/ca.crl says %s" % status,
            "revocation_status": status, "revocation_source": "crl", "this_update": None, "next_update": None}


# critical: 10 revoked staples + 10 Must-Staple without staple + 10 expired certificates + 20 revoked by CRL;
# warning: 100 without staple + 10 certificates about to expire + 5 that cannot be renewed as they are.
SYNTHETIC_COUNTS = {"critical": 50, "warning": 115, "ok": 835, "endpoints": 1000, "hosts": 250}


def synthetic(count: int = 1000) -> List[Dict[str, Any]]:
    """`count` endpoints on count/4 hosts (web-000 ...), four per host, with counts known by construction."""
    entries = []
    for i in range(count):
        host, name, port = "web-%03d" % (i // 4), "site%d.example.test" % i, 8000 + i
        # 90-day certificates expiring across the chart's bins (14 to 89 days), except those expiring on purpose
        not_after = NOW + datetime.timedelta(days={2: -3, 4: 5}.get(i % 100, (i * 7) % 76 + 14))
        dates = {"not_after": iso(not_after), "not_before": iso(not_after - datetime.timedelta(days=90, seconds=-1))}
        if i % 100 == 0:
            item = entry(host, port, name, "revoked", **dates)
        elif i % 100 == 1:
            item = entry(host, port, name, "no_staple", must_staple=True, **dates)
        elif i % 50 == 7:
            item = entry(host, port, name, **dict(_crl_only("revoked"), **dates))
        elif i % 10 == 3:
            item = entry(host, port, name, "no_staple", **dates)
        elif i % 25 == 5:
            item = entry(host, port, name, **dict(_crl_only("good"), **dates))
        elif i % 200 == 9:
            issued = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)
            item = entry(host, port, name, not_before=iso(issued), lifetime_days=150,
                         not_after=iso(issued + datetime.timedelta(days=150, seconds=-1)))
        else:
            item = entry(host, port, name, seconds_until_next_update=(i % 168) * 3600 + 60, **dates)
        item["server_kind"] = ("nginx", "apache", "haproxy")[i % 3]
        entries.append(item)
    return entries


def realistic(now: datetime.datetime = NOW) -> List[Dict[str, Any]]:
    """A small fleet of three hosts as the roles of this and older releases record it, audited at `now`."""
    def at(inventory_host: str, port: int, server_name: str, verdict: str = "good", **extra: Any) -> Dict[str, Any]:
        return entry(inventory_host, port, server_name, verdict, now=now, **extra)

    older = at("web1.example.test", 443, "shop.example.test", "no_staple")
    for key in ("revocation_status", "revocation_source", "configured_by", "not_before"):
        del older[key]  # an older role: no revocation fields, no not_before
    older["responder_verdict"] = "good"
    issued = now - datetime.timedelta(days=365)  # before 2026-03-15 when now is 2026-12-01
    return [
        at("web1.example.test", 443, "www.example.test"),
        older,
        at("web1.example.test", 8443, "api.example.test", server_kind="apache",
           seconds_until_next_update=59 * 60, next_update=iso(now + datetime.timedelta(minutes=59))),
        at("web2.example.test", 443, "le.example.test", **_crl_only("good")),
        at("web2.example.test", 443, "old.example.test", "revoked", server_kind="apache",
           revocation_status="revoked", revocation_source="staple"),
        at("lb1.example.test", 443, "must-staple.example.test", server_kind="haproxy", must_staple=True,
           **_crl_only("good")),
        at("lb1.example.test", 8443, HOSTILE_NAME, server_kind="haproxy", not_before=iso(issued),
           not_after=iso(issued + datetime.timedelta(days=396, seconds=-1)), lifetime_days=396),
    ]
