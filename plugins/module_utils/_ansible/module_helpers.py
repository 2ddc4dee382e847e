# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ansible-side glue shared by the tlsops.ocsp modules.

The engine stays free of Ansible; this is where the modules meet it: library
checks that end in `missing_required_lib` instead of a traceback, file loading
whose errors name the file and what to do, and the HTTP fetch the OCSP engine
calls, built on Ansible's `open_url` (proxies from the environment, timeouts).
"""
from __future__ import annotations

import datetime
import getpass
import os
import traceback
import urllib.error
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

try:
    import cryptography  # noqa: F401 pylint: disable=unused-import
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None

try:
    import OpenSSL  # noqa: F401 pylint: disable=unused-import
except ImportError:
    HAS_PYOPENSSL = False
    PYOPENSSL_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    HAS_PYOPENSSL = True
    PYOPENSSL_IMPORT_ERROR = None

try:
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import certificates
except ImportError:
    pass  # every module calls require_libraries(), which reports what is missing, before any use

HTTP_AGENT = "tlsops.ocsp"

# Options that name a certificate and its issuer (response_info, responder_info).
CERTIFICATE_PAIR_SPEC: Dict[str, Dict[str, Any]] = {
    "certificate_path": {"type": "path", "required": True},
    "issuer_path": {"type": "path"},
}


def require_libraries(module: AnsibleModule, engine_import_error: Optional[str], pyopenssl: bool = False) -> None:
    """Fail the module cleanly when a library the engine needs is missing.

    `engine_import_error` is the traceback of the module's guarded engine
    import, or None when it worked.
    """
    if not HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    if pyopenssl and not HAS_PYOPENSSL:
        module.fail_json(msg=missing_required_lib("pyOpenSSL"), exception=PYOPENSSL_IMPORT_ERROR)
    if engine_import_error is not None:
        last_line = engine_import_error.strip().splitlines()[-1]
        module.fail_json(
            msg="the tlsops.ocsp engine cannot be imported on this host (%s); install cryptography >= 3.4.8"
                "%s with the Python that runs the module" % (last_line, " and pyOpenSSL >= 21.0.0" if pyopenssl else ""),
            exception=engine_import_error,
        )


def read_file(module: AnsibleModule, path: str, option: str) -> bytes:
    """The bytes of `path`, or fail naming the option, the file, the cause and what to do."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as error:
        module.fail_json(msg="%s: cannot read %s (%s); check the path and that user %s may read it"
                         % (option, path, error.strerror or error, _user()))
    raise AssertionError("fail_json returned")  # for type checkers: fail_json never returns


def read_certificates(module: AnsibleModule, path: str, option: str) -> List[Any]:
    """Every certificate in the file `path`, or fail naming the option, the file and what to do."""
    return _certificates_in(module, read_file(module, path, option), path, option)


def _certificates_in(module: AnsibleModule, data: bytes, source: str, option: str) -> List[Any]:
    try:
        return certificates.load_certificates(data, source)
    except certificates.CertificateError as error:
        module.fail_json(msg="%s: %s" % (option, error))
    raise AssertionError("fail_json returned")


def inspect_certificate_files(module: AnsibleModule, paths: List[str], option: str) -> Tuple[List[Dict[str, Any]], List[str]]:
    """(certificate_info's entries for every certificate of every file that can be read, in order; a warning per
    file that cannot), for the discovery modules' inspection: one file never hides the others' facts.

    The stapling plan says a site whose certificate has no facts "could not be inspected"; the warning says why.
    """
    require_libraries(module, None)
    described, files = certificates.inspect_files(paths)
    return described, ["%s: %s; stapling is planned for the sites that serve it without its facts" % (option, entry["error"])
                       for entry in files if entry["error"]]


def require_program(module: AnsibleModule, program: str, option: str, server: str) -> None:
    """Fail naming the option when `program` (a path, or a name looked up in PATH) is not an executable file."""
    found = program if os.path.isabs(program) else module.get_bin_path(program)
    if found and os.path.isfile(found) and os.access(found, os.X_OK):
        return
    if found and os.path.exists(found):
        problem = "is not an executable file"
    else:
        problem = "does not exist" if os.path.isabs(program) else "is not in PATH"
    module.fail_json(msg="%s: %s %s; set the %s option to the %s program (`command -v %s` prints where it is)"
                         % (option, program, problem, option, server, server.lower()))


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "the remote user"


