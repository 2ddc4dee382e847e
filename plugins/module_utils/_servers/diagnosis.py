# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Why an endpoint that should staple staples nothing, on the host.

The server's own evidence first (its error log lines since its workers last started: the last reload), then
the engine doing what the server does: the one OCSP URL it asks (the first of the certificate, unless an
override names another), the issuer it finds (in the served file; nginx also in its trusted file), the trust
it verifies the answer with (nginx: ssl_trusted_certificate and the served chain, no system roots; Apache does
not verify). Each planned endpoint carries the server's `diagnosis` hint (the adapters set it: kind, trusted
file, override, resolver, error logs).
"""
from __future__ import annotations

import datetime
import os
import urllib.parse
from typing import Any, Callable, Dict, List, Mapping, Optional

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import causes
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.apache import evidence as apache_evidence
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import evidence as haproxy_evidence
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import process as haproxy_process
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import runtime as haproxy_runtime
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.nginx import evidence as nginx_evidence

LOG_TAIL = 512 * 1024  # the end of a log is where the lines since the last reload are
PROCESS_NAMES = {"nginx": ("nginx",), "apache": ("apache2", "httpd")}
SKIPPED: Dict[str, Any] = {"skipped": True}
ANSWERED = (verdicts.GOOD, verdicts.REVOKED)


def read_tail(path: str, size: int = LOG_TAIL) -> str:
    """The last `size` bytes of a log file as text; '' when it cannot be read."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def last_start(names: tuple, proc: str = "/proc") -> Optional[float]:
    """When the newest process of `names` started (a reload starts new workers), as a Unix time; None if none."""
    try:
        with open(os.path.join(proc, "stat"), encoding="ascii") as handle:
            boot = next(float(line.split()[1]) for line in handle if line.startswith("btime "))
        ticks = os.sysconf("SC_CLK_TCK")
        pids = [entry for entry in os.listdir(proc) if entry.isdigit()]
    except (OSError, StopIteration, ValueError):
        return None
    newest = None
    for pid in pids:
        try:
            with open(os.path.join(proc, pid, "stat"), encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        name, rest = stat[stat.find("(") + 1:stat.rfind(")")], stat[stat.rfind(")") + 2:].split()
        if name in names:
            started = boot + int(rest[19]) / ticks
            newest = started if newest is None else max(newest, started)
    return newest


def haproxy_lines(hint: Mapping[str, Any], certificate_path: str, logs: Dict[str, str]) -> List[str]:
    """HAProxy's own word on this certificate: its runtime API's answers, else why the socket cannot be used,
    then the refresher's last lines for it (HAProxy writes no stapling lines to a log of its own)."""
    lines: List[str] = []
    socket_path = hint.get("socket_path")
    if socket_path:
        try:
            lines += haproxy_evidence.runtime_lines(
                certificate_path, haproxy_runtime.command(socket_path, "show ssl cert " + certificate_path),
                haproxy_runtime.command(socket_path, "show ssl ocsp-updates"))
        except haproxy_runtime.RuntimeApiError as error:
            lines.append(str(error).split(": check", 1)[0])
    log = hint.get("refresher_log")
    if log:
        text = logs.setdefault(log, read_tail(log))
        lines += [record["line"] for record in haproxy_evidence.refresher_records(text, certificate_path)[-3:]]
    return lines


def evidence_for(hint: Mapping[str, Any], certificate_path: str, logs: Dict[str, str],
                 since: Optional[float]) -> List[str]:
    """The server's log lines about fetching for this certificate since its workers started."""
    if hint.get("kind") == "haproxy":
        return haproxy_lines(hint, certificate_path, logs)
    lines: List[str] = []
    for path in hint.get("error_logs") or []:
        text = logs.setdefault(path, read_tail(path))
        if hint.get("kind") == "nginx":
            lines += nginx_evidence.fetch_failures(text, certificate_path, since)
        else:
            lines += apache_evidence.stapling_lines(text, since)
    return lines[-10:]


def _logged_cause(kind: str, lines: List[str]) -> Optional[str]:
    """The cause the server's own lines name (HAProxy's: its runtime API's answers and the refresher's lines)."""
    reader = {"nginx": nginx_evidence, "apache": apache_evidence, "haproxy": haproxy_evidence}.get(kind)
    return reader.cause_of(lines) if reader else None


def reload_not_effective(hint: Mapping[str, Any], certificate_path: str,
                         proc: str = "/proc") -> Optional[Dict[str, Any]]:
    """HAProxy: the running process started before its configuration last changed, read now (after the role's
    reload): the reload had no effect. None when it runs the configuration as it is (or cannot be told)."""
    loaded_files = list(hint.get("loaded_files") or [])
    running = haproxy_process.running(hint.get("pid_file") or "", loaded_files, [], proc=proc)
    changed_at = haproxy_process.newest_change(loaded_files)
    if haproxy_process.config_loaded(running, changed_at) is not False:
        return None
    known = hint.get("process") or {}
    return causes.diagnosis(
        causes.RELOAD_NOT_EFFECTIVE, [], certificate=certificate_path,
        process=haproxy_process.describe(running), restart=known.get("restart_command"),
        answer="its newest process started at %s, the configuration changed at %s" % (
            _when(running["started"]), _when(changed_at)))


def workers_older_than_role_files(hint: Mapping[str, Any], certificate_path: str,
                                  since: Optional[float]) -> Optional[Dict[str, Any]]:
    """nginx, Apache: their newest process started before the role's own files last changed, read now (after the
    role's reload): the server does not run what the role wrote. None when it does, or it cannot be told."""
    changed_at = haproxy_process.newest_change(list(hint.get("role_files") or []))
    if since is None or changed_at is None or changed_at <= since + haproxy_process.LOADED_TOLERANCE:
        return None
    return causes.diagnosis(
        causes.RELOAD_NOT_EFFECTIVE, [], certificate=certificate_path, restart=hint.get("restart"),
        process="the running %s" % ("nginx" if hint.get("kind") == "nginx" else "Apache"),
        answer="its newest process started at %s, the role's files changed at %s" % (_when(since), _when(changed_at)))


def _when(unix_time: float) -> str:
    return datetime.datetime.fromtimestamp(unix_time, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _self_signed(cert: Any) -> bool:
    return cert.subject == cert.issuer and certificates.is_issued_by(cert, cert)


def root_trusted(issuer: Any, trusted: List[Any], served: List[Any]) -> bool:
    """Whether a chain from `issuer` ends at a self-signed certificate that `trusted` holds, as OpenSSL
    requires of nginx's ssl_trusted_certificate (no partial chains, no system roots)."""
    current, pool = issuer, trusted + served
    for unused_depth in range(8):
        if _self_signed(current):
            return any(candidate == current for candidate in trusted)
        parent = certificates.find_issuer(current, pool)
        if parent is None:
            return False
        current = parent
    return False


def _load(path: Optional[str]) -> List[Any]:
    if not path:
        return []
    try:
        return certificates.load_certificate_file(path)
    except (certificates.CertificateError, OSError):
        return []


def diagnose(endpoint: Mapping[str, Any], evidence: List[str], fetch: ocsp.HttpFetch,
             timeout: float) -> Dict[str, Any]:
    """The cause of one endpoint that should staple and staples nothing."""
    hint = endpoint.get("diagnosis") or {}
    kind, path = hint.get("kind"), endpoint["certificate_path"]
    if kind == "haproxy":
        stale = reload_not_effective(hint, path)
        if stale is not None:
            return stale
    served = _load(path)
    if not served:
        return SKIPPED
    leaf, trusted = served[0], _load(hint.get("trusted_certificate"))
    # nginx also looks in its trusted file; mod_ssl in the chain file and its CA store
    elsewhere = trusted if kind == "nginx" else [cert for name in hint.get("issuer_files") or [] for cert in _load(name)]
    issuer = certificates.find_issuer(leaf, served[1:]) or certificates.find_issuer(leaf, elsewhere)
    facts: Dict[str, Any] = {"certificate": path, "issuer": leaf.issuer.rfc4514_string(),
                             "trusted": hint.get("trusted_certificate") or "no ssl_trusted_certificate",
                             "directive": hint.get("override_directive")}
    logged = _logged_cause(kind, evidence)
    if issuer is None:
        return causes.diagnosis(causes.ISSUER_NOT_SERVED, evidence, **facts)
    urls = certificates.ocsp_uris(leaf)
    url = hint.get("responder") or (urls[0] if urls else None)
    if url is None:
        return SKIPPED
    host = urllib.parse.urlsplit(url).hostname or url
    facts.update(url=url, host=host)
    # nginx resolves a name with the system's DNS when it loads its configuration: only its own log says that
    # a missing resolver (or an unresolvable name) is what stops it
    if logged in (causes.NO_RESOLVER, causes.RESPONDER_NAME_UNRESOLVED):
        return causes.diagnosis(logged, evidence, **facts)
    answer = ocsp.ask([url], leaf, issuer, fetch, timeout=timeout)
    found = _from_answer(answer, leaf, issuer, urls, url, fetch, timeout, facts, evidence)
    if found is not None:
        return found
    if kind == "nginx" and hint.get("verify") and not root_trusted(issuer, trusted, served[1:]):
        return causes.diagnosis(causes.TRUSTED_WITHOUT_ROOT, evidence, **facts)
    if logged in (causes.CACHE_MISSING, causes.RESPONSE_TOO_LARGE, causes.TRUSTED_WITHOUT_ROOT,
                  causes.ISSUER_NOT_SERVED):
        return causes.diagnosis(logged, evidence, settled=False, **facts)
    if answer["verdict"] != verdicts.GOOD:
        return SKIPPED  # revoked: the responder's verdict says it
    if kind == "haproxy" and logged in (causes.HAPROXY_UPDATER_REFUSED, causes.HAPROXY_UPDATER_FAILED):
        # the responder answers this host: HAProxy's own updater is what staples nothing, in its own words
        return causes.diagnosis(logged, evidence, answer=haproxy_evidence.updater_status(evidence), **facts)
    if kind == "haproxy":  # it staples what it holds (pushed or loaded): it has nothing to fetch lazily
        return causes.diagnosis(causes.UNSETTLED, evidence, settled=False, answer=(
            "the responder answers good from this host, and the running HAProxy holds no response for %s" % path),
            **facts)
    if evidence:
        return causes.diagnosis(causes.RESPONDER_RECOVERED, evidence, answer=evidence[-1][-160:], **facts)
    return causes.diagnosis(causes.NOT_FETCHED_YET, evidence, **facts)


def _from_answer(answer: Mapping[str, Any], leaf: Any, issuer: Any, urls: List[str], url: str,
                 fetch: ocsp.HttpFetch, timeout: float, facts: Dict[str, Any],
                 evidence: List[str]) -> Optional[Dict[str, Any]]:
    """The cause the server's own URL's answer settles, or None when it answers."""
    verdict, said = answer["verdict"], answer.get("reason") or ""
    if verdict in ANSWERED:
        return None
    if verdict in (verdicts.UNREACHABLE, verdicts.RESPONDER_ERROR, verdicts.MALFORMED):
        for other in urls:
            if other != url and ocsp.ask([other], leaf, issuer, fetch, timeout=timeout)["verdict"] in ANSWERED:
                return causes.diagnosis(causes.FIRST_URL_DEAD, evidence, other_url=other, answer=said, **facts)
        cause = causes.RESPONDER_UNREACHABLE if verdict == verdicts.UNREACHABLE else causes.RESPONDER_REFUSES
        return causes.diagnosis(cause, evidence, answer=said, **facts)
    if verdict in (verdicts.EXPIRED, verdicts.NOT_YET_VALID):
        return causes.diagnosis(causes.RESPONSE_STALE, evidence, answer=said, **facts)
    return causes.diagnosis(causes.RESPONDER_REFUSES, evidence, answer=said, **facts)


def diagnose_all(planned: List[Mapping[str, Any]], staples: List[Mapping[str, Any]], fetch: ocsp.HttpFetch,
                 timeout: float, since: Callable[[str], Optional[float]] = lambda kind: last_start(
                     PROCESS_NAMES.get(kind, ()))) -> List[Dict[str, Any]]:
    """One diagnosis per planned endpoint (`skipped` where nothing needs explaining), in the plan's order."""
    logs: Dict[str, str] = {}
    starts: Dict[str, Optional[float]] = {}
    results = []
    for endpoint, staple in zip(planned, staples):
        hint = endpoint.get("diagnosis") or {}
        if not hint or not endpoint["stapling_applicable"] or staple.get("verdict") != verdicts.NO_STAPLE:
            results.append(SKIPPED)
            continue
        kind = hint["kind"]
        if kind not in starts:
            starts[kind] = since(kind)
        found = workers_older_than_role_files(hint, endpoint["certificate_path"], starts[kind]) \
            if kind in PROCESS_NAMES else None
        if found is None:
            lines = evidence_for(hint, endpoint["certificate_path"], logs, starts[kind])
            found = diagnose(endpoint, lines, fetch, timeout)
        results.append(dict(found, configured_by=endpoint.get("configured_by")) if "cause" in found else found)
    return results
