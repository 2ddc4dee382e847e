# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check live TLS endpoints: handshake, then verify what they staple.

One entry per endpoint, in the shape `staple_info` returns. The staple is
verified against the leaf's issuer, found in the served chain or in the
caller's `ca_certs`. Servers that staple lazily (nginx fetches per worker,
after the first handshakes) are covered by `retries`.
"""
from __future__ import annotations

import datetime
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.tlsops.ocsp.plugins.module_utils import certificates, ocsp, tls, verdicts

try:
    from cryptography import x509
except ImportError:
    pass  # only annotations use it here; the modules fail with missing_required_lib first

# Verdicts that may change on a later handshake; every other verdict is final.
_RETRYABLE = frozenset((verdicts.NO_STAPLE, verdicts.UNREACHABLE))

_LEAF_FIELDS = ("must_staple", "ocsp_uris", "serial_number", "subject", "issuer", "not_after", "lifetime_days")
_RESPONSE_FIELDS = ("verdict", "reason", "cert_status", "this_update", "next_update", "seconds_until_next_update")

# Each running check holds a socket and a selector: this cap keeps a batch well
# inside the common 1024 file-descriptor limit whatever `workers` asks for.
MAX_WORKERS = 256

_NO_STAPLE_ADVICE = ("check that stapling is on for this server block and that the server can reach "
                     "the OCSP responder (nginx staples only after a worker has fetched: retry)")


def check_endpoint(
    host: str,
    port: int,
    server_name: Optional[str] = None,
    ca_certs: Sequence[x509.Certificate] = (),
    retries: int = 0,
    retry_delay: float = 1.0,
    timeout: float = 10.0,
    at: Optional[datetime.datetime] = None,
    tls_version: Optional[str] = None,
) -> Dict[str, Any]:
    """Handshake with host:port and verify its staple; retry while nothing (valid) can be judged.

    `tls_version` ("TLSv1.2" or "TLSv1.3") pins the protocol; `at` is the
    verification time (default: now, at each attempt). Never raises for a bad
    endpoint: the entry's verdict and reason say what went wrong.
    """
    attempts = 0
    while True:
        attempts += 1
        entry = _check_once(host, port, server_name, ca_certs, timeout, at, tls_version)
        if entry["verdict"] not in _RETRYABLE or attempts > retries:
            entry["attempts"] = attempts
            return entry
        time.sleep(retry_delay)


def check_endpoints(endpoints: Sequence[Dict[str, Any]], workers: int = 64, **common: Any) -> List[Dict[str, Any]]:
    """check_endpoint for each endpoint dict (host, port, server_name...), concurrently, in input order.

    Keys of an endpoint override `common`. At most `workers` (capped at
    MAX_WORKERS) handshakes run at once, which also bounds the sockets held open.
    """
    if not endpoints:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(workers, MAX_WORKERS, len(endpoints)))) as pool:
        return list(pool.map(lambda endpoint: check_endpoint(**dict(common, **endpoint)), endpoints))


def _blank_entry(host: str, port: int, server_name: Optional[str]) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"host": host, "port": port, "server_name": server_name, "protocol": None,
                             "stapled": False}
    entry.update(dict.fromkeys(_RESPONSE_FIELDS + _LEAF_FIELDS))
    return entry


def _check_once(
    host: str,
    port: int,
    server_name: Optional[str],
    ca_certs: Sequence[x509.Certificate],
    timeout: float,
    at: Optional[datetime.datetime],
    tls_version: Optional[str],
) -> Dict[str, Any]:
    entry = _blank_entry(host, port, server_name)
    try:
        served = tls.handshake(host, port, server_name, timeout, tls_version, tls_version)
    except tls.TlsError as error:
        entry.update(verdict=error.verdict, reason=error.reason)
        return entry
    entry.update(protocol=served.protocol, stapled=served.stapled is not None)
    endpoint = tls.endpoint_name(host, port, server_name)
    leaf = served.chain[0]
    try:
        facts = certificates.certificate_facts(leaf)
    except certificates.CertificateError as error:
        entry.update(verdict=verdicts.MALFORMED, reason="%s: the served certificate: %s" % (endpoint, error))
        return entry
    entry.update((key, facts[key]) for key in _LEAF_FIELDS)
    entry.update(_judge(served, leaf, facts, ca_certs, at, endpoint))
    return entry


def _judge(
    served: tls.Handshake,
    leaf: x509.Certificate,
    facts: Dict[str, Any],
    ca_certs: Sequence[x509.Certificate],
    at: Optional[datetime.datetime],
    endpoint: str,
) -> Dict[str, Any]:
    """Verdict, reason and response fields for what the endpoint served."""
    subject = facts["subject"]
    if not facts["ocsp_uris"]:
        return _verdict(verdicts.NOT_APPLICABLE, "%s: the served certificate %s has %s"
                        % (endpoint, subject, certificates.NO_OCSP_REASON))
    if served.stapled is None:
        return _verdict(verdicts.NO_STAPLE, "%s: the server sent no OCSP response for %s; %s"
                        % (endpoint, subject, _NO_STAPLE_ADVICE))
    issuer = certificates.find_issuer(leaf, list(served.chain[1:]) + list(ca_certs))
    if issuer is None:
        return _verdict(verdicts.UNAUTHORIZED_SIGNER, _missing_issuer_reason(endpoint, facts, bool(ca_certs)))
    result = ocsp.verify_response(served.stapled, leaf, issuer, at=at)
    fields = {key: result.get(key) for key in _RESPONSE_FIELDS}
    fields["reason"] = "%s: %s" % (endpoint, result["reason"])
    return fields


def _verdict(verdict: str, reason: str) -> Dict[str, Any]:
    return {"verdict": verdict, "reason": reason}


def _missing_issuer_reason(endpoint: str, facts: Dict[str, Any], had_ca_certs: bool) -> str:
    searched = "the served chain or the given CA certificates" if had_ca_certs else "the served chain"
    return ("%s: cannot verify the staple: the issuer of %s (%s) is not in %s; serve the full chain "
            "(leaf then intermediates) or pass the issuer in ca_path"
            % (endpoint, facts["subject"], facts["issuer"], searched))
