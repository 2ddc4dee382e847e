# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The issuer of a served certificate whose file does not hold it: from the host's files, else from the
certificate's CA Issuers URL; never taken unless its signature on the leaf verifies and it is a CA.

A server that staples must build the OCSP request's CertID from the issuer. Apache looks for it only in the
served chain and its CA store, so a file with the leaf alone staples nothing (mod_ssl AH02217); this finds the
issuer a role can give it. Pure Python on cryptography, the download injected (crl.Download).
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

try:
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
except ImportError:
    pass  # compat.HAS_CRYPTOGRAPHY says so; the modules fail with missing_required_lib first

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.compat import PARSE_ERRORS
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.crl import Download

MAX_ISSUER_BYTES = 64 * 1024  # a CA certificate, or a small PKCS#7 bundle of them


def _load(path: str) -> List[Any]:
    try:
        return certificates.load_certificate_file(path)
    except certificates.CertificateError:
        return []


def _issued_by_a_ca(leaf: Any, candidates: Iterable[Any]) -> Optional[Any]:
    return certificates.find_issuer(leaf, [candidate for candidate in candidates if certificates.is_ca(candidate)])


def _downloaded_certificates(data: bytes, url: str) -> List[Any]:
    """A CA Issuers URL serves one DER certificate, PEM, or a certs-only PKCS#7 (.p7c) bundle (RFC 5280 4.2.2.1)."""
    try:
        return certificates.load_certificates(data, url)
    except certificates.CertificateError:
        pass
    try:
        return list(pkcs7.load_der_pkcs7_certificates(data))
    except PARSE_ERRORS:
        return []


def from_ca_issuers_urls(leaf: Any, download: Download, timeout: float = 10.0) -> Dict[str, Any]:
    """{certificate, source (the URL)} of the CA at `leaf`'s CA Issuers URLs that issued it, verified; else
    certificate and source None, with what was tried."""
    tried = []
    for url in certificates.ca_issuers_uris(leaf):
        if not url.lower().startswith(("http://", "https://")):
            continue
        try:
            status, data = download(url, timeout, MAX_ISSUER_BYTES)
        except Exception as error:  # noqa: BLE001 -- the injected transport may raise anything; we name it
            tried.append("%s: %s" % (url, error))
            continue
        issuer = _issued_by_a_ca(leaf, _downloaded_certificates(data, url)) if status == 200 else None
        if issuer is not None:
            return {"certificate": issuer, "source": url}
        tried.append("%s: %s" % (url, "HTTP status %d" % status if status != 200 else "no certificate that issued it"))
    return {"certificate": None, "source": None, "tried": tried}


def missing_issuers(served: Mapping[str, Sequence[str]], host_files: Iterable[str],
                    download: Optional[Download] = None, timeout: float = 10.0) -> Dict[str, Dict[str, Any]]:
    """For each served file (-> the chain files served with it) whose leaf's issuer is in neither: {pem,
    source, subject}, the issuer found on the host (source: its file) or at the leaf's CA Issuers URL (source:
    the URL; only with `download`), or pem None with what was tried. Files that have their issuer, or cannot be
    read, are left out."""
    pool: Optional[List[Any]] = None
    found: Dict[str, Dict[str, Any]] = {}
    for path, chain_files in served.items():
        chain = _load(path)
        if not chain:
            continue
        leaf, issuer = certificates.leaf_and_issuer(chain, [cert for name in chain_files for cert in _load(name)])
        if issuer is not None or certificates.is_self_signed(leaf):
            continue
        if pool is None:  # read the host's files once, and only when some file lacks its issuer
            pool = [(name, cert) for name in dict.fromkeys(host_files) for cert in _load(name)]
        on_host = _issued_by_a_ca(leaf, [cert for unused, cert in pool])
        if on_host is not None:
            result = {"certificate": on_host, "source": next(name for name, cert in pool if cert is on_host)}
        elif download is not None:
            result = from_ca_issuers_urls(leaf, download, timeout)
        else:
            result = {"certificate": None, "source": None, "tried": []}
        issuer = result.pop("certificate")
        found[path] = dict(result, subject=certificates.issuer_text(leaf),
                           pem=issuer.public_bytes(Encoding.PEM).decode("ascii") if issuer is not None else None)
    return found
