# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's OCSP responder: a real `openssl ocsp` reading the index.

openssl ocsp reads its index once, at start: after a revocation the lab
restarts it. It binds the port on every address (it takes no host), and
`-multi N` runs N worker processes under one parent, so that several
servers can fetch at once (each worker still answers one request at a time).
"""
from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.lab.processes import HOST, LabError, children, ensure_port_free, pid_alive, process_status, \
    running_pid, spawn_detached, terminate, wait_until

START_TIMEOUT = 10.0
REQUEST_TIMEOUT = 2.0
# Seconds the responder waits for a client's request, so a silent client cannot wedge it.
READ_TIMEOUT = 5


def describe(lab_dir: Path, port: int, pki_section: dict[str, Any], next_update_minutes: int,
             workers: int) -> dict[str, Any]:
    """The `responder` section of lab.json."""
    run_dir = lab_dir / "responder"
    command = [
        shutil.which("openssl") or "openssl", "ocsp",
        "-index", pki_section["index"],
        "-CA", pki_section["intermediate"]["cert"],
        "-rsigner", pki_section["responder"]["cert"],
        "-rkey", pki_section["responder"]["key"],
        "-port", str(port),
        "-nmin", str(next_update_minutes),
        "-timeout", str(READ_TIMEOUT),
        "-ignore_err",
    ]
    if workers > 1:
        command += ["-multi", str(workers)]
    return {
        "url": f"http://{HOST}:{port}",
        "host": HOST,
        "port": port,
        "next_update_minutes": next_update_minutes,
        "workers": workers,
        "run_dir": str(run_dir),
        "pid_file": str(run_dir / "responder.pid"),
        "log_file": str(run_dir / "responder.log"),
        "command": command,
        "pid": None,
    }


def _probe_request(state: dict[str, Any]) -> bytes:
    """An OCSP request for the first leaf, to see the responder answer for real."""
    leaf = next(iter(state["leaves"].values()))
    cert = x509.load_pem_x509_certificate(Path(leaf["cert"]).read_bytes())
    issuer = x509.load_pem_x509_certificate(Path(state["pki"]["intermediate"]["cert"]).read_bytes())
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    return request.public_bytes(serialization.Encoding.DER)


def answers(state: dict[str, Any]) -> bool:
    """True when the responder returns a successful OCSP response."""
    http_request = urllib.request.Request(
        state["responder"]["url"], data=_probe_request(state),
        headers={"Content-Type": "application/ocsp-request"},
    )
    try:
        with urllib.request.urlopen(http_request, timeout=REQUEST_TIMEOUT) as reply:
            body = reply.read()
        return ocsp.load_der_ocsp_response(body).response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    except (OSError, ValueError, urllib.error.URLError):
        return False


def _log_tail(section: dict[str, Any]) -> str:
    try:
        return Path(section["log_file"]).read_text()[-1000:].strip()
    except FileNotFoundError:
        return ""


def start(state: dict[str, Any]) -> None:
    section = state["responder"]
    pid_file = Path(section["pid_file"])
    pid = running_pid(pid_file)
    if pid is None:
        ensure_port_free(section["port"], "the responder")
        run_dir = Path(section["run_dir"])
        run_dir.mkdir(parents=True, exist_ok=True)
        pid = spawn_detached(section["command"], Path(section["log_file"]), run_dir)
        pid_file.write_text(f"{pid}\n")
    section["pid"] = pid
    if not wait_until(lambda: answers(state) or not pid_alive(pid), START_TIMEOUT) or not pid_alive(pid):
        raise LabError(f"the OCSP responder (pid {pid}) did not answer on {section['url']} within "
                       f"{START_TIMEOUT:.0f}s; its log {section['log_file']} says: {_log_tail(section)}")


def stop(state: dict[str, Any]) -> None:
    section = state["responder"]
    pid_file = Path(section["pid_file"])
    pid = running_pid(pid_file)
    if pid is not None:
        workers = children(pid)
        # openssl 3.0's -multi parent ignores SIGTERM (its waitpid loop restarts) and
        # respawns workers: kill the parent first, then the workers it leaves behind.
        terminate(pid, graceful=False)
        for worker in workers:
            terminate(worker, graceful=False)
    pid_file.unlink(missing_ok=True)
    section["pid"] = None


def status(state: dict[str, Any]) -> dict[str, Any]:
    report = process_status(state["responder"])
    report["url"] = state["responder"]["url"]
    report["answering"] = report["running"] and answers(state)
    return report
