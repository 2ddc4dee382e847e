# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The check phase of a stapling plan in one call, on the host.

Handshakes with every planned endpoint and verifies its staple (staple_info),
asks the OCSP responder from the host where an endpoint that should staple
staples nothing, to say why (responder_info), and asks the CRL once per
certificate without an OCSP URL (crl_info). The results have the shapes the
roles' check phase registers, so stapling_report reads both alike.

The enable's check (stapling_check_info) and the audit's one read-only call per
server (the discovery modules' ``check`` option) run this; the HTTP transports
are given, so this file needs no Ansible.

`check_outside` does the same for endpoints known only by what they serve (load
balancers, appliances, CDN edges: no host to log in to, no certificate file):
the served certificate and chain stand for the files, and the responder and CRL
are asked from where the check runs (the controller).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import crl
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import staple
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts

# where the responder is asked: the server staples nothing, or the handshake failed
UNSTAPLED = (verdicts.NO_STAPLE, verdicts.UNREACHABLE)
ENDPOINT_KEYS = ("host", "port", "server_name")


# (planned endpoints, their staple_info entries, fetch, timeout) -> one diagnosis each (`skipped` where none)
Diagnose = Callable[[List[Mapping[str, Any]], List[Dict[str, Any]], ocsp.HttpFetch, float], List[Dict[str, Any]]]


def check_planned(planned: List[Mapping[str, Any]], fetch: ocsp.HttpFetch, download: crl.Download, retries: int = 0,
                  retry_delay: float = 1.0, timeout: float = 10.0,
                  diagnose: Optional[Diagnose] = None) -> Dict[str, List[Dict[str, Any]]]:
    """Check the plan's endpoints: `endpoints` (staple_info's entries, in the plan's order), `responders` (one
    per endpoint; `skipped` where nothing was asked), `crls` (one per certificate without OCSP URL, its
    path in `item`) and `diagnoses` (why an endpoint that should staple staples nothing, from `diagnose`:
    the servers' layer reads their evidence)."""
    if not planned:
        return {"endpoints": [], "responders": [], "crls": [], "diagnoses": []}
    checks = [{key: endpoint[key] for key in ENDPOINT_KEYS} for endpoint in planned]
    staples = staple.check_endpoints(checks, retries=retries, retry_delay=retry_delay, timeout=timeout)
    responders = [_responder(endpoint, checked, fetch, timeout) for endpoint, checked in zip(planned, staples)]
    without_ocsp = dict.fromkeys(endpoint["certificate_path"] for endpoint in planned
                                 if not endpoint["stapling_applicable"])
    cache: Dict[str, Any] = {}  # a CRL shared by several certificates is downloaded once
    crls = [dict(_crl(path, download, timeout, cache), item=path) for path in without_ocsp]
    diagnoses = diagnose(planned, staples, fetch, timeout) if diagnose else [{"skipped": True}] * len(planned)
    return {"endpoints": staples, "responders": responders, "crls": crls, "diagnoses": diagnoses}


def check_outside(endpoints: List[Mapping[str, Any]], fetch: ocsp.HttpFetch, download: crl.Download,
                  ca_certs: Sequence[Any] = (), retries: int = 0, retry_delay: float = 1.0, timeout: float = 10.0,
                  tls_version: Optional[str] = None) -> Dict[str, List[Dict[str, Any]]]:
    """Check endpoints (host, port, server_name) from outside: `endpoints` (staple_info's entries), and aligned
    with them `responders` (where nothing was stapled, the served certificate's responder asked from here) and
    `crls` (where it names no OCSP URL, its CRL); `skipped` where nothing was asked. A certificate served at
    several endpoints is asked about once."""
    checks = [{key: endpoint[key] for key in ENDPOINT_KEYS} for endpoint in endpoints]
    staples = staple.check_endpoints(checks, ca_certs=ca_certs, retries=retries, retry_delay=retry_delay,
                                     timeout=timeout, tls_version=tls_version, keep_served=True)
    asked: Dict[Tuple[str, bytes], Dict[str, Any]] = {}
    crl_cache: Dict[str, Any] = {}
    responders, crls = [], []
    for checked in staples:
        leaf_der, issuer_der = staple.take_served(checked)
        ask = _outside_question(checked, leaf_der)
        if ask is None:
            responders.append({"skipped": True})
            crls.append({"skipped": True})
            continue
        key = (ask, leaf_der)
        if key not in asked:  # the certificates are loaded only here: most endpoints staple, and ask nothing
            asked[key] = _ask_outside(ask, checked, leaf_der, issuer_der, fetch, download, timeout, crl_cache)
        responders.append(asked[key] if ask == "responder" else {"skipped": True})
        crls.append(asked[key] if ask == "crl" else {"skipped": True})
    return {"endpoints": staples, "responders": responders, "crls": crls}


def _outside_question(checked: Mapping[str, Any], leaf_der: Optional[bytes]) -> Optional[str]:
    """Whom to ask about a certificate served without a staple: its responder, its CRL (no OCSP URL), or
    nobody (a staple came, or nothing was served)."""
    if leaf_der is None:
        return None
    if checked["verdict"] == verdicts.NOT_APPLICABLE:
        return "crl"
    return "responder" if checked["verdict"] == verdicts.NO_STAPLE else None


def _ask_outside(ask: str, checked: Mapping[str, Any], leaf_der: bytes, issuer_der: Optional[bytes],
                 fetch: ocsp.HttpFetch, download: crl.Download, timeout: float,
                 crl_cache: Dict[str, Any]) -> Dict[str, Any]:
    if issuer_der is None:
        return {"failed": True, "msg": "the issuer of %s (%s) is neither served nor in the CA certificates given, "
                "so its %s cannot be asked; serve the full chain or give the issuer"
                % (checked["subject"], checked["issuer"], "OCSP responder" if ask == "responder" else "CRL")}
    try:
        [leaf] = certificates.load_certificates(leaf_der, "the served certificate")
        [issuer] = certificates.load_certificates(issuer_der, "its issuer")
    except certificates.CertificateError as error:
        return {"failed": True, "msg": str(error)}
    if ask == "crl":
        return crl.check_certificate(leaf, issuer, download, timeout=timeout, cache=crl_cache)
    return ocsp.ask(list(checked["ocsp_uris"]), leaf, issuer, fetch, timeout=timeout)


def _responder(endpoint: Mapping[str, Any], checked: Mapping[str, Any], fetch: ocsp.HttpFetch,
               timeout: float) -> Dict[str, Any]:
    if not endpoint["stapling_applicable"] or checked["verdict"] not in UNSTAPLED:
        return {"skipped": True}
    leaf, issuer, problem = _leaf_and_issuer(endpoint["certificate_path"])
    if problem is not None:
        return {"failed": True, "msg": problem}
    urls = certificates.ocsp_uris(leaf)
    if not urls:
        return ocsp.unverified(verdicts.NOT_APPLICABLE, "%s names no OCSP responder" % endpoint["certificate_path"])
    return ocsp.ask(urls, leaf, issuer, fetch, timeout=timeout)


def _crl(path: str, download: crl.Download, timeout: float, cache: Dict[str, Any]) -> Dict[str, Any]:
    leaf, issuer, problem = _leaf_and_issuer(path)
    if problem is not None:
        return {"failed": True, "msg": problem}
    return crl.check_certificate(leaf, issuer, download, timeout=timeout, cache=cache)


def _leaf_and_issuer(path: str) -> Tuple[Any, Any, Optional[str]]:
    """(leaf, issuer, None), or (None, None, what is wrong): the file must hold the leaf's issuer, as servers need."""
    try:
        leaf, issuer = certificates.leaf_and_issuer(certificates.load_certificate_file(path))
    except certificates.CertificateError as error:
        return None, None, str(error)
    if issuer is None:
        return None, None, ("no certificate in %s issued %s (issuer %s): the file must hold the chain"
                            % (path, leaf.subject.rfc4514_string(), leaf.issuer.rfc4514_string()))
    return leaf, issuer, None
