# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check live TLS endpoints: handshake, then verify what they staple.

One entry per endpoint, in the shape `staple_info` returns. The staple is
verified against the leaf's issuer, found in the served chain or in the
caller's `ca_certs`. Servers that staple lazily (nginx fetches per worker,
after the first handshakes) are covered by `retries`.

`check_endpoints` runs every check on one event loop (`tls.run_all`). Within
one call, what does not depend on the endpoint is worked out once: the facts
of a served certificate, the issuer found for a served chain, and the
time-independent part of a staple's verification, each reused only for
byte-identical inputs (the same staple bytes against the same certificate and
issuer); the time-dependent rules (freshness, a delegate's validity) are
applied for every endpoint at its own time.
"""
from __future__ import annotations

import datetime
import functools
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import forked
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import tls
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts

try:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
except ImportError:
    pass  # the modules fail with missing_required_lib first

# Verdicts that may change on a later handshake; every other verdict is final.
_RETRYABLE = frozenset((verdicts.NO_STAPLE, verdicts.UNREACHABLE))

_LEAF_FIELDS = ("must_staple", "ocsp_uris", "serial_number", "subject", "issuer", "not_after", "lifetime_days")
_RESPONSE_FIELDS = ("verdict", "reason", "cert_status", "this_update", "next_update", "seconds_until_next_update")

# where a `keep_served` check keeps the DER of the served leaf and its issuer (`take_served` takes them)
SERVED = "_served"

# Each running check holds a socket: this cap keeps a batch well inside the
# common 1024 file-descriptor limit whatever `workers` asks for.
MAX_WORKERS = 256

# server-neutral: the roles' reports replace it with the cause their server's diagnosis gives
_NO_STAPLE_ADVICE = ("check that stapling is on for this endpoint and that the server can reach the OCSP "
                     "responder (a server that fetches on demand staples only after a first handshake: retry)")


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
    return tls.run(_check_steps(host, port, server_name, ca_certs, retries, retry_delay, timeout, at, tls_version,
                                Verifier()))


def check_endpoints(endpoints: Sequence[Dict[str, Any]], workers: int = 64, processes: Optional[int] = None,
                    **common: Any) -> List[Dict[str, Any]]:
    """check_endpoint for each endpoint dict (host, port, server_name...), concurrently, in input order.

    Keys of an endpoint override `common`. At most `workers` (capped at
    MAX_WORKERS) checks run at once per process, which also bounds the sockets
    held open; a check waiting `retry_delay` before its next attempt lets
    another run. A long list is shared among `processes` forked processes
    (default: one per usable CPU, none with fewer than forked.MIN_SHARE
    endpoints): the handshakes cost CPU, and one event loop uses one core.
    """
    if processes is None:
        processes = forked.process_count(len(endpoints), forked.usable_cpus())
    check_share = functools.partial(_check_share, workers=min(workers, MAX_WORKERS), common=common)
    return forked.spread(check_share, endpoints, processes)


def _check_share(endpoints: List[Dict[str, Any]], workers: int, common: Dict[str, Any]) -> List[Dict[str, Any]]:
    verifier = Verifier()
    checks = [_check_steps(verifier=verifier, **dict(common, **endpoint)) for endpoint in endpoints]
    return tls.run_all(checks, workers)


class Verifier:
    """The work one batch of checks can share: reused only for byte-identical inputs.

    - the facts of a served leaf, by its DER;
    - the issuer of a served chain among its certificates and the CA
      certificates given, by the chain's DER and those certificates;
    - the time-independent verification of a staple (ocsp.check_response),
      by the staple's bytes and the DER of the leaf and the issuer.
    """

    def __init__(self) -> None:
        self._facts: Dict[bytes, Union[Dict[str, Any], certificates.CertificateError]] = {}
        self._issuers: Dict[Tuple[Tuple[bytes, ...], Tuple[bytes, ...]], Optional[Tuple[x509.Certificate, bytes]]] = {}
        self._checked: Dict[Tuple[bytes, bytes, bytes], ocsp.CheckedResponse] = {}
        self._ca_ders: Dict[int, Tuple[Sequence[x509.Certificate], Tuple[bytes, ...]]] = {}

    def facts(self, leaf: x509.Certificate, leaf_der: bytes) -> Dict[str, Any]:
        """certificate_facts of the leaf (CertificateError when a field cannot be parsed)."""
        if leaf_der not in self._facts:
            try:
                self._facts[leaf_der] = certificates.certificate_facts(leaf)
            except certificates.CertificateError as error:
                self._facts[leaf_der] = error
        found = self._facts[leaf_der]
        if isinstance(found, certificates.CertificateError):
            raise found
        return found

    def issuer(self, chain: Sequence[x509.Certificate], chain_der: Tuple[bytes, ...],
               ca_certs: Sequence[x509.Certificate]) -> Optional[Tuple[x509.Certificate, bytes]]:
        """The leaf's issuer among the rest of the chain, then `ca_certs`, with its DER; None when absent."""
        key = (chain_der, self._ca_der(ca_certs))
        if key not in self._issuers:
            candidates = list(chain[1:]) + list(ca_certs)
            issuer = certificates.find_issuer(chain[0], candidates)
            self._issuers[key] = None if issuer is None else (issuer, _der(issuer))
        return self._issuers[key]

    def verify(self, stapled: bytes, leaf: x509.Certificate, leaf_der: bytes, issuer: x509.Certificate,
               issuer_der: bytes, at: Optional[datetime.datetime]) -> Dict[str, Any]:
        """ocsp.verify_response of the staple at `at`; the time-independent part comes from the cache."""
        key = (stapled, leaf_der, issuer_der)
        if key not in self._checked:
            self._checked[key] = ocsp.check_response(stapled, leaf, issuer)
        return ocsp.judge_checked(self._checked[key], at=at)

    def _ca_der(self, ca_certs: Sequence[x509.Certificate]) -> Tuple[bytes, ...]:
        # by identity: the same list usually serves every endpoint (kept referenced, so ids stay unique)
        if id(ca_certs) not in self._ca_ders:
            self._ca_ders[id(ca_certs)] = (ca_certs, tuple(_der(cert) for cert in ca_certs))
        return self._ca_ders[id(ca_certs)][1]


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def _check_steps(
    host: str,
    port: int,
    server_name: Optional[str] = None,
    ca_certs: Sequence[x509.Certificate] = (),
    retries: int = 0,
    retry_delay: float = 1.0,
    timeout: float = 10.0,
    at: Optional[datetime.datetime] = None,
    tls_version: Optional[str] = None,
    verifier: Optional[Verifier] = None,
    keep_served: bool = False,
) -> tls.Steps[Dict[str, Any]]:
    """check_endpoint as steps for tls.run / tls.run_all; `keep_served` adds SERVED (see `take_served`)."""
    verifier = verifier or Verifier()
    attempts = 0
    while True:
        attempts += 1
        entry = yield from _attempt(host, port, server_name, ca_certs, timeout, at, tls_version, verifier, keep_served)
        if entry["verdict"] not in _RETRYABLE or attempts > retries:
            entry["attempts"] = attempts
            return entry
        yield tls.Pause(time.monotonic() + retry_delay)


def _blank_entry(host: str, port: int, server_name: Optional[str]) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"host": host, "port": port, "server_name": server_name, "protocol": None,
                             "stapled": False}
    entry.update(dict.fromkeys(_RESPONSE_FIELDS + _LEAF_FIELDS))
    return entry


