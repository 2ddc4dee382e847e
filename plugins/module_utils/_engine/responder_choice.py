# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OCSP URL a server should ask when the first of a certificate's URLs does not answer.

nginx and Apache ask only the first OCSP URL of a certificate unless an override names another
(``ssl_stapling_responder``, ``SSLStaplingForceURL``). Where the first is dead and a later one answers, one
override at the level a role writes (nginx's http or server level, Apache's server context) makes them staple.
It reaches every certificate below that level, so it is chosen only when each of them names the URL among its
own OCSP URLs (its CA answers there for it). Pure Python on cryptography, the HTTP transport injected.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts

ANSWERED = (verdicts.GOOD, verdicts.REVOKED)


def _answers(url: str, leaf: Any, issuer: Any, fetch: ocsp.HttpFetch, timeout: float) -> bool:
    return ocsp.ask([url], leaf, issuer, fetch, timeout=timeout)["verdict"] in ANSWERED


def answering_url(leaf: Any, issuer: Any, fetch: ocsp.HttpFetch, timeout: float) -> Optional[Dict[str, str]]:
    """{first, url}: the first OCSP URL does not answer and `url`, a later one, does; None otherwise (one URL
    only, the first answers, or none does). A certificate with one URL costs no request."""
    urls = certificates.ocsp_uris(leaf)
    if len(urls) < 2 or _answers(urls[0], leaf, issuer, fetch, timeout):
        return None
    answering = next((url for url in urls[1:] if _answers(url, leaf, issuer, fetch, timeout)), None)
    return {"first": urls[0], "url": answering} if answering else None


def _leaf_and_issuer(path: str, extra_issuers: Sequence[Any]) -> Optional[tuple]:
    try:
        chain = certificates.load_certificate_file(path)
    except certificates.CertificateError:
        return None
    return certificates.leaf_and_issuer(chain, extra_issuers)


def override(served: Sequence[str], fetch: ocsp.HttpFetch, timeout: float = 5.0,
             extra_issuers: Sequence[Any] = ()) -> Optional[Dict[str, Any]]:
    """The one override the served files can all take: {url, first (the dead URLs), certificates (the files
    that need it)}; None when no file needs one, the files that do disagree, or another file does not name the
    URL. `extra_issuers`: issuers the server finds outside the files (Apache's CA store)."""
    leaves: List[Any] = []
    needing: Dict[str, Dict[str, str]] = {}
    for path in dict.fromkeys(served):
        found = _leaf_and_issuer(path, extra_issuers)
        if found is None:
            continue
        leaf, issuer = found
        leaves.append(leaf)
        choice = answering_url(leaf, issuer, fetch, timeout) if issuer is not None else None
        if choice:
            needing[path] = choice
    urls = {choice["url"] for choice in needing.values()}
    if len(urls) != 1:
        return None
    url = urls.pop()
    if any(certificates.ocsp_uris(leaf) and url not in certificates.ocsp_uris(leaf) for leaf in leaves):
        return None
    return {"url": url, "first": sorted({choice["first"] for choice in needing.values()}),
            "certificates": sorted(needing)}
