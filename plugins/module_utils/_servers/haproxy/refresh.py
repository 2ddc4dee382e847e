# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Keep HAProxy's `<crt>.ocsp` files fresh: fetch, verify, write atomically, push live over the runtime API.

Shared by the role's helper module (haproxy_ocsp_file) and the refresher
program the role installs on the host; pure Python on cryptography and the
standard library, the HTTP transport injected as in ocsp.query.

The rules, for each certificate file HAProxy serves:
- only a response that verifies (ocsp.verify_response) for exactly the
  certificate in that file, against its issuer (the bundle's chain or the
  `.issuer` file), is ever written; after a renewal that is the new one;
- a verified `revoked` response is the truth: it is written and stapled,
  and the record says so (the caller reports it critical);
- a current file that still verifies and has more than `renew_before`
  seconds (and more than half its validity) left is kept as it is;
- when no usable answer comes, a current file that still verifies is kept
  (retry on the next run); one that does not (expired, another
  certificate's, broken) is removed, so it is never stapled again.
HAProxy itself stops stapling a response 5 minutes before its nextUpdate.
"""
from __future__ import annotations

import datetime
import os
import tempfile
from typing import Any, Callable, Dict, List, Optional, Tuple

try:
    from cryptography import x509
except ImportError:
    pass  # the callers check for cryptography first

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.compat import utcnow
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy.runtime import (
    RuntimeApiError, served_certificate, set_ocsp_response,
)

DEFAULT_RENEW_BEFORE = 1800
DEFAULT_FILE_MODE = 0o644
ISO_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
STAPLED_VERDICTS = (verdicts.GOOD, verdicts.REVOKED)

Pusher = Callable[[str, bytes], str]
ServedLookup = Callable[[str, str], Dict[str, Optional[str]]]


def load_bundle(crt_path: str) -> Tuple[x509.Certificate, Optional[x509.Certificate]]:
    """The leaf of a HAProxy PEM bundle and its issuer (from the bundle or `<crt>.issuer`), or None."""
    in_file = certificates.load_certificate_file(crt_path)
    leaf = certificates.order_chain(in_file)[0]
    candidates = [cert for cert in in_file if cert is not leaf]
    if os.path.exists(crt_path + ".issuer"):
        candidates = certificates.load_certificate_file(crt_path + ".issuer") + candidates
    return leaf, certificates.find_issuer(leaf, candidates)


def needs_renewal(result: Dict[str, Any], renew_before: int) -> bool:
    """Whether a verified response is due: less than `renew_before` seconds or half its validity left."""
    if result["verdict"] not in STAPLED_VERDICTS:
        return True
    left = result["seconds_until_next_update"]
    if left is None:
        return True
    window = _seconds_between(result["this_update"], result["next_update"])
    return left < renew_before or (window is not None and left < window / 2)


def _seconds_between(first: Optional[str], second: Optional[str]) -> Optional[float]:
    if not first or not second:
        return None
    return (_parse_iso(second) - _parse_iso(first)).total_seconds()


def _parse_iso(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, ISO_FORMAT)


def write_atomically(path: str, data: bytes, mode: int) -> None:
    """Write `data` to `path` through a temporary file in the same directory, with `mode`, then rename."""
    directory = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(prefix=".tlsops-ocsp-", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def fetch_response(leaf: x509.Certificate, issuer: x509.Certificate, fetch: ocsp.HttpFetch,
                   timeout: float) -> Tuple[Optional[bytes], Dict[str, Any]]:
    """Ask the certificate's responders in turn; (DER, verification) of the first answer that verifies."""
    request = ocsp.build_request(leaf, issuer)
    result = ocsp.unverified(verdicts.NOT_APPLICABLE, "no OCSP responder URL")
    for url in certificates.ocsp_uris(leaf):
        answer = ocsp.query(url, request, fetch=fetch, timeout=timeout)
        if answer["error"] is not None:
            result = ocsp.unverified(answer["verdict"], answer["reason"])
            continue
        result = ocsp.verify_response(answer["body"], leaf, issuer)
        if result["verdict"] in STAPLED_VERDICTS:
            return answer["body"], result
    return None, result


def _read(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def _record(crt_path: str, leaf: Optional[x509.Certificate]) -> Dict[str, Any]:
    return dict(ocsp.unverified(None, None), path=crt_path, ocsp_path=crt_path + ".ocsp",
                serial_number=leaf.serial_number if leaf is not None else None,
                action="none", changed=False, pushed=False, reload_needed=False, failed=False, served_serial=None)


def refresh_certificate(crt_path: str, fetch: ocsp.HttpFetch, socket_path: Optional[str] = None,
                        renew_before: int = DEFAULT_RENEW_BEFORE, mode: int = DEFAULT_FILE_MODE,
                        timeout: float = 10.0, check_mode: bool = False, push: Pusher = set_ocsp_response,
                        served: ServedLookup = served_certificate) -> Dict[str, Any]:
    """Bring `<crt_path>.ocsp` (and, through `socket_path`, HAProxy's live staple) up to date.

    Returns a record: path, ocsp_path, serial_number, the verification fields
    of the response now in place (verdict, reason, cert_status, this_update,
    next_update, ...), action (kept | written | removed | none), changed,
    pushed, reload_needed, failed (a problem to report and retry) and served_serial.
    """
    try:
        leaf, issuer = load_bundle(crt_path)
    except certificates.CertificateError as error:
        return dict(_record(crt_path, None), verdict=verdicts.MALFORMED, reason=str(error), failed=True)
    record = _record(crt_path, leaf)
    if not certificates.ocsp_uris(leaf):
        return dict(record, verdict=verdicts.NOT_APPLICABLE, reason="%s: %s" % (crt_path, certificates.NO_OCSP_REASON))
    if issuer is None:
        return dict(record, verdict=verdicts.UNAUTHORIZED_SIGNER, failed=True, reason=(
            "%s: no certificate in the bundle or in %s.issuer issued %s; put the issuing CA certificate "
            "after the leaf in the bundle" % (crt_path, crt_path, leaf.issuer.rfc4514_string())))
    current = _read(record["ocsp_path"])
    current_result = ocsp.verify_response(current, leaf, issuer) if current is not None else None
    if current_result is not None and not needs_renewal(current_result, renew_before):
        record.update(action="kept", **current_result)
        if socket_path and not check_mode:
            _check_live(record, leaf, socket_path, served)
        return record
    body, fetched = fetch_response(leaf, issuer, fetch, timeout)
    if body is None:
        return _no_answer(record, current_result, fetched, check_mode)
    record.update(fetched)
    if body != current:
        record.update(action="written", changed=True)
        if not check_mode:
            write_atomically(record["ocsp_path"], body, mode)
    if record["changed"] and socket_path and not check_mode:
        _push_live(record, body, leaf, socket_path, push, served)
    elif current is None:
        record["reload_needed"] = True
    return record


def _no_answer(record: Dict[str, Any], current_result: Optional[Dict[str, Any]], fetched: Dict[str, Any],
               check_mode: bool) -> Dict[str, Any]:
    """No verified answer: keep a current file that still verifies; remove one that does not."""
    failure = fetched["reason"] or "no answer"
    if current_result is not None and current_result["verdict"] in STAPLED_VERDICTS:
        return dict(record, action="kept", failed=True, **dict(current_result, reason=(
            "%s; kept the current response (valid until %s) and will retry" % (failure, current_result["next_update"]))))
    if current_result is None:
        return dict(record, failed=True, **dict(fetched, reason=failure))
    if not check_mode:
        os.unlink(record["ocsp_path"])
    return dict(record, action="removed", changed=True, failed=True, reload_needed=True, **dict(fetched, reason=(
        "%s; removed %s, which no longer verifies (%s)" % (failure, record["ocsp_path"], current_result["verdict"]))))


def _served_serial(record: Dict[str, Any], leaf: x509.Certificate, socket_path: str,
                   served: ServedLookup) -> Optional[Dict[str, Optional[str]]]:
    """What HAProxy serves from the file, when it is this certificate; else None and reload_needed set."""
    try:
        answer = served(socket_path, record["path"])
    except RuntimeApiError as error:
        record.update(reload_needed=True, reason="%s; HAProxy not asked: %s" % (record["reason"], error))
        return None
    serial = answer.get("serial")
    record["served_serial"] = serial
    if serial is None or int(serial, 16) != leaf.serial_number:
        record.update(reload_needed=True, reason=(
            "%s; HAProxy serves %s from %s, not this certificate: the file is ready for its next reload"
            % (record["reason"], "serial %s" % serial if serial else "nothing", record["path"])))
        return None
    return answer


def _check_live(record: Dict[str, Any], leaf: x509.Certificate, socket_path: str, served: ServedLookup) -> None:
    """A kept file HAProxy does not hold yet (it started before the file existed) needs a reload."""
    answer = _served_serial(record, leaf, socket_path, served)
    if answer is not None and not answer.get("ocsp_key"):
        record.update(reload_needed=True, reason="%s; HAProxy holds no OCSP response for %s yet: it reloads to "
                                                 "read the file" % (record["reason"], record["path"]))


def _push_live(record: Dict[str, Any], body: bytes, leaf: x509.Certificate, socket_path: str,
               push: Pusher, served: ServedLookup) -> None:
    """Hand the new response to HAProxy when it serves this very certificate; else it needs a reload."""
    if _served_serial(record, leaf, socket_path, served) is None:
        return
    try:
        push(socket_path, body)
    except RuntimeApiError as error:
        record.update(reload_needed=True, reason="%s; not pushed live: %s" % (record["reason"], error))
        return
    record["pushed"] = True


def refresh_all(paths: List[str], fetch: ocsp.HttpFetch, **options: Any) -> Dict[str, Any]:
    """refresh_certificate for every path; plus changed, failed, revoked and reload_needed over all."""
    records = [refresh_certificate(path, fetch, **options) for path in paths]
    return {
        "certificates": records,
        "changed": any(record["changed"] for record in records),
        "failed": [record["path"] for record in records if record["failed"]],
        "revoked": [record["path"] for record in records if record["verdict"] == verdicts.REVOKED],
        "reload_needed": any(record["reload_needed"] for record in records),
        "checked_at": utcnow().strftime(ISO_FORMAT),
    }