def certificate_and_issuer(module: AnsibleModule) -> Tuple[Any, Any]:
    """The leaf of `certificate_path` (or of the PEM text in `certificate`, where a module has that
    option) and its issuer, from `issuer_path` or the same file.

    Fails naming both files when no certificate there issued the leaf.
    """
    certificate_path = module.params["certificate_path"]
    issuer_path = module.params["issuer_path"]
    if module.params.get("certificate"):
        certificate_path = "the certificate option"
        in_file = _certificates_in(module, module.params["certificate"].encode("utf-8"), certificate_path,
                                   "certificate")
    else:
        in_file = read_certificates(module, certificate_path, "certificate_path")
    more_issuers = read_certificates(module, issuer_path, "issuer_path") if issuer_path else []
    leaf, issuer = certificates.leaf_and_issuer(in_file, more_issuers)
    if issuer is None:
        module.fail_json(msg=no_issuer_message(leaf, certificate_path, issuer_path,
                                               "certificate" if module.params.get("certificate") else "certificate_path"))
    return leaf, issuer


def no_issuer_message(leaf: Any, certificate_path: str, issuer_path: Optional[str], option: str) -> str:
    """Why no issuer was found for `leaf`, and what to pass: a self-signed or CA certificate needs no issuer_path."""
    subject, issuer_name = certificates.subject_text(leaf), certificates.issuer_text(leaf)
    if certificates.is_self_signed(leaf):
        return ("%s: %s is self-signed (%s): no CA issued it, so no OCSP responder or CRL speaks for it; OCSP stapling "
                "and revocation checking apply to leaf certificates a CA issued: give the server's certificate (the "
                "first of its chain file) as %s, and its CA certificate as issuer_path if that file lacks it"
                % (option, certificate_path, subject, option))
    if certificates.is_ca(leaf):
        return ("%s: %s holds CA certificates only (the first is the CA %s, issued by %s, which is not in the file%s): "
                "OCSP stapling and revocation checking apply to leaf certificates: give the server's certificate as %s "
                "and this CA bundle as issuer_path" % (
                    option, certificate_path, subject, issuer_name,
                    " nor in %s" % issuer_path if issuer_path else "", option))
    searched = " and ".join(path for path in (issuer_path, certificate_path) if path)
    return ("no certificate in %s issued %s (issuer %s); set issuer_path to a file with the issuing CA certificate"
            % (searched, subject, issuer_name))


def parse_time(module: AnsibleModule, option: str) -> Optional[datetime.datetime]:
    """The option as an aware UTC datetime (ISO 8601; no offset means UTC), or None when unset."""
    text = module.params[option]
    if not text:
        return None
    stripped = text.strip()
    if stripped[-1:] in ("Z", "z"):  # Python 3.9's fromisoformat does not read a trailing Z
        stripped = stripped[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(stripped)
    except ValueError:
        module.fail_json(msg="%s: %r is not an ISO 8601 time; write it like 2026-11-24T04:03:19Z" % (option, text))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


def open_url_fetch(url: str, body: Optional[bytes], headers: Dict[str, str], timeout: float,
                   limit: Optional[int] = None) -> Tuple[int, bytes]:
    """The OCSP engine's HttpFetch on Ansible's `open_url`, so the host's proxy variables apply.

    (url, body or None for GET, headers, timeout) -> (status, body). HTTP
    error statuses come back as (status, body) for the engine to judge;
    transport errors (DNS, refused, timeout) propagate for it to name. At
    most `limit` bytes of the body are read (default: ocsp.MAX_RESPONSE_BYTES).
    open_url and the OCSP engine are imported here, not at the top: a module run that
    fetches nothing (every endpoint stapled) never loads Ansible's HTTP stack (AnsiballZ
    packs them all the same: it reads every import statement).
    """
    from ansible.module_utils.urls import open_url
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import ocsp

    limit = ocsp.MAX_RESPONSE_BYTES if limit is None else limit
    try:
        response = open_url(url, data=body, headers=headers, method="POST" if body is not None else "GET",
                            timeout=timeout, http_agent=HTTP_AGENT, use_netrc=False)
    except urllib.error.HTTPError as error:
        return error.code, error.read(min(limit, ocsp.MAX_RESPONSE_BYTES)) or b""
    with response:
        return response.getcode(), response.read(limit)


def open_url_download(url: str, timeout: float, limit: int) -> Tuple[int, bytes]:
    """The CRL engine's Download (a GET reading at most `limit` bytes) on Ansible's `open_url`."""
    return open_url_fetch(url, None, {}, timeout, limit)
