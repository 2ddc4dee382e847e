# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why a server staples nothing: one vocabulary of causes beside the verdicts.

A verdict says what the client got (no_staple, ...); a cause says why, in words an operator acts on. Each
cause has a sentence and a remedy naming the file, directive, URL or host to change (filled from the facts
of the endpoint), and says whether a fresh fetch by the server could help (`fetch_due`): only then may a
role reload to make the server ask again, so a persistent cause never makes a reload on every run.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, NamedTuple, Optional


class Cause(NamedTuple):
    sentence: str
    remedy: str
    fetch_due: bool
    # for a server with no responder override (HAProxy): the remedy without one
    remedy_without_override: str = ""


ISSUER_NOT_SERVED = "issuer_not_served"
TRUSTED_WITHOUT_ROOT = "trusted_without_root"
NO_RESOLVER = "no_resolver"
FIRST_URL_DEAD = "first_url_dead"
RESPONDER_UNREACHABLE = "responder_unreachable"
RESPONDER_REFUSES = "responder_refuses"
RESPONSE_STALE = "response_stale"
CACHE_MISSING = "cache_missing"
CACHE_TOO_SMALL = "cache_too_small"
RESPONSE_TOO_LARGE = "response_too_large"
NO_OCSP_URL = "no_ocsp_url"
RESPONDER_NAME_UNRESOLVED = "responder_name_unresolved"
RESPONDER_NOT_OCSP = "responder_not_ocsp"
RESPONSE_INVALID = "response_invalid"
CERTIFICATE_REVOKED = "certificate_revoked"
HAPROXY_UPDATER_FAILED = "haproxy_updater_failed"
HAPROXY_UPDATER_REFUSED = "haproxy_updater_refused"
RELOAD_NOT_EFFECTIVE = "reload_not_effective"
RESPONDER_RECOVERED = "responder_recovered"
NOT_FETCHED_YET = "not_fetched_yet"
UNSETTLED = "unsettled"