def _attempt(
    host: str,
    port: int,
    server_name: Optional[str],
    ca_certs: Sequence[x509.Certificate],
    timeout: float,
    at: Optional[datetime.datetime],
    tls_version: Optional[str],
    verifier: Verifier,
    keep_served: bool = False,
) -> tls.Steps[Dict[str, Any]]:
    entry = _blank_entry(host, port, server_name)
    try:
        served = yield from tls.handshake_steps(host, port, server_name, timeout, tls_version, tls_version)
    except tls.TlsError as error:
        entry.update(verdict=error.verdict, reason=error.reason)
        return entry
    entry.update(protocol=served.protocol, stapled=served.stapled is not None)
    endpoint = tls.endpoint_name(host, port, server_name)
    chain_der = tuple(_der(cert) for cert in served.chain)
    try:
        facts = verifier.facts(served.chain[0], chain_der[0])
    except certificates.CertificateError as error:
        entry.update(verdict=verdicts.MALFORMED, reason="%s: the served certificate: %s" % (endpoint, error))
        return entry
    entry.update((key, _copy(facts[key])) for key in _LEAF_FIELDS)
    entry.update(_judge(served, chain_der, facts, ca_certs, at, endpoint, verifier))
    if keep_served:  # DER: it crosses from a worker process
        found = verifier.issuer(served.chain, chain_der, ca_certs)
        entry[SERVED] = (chain_der[0], found[1] if found else None)
    return entry


def take_served(entry: Dict[str, Any]) -> Tuple[Optional[bytes], Optional[bytes]]:
    """Take the DER of the leaf and of its issuer (None where not found) a `keep_served` check kept off its
    entry ((None, None) when nothing was served), so that the entry is plain data again."""
    return entry.pop(SERVED, (None, None))


def _copy(value: Any) -> Any:
    """Entries share no mutable value (facts come from a cache)."""
    return list(value) if isinstance(value, list) else value


def _judge(
    served: tls.Handshake,
    chain_der: Tuple[bytes, ...],
    facts: Dict[str, Any],
    ca_certs: Sequence[x509.Certificate],
    at: Optional[datetime.datetime],
    endpoint: str,
    verifier: Verifier,
) -> Dict[str, Any]:
    """Verdict, reason and response fields for what the endpoint served."""
    subject = facts["subject"]
    if not facts["ocsp_uris"]:
        return _verdict(verdicts.NOT_APPLICABLE, "%s: the served certificate %s has %s"
                        % (endpoint, subject, certificates.NO_OCSP_REASON))
    if served.stapled is None:
        return _verdict(verdicts.NO_STAPLE, "%s: the server sent no OCSP response for %s; %s"
                        % (endpoint, subject, _NO_STAPLE_ADVICE))
    found = verifier.issuer(served.chain, chain_der, ca_certs)
    if found is None:
        return _verdict(verdicts.UNAUTHORIZED_SIGNER, _missing_issuer_reason(endpoint, facts, bool(ca_certs)))
    issuer, issuer_der = found
    result = verifier.verify(served.stapled, served.chain[0], chain_der[0], issuer, issuer_der, at)
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
