# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's OCSP responder: a real `openssl ocsp` reading the index, behind a relay.

The relay also publishes the intermediate's CRL (written afresh at each start).

openssl ocsp reads its index once, at start: after a revocation the lab
restarts it. It binds its internal port on every address (it takes no host);
`-multi N` runs N worker processes under one parent, each answering one
request at a time. Clients talk to ocsp_relay.py on 127.0.0.1 (see there why).
"""
from __future__ import annotations

import shutil
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.lab import lab_pki
from tests.lab.processes import HOST, LabError, children, ensure_port_free, log_tail, pid_alive, process_status, \
    section_pid, spawn_detached, terminate, wait_until

START_TIMEOUT = 10.0
REQUEST_TIMEOUT = 2.0
RELAY_SCRIPT = Path(__file__).resolve().with_name("ocsp_relay.py")
# who signs the answers: the delegated responder certificate (RFC 6960 4.2.2.2), or the issuing CA itself
DELEGATE, ISSUER = "responder", "intermediate"


def describe(lab_dir: Path, port: int, upstream_port: int, pki_section: dict[str, Any],
             next_update_minutes: int, workers: int, signer: str = DELEGATE) -> dict[str, Any]:
    """The `responder` section of lab.json."""
    run_dir = lab_dir / "responder"
    command = [
        shutil.which("openssl") or "openssl", "ocsp",
        "-index", pki_section["index"],
        "-CA", pki_section["intermediate"]["cert"],
        "-rsigner", pki_section[signer]["cert"],
        "-rkey", pki_section[signer]["key"],
        "-port", str(upstream_port),
        "-nmin", str(next_update_minutes),
        "-ignore_err",  # a malformed request must not end the responder
    ]
    if workers > 1:
        command += ["-multi", str(workers)]
    return {
        "url": f"http://{HOST}:{port}",
        "host": HOST,
        "port": port,
        "upstream_port": upstream_port,
        "next_update_minutes": next_update_minutes,
        "workers": workers,
        "signer": signer,
        "run_dir": str(run_dir),
        "pid_file": str(run_dir / "responder.pid"),
        "log_file": str(run_dir / "responder.log"),
        "command": command,
        "process_marker": f"-index {pki_section['index']}",
        "relay_pid_file": str(run_dir / "relay.pid"),
        "relay_log_file": str(run_dir / "relay.log"),
        "relay_command": [sys.executable, str(RELAY_SCRIPT), str(port), str(upstream_port),
                          lab_pki.CRL_PATH, pki_section["crl"]],
        "relay_process_marker": f"{RELAY_SCRIPT} {port} {upstream_port}",
        "pid": None,
    }


def _probe_request(state: dict[str, Any]) -> bytes:
    """An OCSP request for the first leaf, to see the responder answer for real."""
    leaf = next(iter(state["leaves"].values()))
    cert = x509.load_pem_x509_certificate(Path(leaf["cert"]).read_bytes())
    issuer = x509.load_pem_x509_certificate(Path(state["pki"]["intermediate"]["cert"]).read_bytes())
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    return request.public_bytes(serialization.Encoding.DER)


def answers(state: dict[str, Any], port: int) -> bool:
    """True when `port` returns a successful OCSP response to a real request."""
    http_request = urllib.request.Request(
        f"http://{HOST}:{port}", data=_probe_request(state),
        headers={"Content-Type": "application/ocsp-request"},
    )
    try:
        with urllib.request.urlopen(http_request, timeout=REQUEST_TIMEOUT) as reply:
            body = reply.read()
        return ocsp.load_der_ocsp_response(body).response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    except (OSError, ValueError, urllib.error.URLError):
        return False


def _start_process(state: dict[str, Any], what: str, prefix: str, port: int) -> int:
    """Start `<prefix>command` unless `<prefix>pid_file` names it running; wait until `port` answers OCSP."""
    section = state["responder"]
    pid = section_pid(section, prefix)
    log_file = section[f"{prefix}log_file"]
    if pid is None:
        ensure_port_free(port, what)
        pid_file = Path(section[f"{prefix}pid_file"])
        pid = spawn_detached(section[f"{prefix}command"], Path(log_file), pid_file.parent)
        pid_file.write_text(f"{pid}\n")
    if not wait_until(lambda: answers(state, port) or not pid_alive(pid), START_TIMEOUT) or not pid_alive(pid):
        raise LabError(f"{what} (pid {pid}) did not answer OCSP on 127.0.0.1:{port} within "
                       f"{START_TIMEOUT:.0f}s; its log {log_file} says: {log_tail(log_file)}")
    return pid


def start(state: dict[str, Any]) -> None:
    section = state["responder"]
    Path(section["run_dir"]).mkdir(parents=True, exist_ok=True)
    lab_pki.write_crl(state["pki"], state["leaves"])  # a lab that ran past nextUpdate gets a fresh CRL
    section["pid"] = _start_process(state, "openssl ocsp", "", section["upstream_port"])
    _start_process(state, "the OCSP relay", "relay_", section["port"])


def stop(state: dict[str, Any]) -> None:
    section = state["responder"]
    relay_pid = section_pid(section, "relay_")
    if relay_pid is not None:
        terminate(relay_pid)
    pid = section_pid(section)
    if pid is not None:
        workers = children(pid)
        # openssl 3.0's -multi parent ignores SIGTERM (its waitpid loop restarts) and
        # respawns workers: kill the parent first, then the workers it leaves behind.
        terminate(pid, graceful=False)
        for worker in workers:
            terminate(worker, graceful=False)
    for pid_file in (section["pid_file"], section["relay_pid_file"]):
        Path(pid_file).unlink(missing_ok=True)
    section["pid"] = None


def reload_index(state: dict[str, Any]) -> None:
    """openssl ocsp reads its index only at start: restart the responder when it runs."""
    if section_pid(state["responder"]) is not None:
        stop(state)
        start(state)


def status(state: dict[str, Any]) -> dict[str, Any]:
    section = state["responder"]
    report = process_status(section)
    relay_pid = section_pid(section, "relay_")
    report.update({
        "running": report["running"] and relay_pid is not None,
        "relay_pid": relay_pid,
        "upstream_port": section["upstream_port"],
        "url": section["url"],
    })
    report["answering"] = report["running"] and answers(state, section["port"])
    return report