# {placeholders} are filled from the endpoint's facts: certificate, issuer, url, other_url, host, trusted,
# directive (the server's override directive; None for a server without one, which gets the remedy without it),
# answer (what the responder or the server said), process (the
# running server in a few words: pid, pid file, mode, who started it), restart (the command that restarts it)
CAUSES: Dict[str, Cause] = {
    ISSUER_NOT_SERVED: Cause(
        "the server cannot find the issuer of {certificate}: the file holds no certificate that issued it",
        "append the issuing CA certificate ({issuer}) after the leaf in {certificate}", False),
    TRUSTED_WITHOUT_ROOT: Cause(
        "the server cannot verify the responder's answer: {trusted} does not hold the root CA above {issuer}",
        "add the root CA certificate to {trusted} (the root and every intermediate, as Mozilla's configuration "
        "generator asks)", False),
    NO_RESOLVER: Cause(
        "the server cannot resolve the responder's host name {host}: it has no resolver",
        "add `resolver <your DNS server>;` to the http block (or let the role manage stapling there)", False),
    FIRST_URL_DEAD: Cause(
        "the server asks only the first OCSP URL, {url}, which does not answer ({answer}); {other_url} does",
        "point the server at the URL that answers: `{directive} {other_url}`", False,
        "the server takes no other URL: ask the CA to fix {url}, or have the certificate reissued with "
        "{other_url} first"),
    RESPONDER_UNREACHABLE: Cause(
        "the OCSP responder {url} cannot be reached from this host ({answer})",
        "allow this host to reach {host} over HTTP (egress firewall, proxy), or fix its DNS", False),
    RESPONDER_REFUSES: Cause(
        "the OCSP responder {url} refuses to answer for {certificate} ({answer})",
        "ask the CA why {url} answers this way; the certificate may be unknown to it or the responder broken", False),
    RESPONSE_STALE: Cause(
        "the OCSP responder {url} answers with a response that is not current ({answer})",
        "check this host's clock (NTP), then ask the CA to fix {url}", False),
    NO_OCSP_URL: Cause(
        "the server finds no OCSP URL in {certificate}: there is nothing to staple",
        "nothing to fix on the server: the certificate's revocation is checked through its CRL; remove the "
        "stapling lines for it, or name a responder with `{directive} <url>` if its CA runs one", False,
        "nothing to fix on the server: the certificate's revocation is checked through its CRL"),
    RESPONDER_NAME_UNRESOLVED: Cause(
        "the server cannot resolve the responder's host name {host} ({answer})",
        "make {host} resolve on this host (the DNS server the server uses), then reload", False),
    RESPONDER_NOT_OCSP: Cause(
        "the OCSP URL {url} answers, but not with an OCSP response ({answer}): a proxy or portal is in the way, "
        "or the URL is wrong",
        "check what {url} answers from this host; let OCSP requests reach the CA directly, or name the right "
        "responder with `{directive} <url>`", False,
        "check what {url} answers from this host; let OCSP requests reach the CA directly"),
    RESPONSE_INVALID: Cause(
        "the server rejects the responder's answer for {certificate}: it does not verify ({answer})",
        "check the response {url} returns: it must be signed by {issuer} or by a delegate {issuer} signed "
        "with OCSP Signing", False),
    CERTIFICATE_REVOKED: Cause(
        "the responder {url} says {certificate} is revoked; the server does not staple that",
        "replace the certificate in {certificate}: it is revoked", False),
    CACHE_TOO_SMALL: Cause(
        "Apache fetched a response but could not store it in its stapling cache ({answer})",
        "enlarge the shmcb size of SSLStaplingCache (128000 bytes or more), then restart Apache", False),
    HAPROXY_UPDATER_FAILED: Cause(
        "HAProxy's OCSP updater (or the refresher that feeds it) got no usable response for {certificate} "
        "({answer})",
        "check that this host reaches {url} and that HAProxy has the issuer of {certificate} (in the bundle, "
        "or a .issuer file), then run the refresher again", False),
    HAPROXY_UPDATER_REFUSED: Cause(
        "HAProxy's own OCSP updater gets the responder's answer for {certificate} and refuses it ({answer}): its "
        "check accepts only answers signed by the issuer itself (HAProxy 3.0 does not chain a delegated "
        "responder certificate, RFC 6960 4.2.2.2)",
        "turn HAProxy's updater off for {certificate} (`ocsp-update off` on its crt-list or crt-store line, or "
        "`ocsp-update.mode off`) and keep its .ocsp file fresh with a verifying refresher (the haproxy_stapling "
        "role does both with its updater `auto` or `refresher`), or have the CA sign OCSP answers with {issuer}",
        False),
    CACHE_MISSING: Cause(
        "Apache has no stapling cache (SSLStaplingCache): mod_ssl stops at start (AH01958)",
        "set `SSLStaplingCache shmcb:/run/apache2/ssl_stapling(128000)` in server context and load "
        "mod_socache_shmcb", False),
    RESPONSE_TOO_LARGE: Cause(
        "the OCSP response from {url} is larger than the server accepts",
        "ask the CA for a smaller response (fewer certificates in it)", False),
    RELOAD_NOT_EFFECTIVE: Cause(
        "{process} has not loaded the configuration as it is now: the reload had no effect ({answer})",
        "restart it: `{restart}`; the role does not reload it again the same way", False),
    RESPONDER_RECOVERED: Cause(
        "the server's last fetch failed ({answer}), and the responder {url} answers good from this host now",
        "nothing to change: a reload makes the server fetch again now", True),
    NOT_FETCHED_YET: Cause(
        "the server has not fetched a response yet (nginx fetches per worker, after a first handshake); "
        "the responder {url} answers good from this host",
        "nothing to change: handshakes (or a reload) make the server fetch", True),
    UNSETTLED: Cause(
        "the evidence does not settle why nothing is stapled ({answer})",
        "read the server's error log lines below; the responder {url} was asked from this host", False),
}


def diagnosis(cause: str, evidence: Optional[List[str]] = None, settled: bool = True,
              **facts: Any) -> Dict[str, Any]:
    """The diagnosis of one endpoint: the cause, its sentence and remedy filled from `facts`, the server's own
    log lines that show it, whether the evidence settles it, and whether a fresh fetch is due."""
    known = CAUSES[cause]
    values = _Facts(facts)
    remedy = known.remedy_without_override if facts.get("directive") is None and known.remedy_without_override \
        else known.remedy
    return {
        "cause": cause,
        "sentence": known.sentence.format_map(values),
        "remedy": remedy.format_map(values),
        "evidence": list(evidence or []),
        "settled": settled,
        "fetch_due": known.fetch_due,
    }


def render(found: Mapping[str, Any], max_lines: int = 5) -> str:
    """One paragraph for people: the cause, its sentence and remedy, then the last `max_lines` evidence lines."""
    text = "%s: %s; %s" % (found["cause"], found["sentence"], found["remedy"])
    if not found.get("settled", True):
        text += " (the evidence does not settle it)"
    lines = list(found.get("evidence") or [])
    if lines:
        shown = lines[-max_lines:]
        earlier = " (and %d earlier)" % (len(lines) - len(shown)) if len(lines) > len(shown) else ""
        text += "\nthe server's lines%s:\n" % earlier + "\n".join("  " + line for line in shown)
    return text


class _Facts(dict):
    """Facts for the templates; an unknown one reads as `unknown`."""

    def __init__(self, facts: Mapping[str, Any]) -> None:
        super().__init__((key, value) for key, value in facts.items() if value is not None)

    def __missing__(self, key: str) -> str:
        return "unknown"
