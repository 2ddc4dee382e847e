# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The four modules through real ansible-playbook runs on localhost.

staple_info asks real `openssl s_server` processes (TLS 1.2 and TLS 1.3) that
staple a good, a revoked, a forged or no response; responder_info asks a
real `openssl ocsp` responder (index in `openssl ca` format, delegated
responder certificate) and one that is down; certificate_info and
response_info read files, including a response fetched from that responder
by the `openssl ocsp` client. Every server started here is stopped by its
fixture's finalizer.
"""
from __future__ import annotations

import datetime
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from cryptography import x509

from tests.conftest import REPO_ROOT, PlaybookRun, free_port
from tests.support.pki import Issued, SServer, TestPKI, issue, utcnow

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

PLAYBOOKS = Path(__file__).resolve().parent / "modules"
# The managed host's Python: the controller's (newest cryptography and pyOpenSSL),
# or the oldest pair a distribution ships (cryptography 3.4.8, pyOpenSSL 21.0.0).
OLDEST_PYTHON = REPO_ROOT / ".venv-oldest" / "bin" / "python"
INDEX_TIME = "%y%m%d%H%M%SZ"  # openssl ca's index.txt time format
START_TIMEOUT = 10.0


@dataclass
class Lab:
    """The PKI, its files and the port of the OCSP responder named in the leaves."""

    pki: TestPKI
    good: Issued
    revoked: Issued
    directory: Path
    responder_port: int

    def write(self, name: str, *certs: Issued) -> str:
        path = self.directory / name
        path.write_bytes(b"".join(cert.pem for cert in certs))
        path.chmod(0o644)
        return str(path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Lab:
    port = free_port()
    pki = TestPKI(ocsp_url="http://127.0.0.1:%d" % port)
    return Lab(pki, pki.leaf("good.example.test"), pki.leaf("revoked.example.test"),
               tmp_path_factory.mktemp("modules-lab"), port)


@pytest.fixture(scope="module", params=["newest", "oldest"])
def host_python(request) -> Dict[str, str]:
    """Extra vars that pick the managed host's Python for the module runs."""
    if request.param == "newest":
        return {}
    if not OLDEST_PYTHON.exists():
        pytest.skip("no %s (make venv-oldest)" % OLDEST_PYTHON)
    return {"ansible_python_interpreter": str(OLDEST_PYTHON)}


# --- openssl ocsp -------------------------------------------------------------

def index_line(cert: x509.Certificate, revoked_at: Optional[datetime.datetime] = None) -> str:
    """One line of `openssl ca`'s index.txt: V (valid) or R (revoked, with time and reason)."""
    serial = "%X" % cert.serial_number
    serial = serial if len(serial) % 2 == 0 else "0" + serial
    subject = "/" + "/".join(attribute.rfc4514_string() for attribute in cert.subject)
    expiry = cert.not_valid_after_utc.strftime(INDEX_TIME)  # integration runs on the newest cryptography
    if revoked_at is None:
        return "\t".join(("V", expiry, "", serial, "unknown", subject)) + "\n"
    return "\t".join(("R", expiry, revoked_at.strftime(INDEX_TIME) + ",keyCompromise", serial, "unknown",
                      subject)) + "\n"


def wait_until_listening(process: subprocess.Popen, log: Path) -> None:
    """Wait for the responder's ACCEPT line.

    Not by connecting: openssl ocsp 3.0 answers nothing more after a client
    that connects and closes without a request.
    """
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if log.read_bytes().startswith(b"ACCEPT "):
            return
        time.sleep(0.05)
    raise RuntimeError("openssl ocsp did not start: %s" % log.read_text(errors="replace"))


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def ocsp_responder(lab: Lab) -> Iterator[str]:
    """A real `openssl ocsp` on the port the leaves name, answering with the delegated responder's key."""
    directory = lab.directory / "responder"
    directory.mkdir()
    index = directory / "index.txt"
    revoked_at = utcnow() - datetime.timedelta(hours=2)
    index.write_text(index_line(lab.good.cert) + index_line(lab.revoked.cert, revoked_at))
    (directory / "index.txt.attr").write_text("unique_subject = no\n")
    key = directory / "responder.key"
    key.write_bytes(lab.pki.delegate.key_pem)
    key.chmod(0o600)
    log = directory / "ocsp.log"
    command = ["openssl", "ocsp", "-index", str(index), "-port", str(lab.responder_port),
               "-CA", lab.write("ca.pem", lab.pki.intermediate), "-rsigner", lab.write("rsigner.pem", lab.pki.delegate),
               "-rkey", str(key), "-nmin", "60", "-timeout", "5", "-ignore_err"]
    with open(log, "wb") as output:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=output)
    try:
        wait_until_listening(process, log)
        yield "http://127.0.0.1:%d" % lab.responder_port
    finally:
        stop(process)


# --- openssl s_server -----------------------------------------------------------

STAPLE_CASES = ("good", "revoked", "none", "forged", "other_ca")


def staple_for(lab: Lab, case: str) -> Optional[bytes]:
    """What the server staples for lab.good (or lab.revoked) in each case."""
    if case == "good":
        return lab.pki.response(lab.good.cert)
    if case == "revoked":
        return lab.pki.response(lab.revoked.cert, "revoked", revocation_reason=x509.ReasonFlags.key_compromise)
    if case == "forged":  # claims to come from the issuer, signed with another CA's key of the same name
        impostor = TestPKI()
        return impostor.response(lab.good.cert, issuer=lab.pki.intermediate, signer=impostor.intermediate)
    if case == "other_ca":  # signed by a CA that never issued the leaf
        return lab.pki.response(lab.good.cert, signer=issue("Other CA", is_ca=True))
    return None


@pytest.fixture(scope="module", params=["tls1_2", "tls1_3"])
def staple_servers(request, lab: Lab, tmp_path_factory) -> Iterator[Dict[str, Any]]:
    """One s_server per case, pinned to one protocol; {"protocol": ..., "ports": {case: port}}."""
    servers: List[SServer] = []
    try:
        ports = {}
        for case in STAPLE_CASES:
            leaf = lab.revoked if case == "revoked" else lab.good
            server = SServer(tmp_path_factory.mktemp("s_server-" + case), free_port(), leaf, [lab.pki.intermediate],
                             staple_for(lab, case), request.param)
            servers.append(server)
            ports[case] = server.start().port
        yield {"protocol": request.param, "ports": ports}
    finally:
        for server in servers:
            server.stop()


# --- staple_info -----------------------------------------------------------------

PROTOCOL_NAMES = {"tls1_2": ("TLSv1.2", "1.2", "1.3"), "tls1_3": ("TLSv1.3", "1.3", "1.2")}
EXPECTED_STAPLE_VERDICTS = {
    "good": "good", "revoked": "revoked", "none": "no_staple", "forged": "bad_signature",
    "other_ca": "unauthorized_signer",
}


@pytest.fixture(scope="module")
def staple_run(run_playbook, staple_servers, host_python) -> Dict[str, Any]:
    protocol, version, other_version = PROTOCOL_NAMES[staple_servers["protocol"]]
    ports = staple_servers["ports"]
    run = run_playbook(PLAYBOOKS / "staple_info.yml", {
        **host_python,
        "staple_endpoints": [{"host": "127.0.0.1", "port": ports[case], "server_name": "good.example.test"}
                             for case in STAPLE_CASES],
        "staple_single_port": ports["good"],
        "staple_single_server_name": "good.example.test",
        "staple_tls_version": version,
        "staple_other_tls_version": other_version,
    })
    assert not run.failed(), run.failure_messages() or run.stderr
    return {"run": run, "protocol": protocol, "ports": ports}


def registered(run: PlaybookRun, task: str) -> Dict[str, Any]:
    (result,) = run.results(task)
    return result


@pytest.mark.parametrize("case", STAPLE_CASES)
def test_staple_info_verdict_per_endpoint(staple_run, case):
    entries = registered(staple_run["run"], "Check every endpoint in one call")["endpoints"]
    entry = entries[STAPLE_CASES.index(case)]

    assert entry["port"] == staple_run["ports"][case]
    assert entry["protocol"] == staple_run["protocol"]
    assert entry["verdict"] == EXPECTED_STAPLE_VERDICTS[case], entry["reason"]
    assert entry["stapled"] is (case != "none")
    assert "127.0.0.1:%d" % entry["port"] in entry["reason"]


def test_staple_info_revoked_entry_carries_the_status(staple_run):
    entries = registered(staple_run["run"], "Check every endpoint in one call")["endpoints"]
    revoked = entries[STAPLE_CASES.index("revoked")]

    assert revoked["cert_status"] == "revoked"
    assert revoked["ocsp_uris"] and revoked["must_staple"] is False
    assert revoked["serial_number"] > 0


def test_staple_info_single_endpoint_and_unchanged(staple_run):
    result = registered(staple_run["run"], "Check one endpoint by host, port and server name")
    (entry,) = result["endpoints"]

    assert result["changed"] is False
    assert (entry["verdict"], entry["protocol"], entry["server_name"]) == (
        "good", staple_run["protocol"], "good.example.test")
    assert entry["seconds_until_next_update"] > 0
    assert staple_run["run"].changed() == 0


def test_staple_info_other_protocol_is_unreachable(staple_run):
    (entry,) = registered(staple_run["run"], "Check one endpoint over the other protocol only")["endpoints"]

    assert entry["verdict"] == "unreachable"
    assert "handshake" in entry["reason"]


# --- responder_info ---------------------------------------------------------------

@pytest.fixture(scope="module")
def responder_run(run_playbook, lab: Lab, ocsp_responder: str, host_python) -> PlaybookRun:
    run = run_playbook(PLAYBOOKS / "responder_info.yml", {
        **host_python,
        "responder_good_chain": lab.write("good-chain.pem", lab.good, lab.pki.intermediate),
        "responder_good_leaf": lab.write("good.pem", lab.good),
        "responder_issuer": lab.write("issuer.pem", lab.pki.intermediate),
        "responder_revoked_chain": lab.write("revoked-chain.pem", lab.revoked, lab.pki.intermediate),
        "responder_down_url": "http://127.0.0.1:%d" % free_port(),
    })
    assert not run.failed(), run.failure_messages() or run.stderr
    return run


def test_responder_info_good_from_the_real_responder(responder_run, ocsp_responder):
    result = registered(responder_run, "Ask about the good certificate")

    assert (result["verdict"], result["cert_status"], result["signed_by"]) == ("good", "good", "delegate"), result["reason"]
    assert (result["url"], result["http_status"]) == (ocsp_responder, 200)
    assert result["responder"] == "CN=tlsops Test OCSP Responder,O=tlsops test"
    assert result["next_update"] is not None and result["changed"] is False


def test_responder_info_get_with_nonce_and_sha256(responder_run):
    result = registered(responder_run, "Ask about the good certificate by GET with a nonce and a SHA-256 CertID")

    assert (result["verdict"], result["http_status"]) == ("good", 200)


def test_responder_info_revoked_with_time_and_reason(responder_run):
    result = registered(responder_run, "Ask about the revoked certificate")

    assert (result["verdict"], result["cert_status"]) == ("revoked", "revoked")
    assert result["revocation_reason"] == "keyCompromise"
    revoked_at = datetime.datetime.strptime(result["revocation_time"], "%Y-%m-%dT%H:%M:%SZ")
    assert datetime.timedelta(hours=1) < utcnow() - revoked_at < datetime.timedelta(hours=3)


def test_responder_info_down_is_unreachable_with_the_cause(responder_run):
    result = registered(responder_run, "Ask a responder that is down")

    assert result.get("failed") is not True
    assert (result["verdict"], result["http_status"], result["cert_status"]) == ("unreachable", None, None)
    assert "connection refused" in result["reason"]


# --- certificate_info and response_info -------------------------------------------

@pytest.fixture(scope="module")
def fetched_response(lab: Lab, ocsp_responder: str) -> str:
    """A response for lab.good, fetched from the responder by the `openssl ocsp` client."""
    path = lab.directory / "good.ocsp"
    subprocess.run(["openssl", "ocsp", "-issuer", lab.write("issuer.pem", lab.pki.intermediate),
                    "-cert", lab.write("good.pem", lab.good), "-url", ocsp_responder, "-respout", str(path),
                    "-noverify", "-timeout", "10"], check=True, capture_output=True, timeout=30)
    return str(path)


@pytest.fixture(scope="module")
def info_vars(lab: Lab, fetched_response: str, host_python) -> Dict[str, Any]:
    return {
        **host_python,
        "info_chain": lab.write("good-chain.pem", lab.good, lab.pki.intermediate),
        "info_leaf": lab.write("good.pem", lab.good),
        "info_issuer": lab.write("issuer.pem", lab.pki.intermediate),
        "info_paths": [lab.write("revoked.pem", lab.revoked), lab.write("good.pem", lab.good)],
        "info_response": fetched_response,
        "info_week_later": (utcnow() + datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "info_missing": str(lab.directory / "absent.pem"),
    }


@pytest.fixture(scope="module")
def info_run(run_playbook, info_vars: Dict[str, Any]) -> PlaybookRun:
    run = run_playbook(PLAYBOOKS / "info.yml", info_vars)
    assert not run.failed(), run.failure_messages() or run.stderr
    return run


def test_certificate_info_chain_through_a_playbook(info_run, lab: Lab):
    leaf, intermediate = registered(info_run, "Inspect a chain file")["certificates"]

    assert (leaf["serial_number"], leaf["issuer_in_file"], leaf["stapling_applicable"]) == (
        lab.good.cert.serial_number, True, True)
    assert leaf["ocsp_uris"] == [lab.pki.ocsp_url]
    assert (intermediate["is_ca"], intermediate["issuer_in_file"]) == (True, False)


def test_certificate_info_paths_in_order(info_run, lab: Lab):
    certificates = registered(info_run, "Inspect several files at once")["certificates"]

    assert [c["serial_number"] for c in certificates] == [lab.revoked.cert.serial_number,
                                                          lab.good.cert.serial_number]


def test_certificate_info_missing_file_message(info_run, lab: Lab):
    result = registered(info_run, "Inspect a file that is not there")

    assert result["failed"] is True
    assert result["msg"] == "path: %s: cannot be read: no such file; check the path" % (lab.directory / "absent.pem")
    assert result["files"] == [{"path": str(lab.directory / "absent.pem"), "certificates": 0,
                                "error": result["msg"][len("path: "):]}]
    assert "Traceback" not in str(result)


def test_response_info_on_the_fetched_response(info_run):
    result = registered(info_run, "Verify the stored response from its file")

    assert (result["verdict"], result["signed_by"], result["changed"]) == ("good", "delegate", False)


def test_response_info_from_memory_a_week_later_is_expired(info_run):
    result = registered(info_run, "Verify the stored response from memory, a week later")

    assert result["verdict"] == "expired"  # -nmin 60: nextUpdate is an hour after thisUpdate
    assert "nextUpdate" in result["reason"]


@pytest.fixture(scope="module")
def checked_info_run(run_playbook, info_vars: Dict[str, Any]) -> PlaybookRun:
    return run_playbook(PLAYBOOKS / "info.yml", info_vars, check=True)


@pytest.mark.parametrize("task", ["Inspect a chain file", "Inspect several files at once",
                                  "Verify the stored response from its file",
                                  "Verify the stored response from memory, a week later"])
def test_info_modules_in_check_mode_report_the_same(checked_info_run, info_run, task):
    def stable(result: Dict[str, Any]) -> Dict[str, Any]:
        return {key: value for key, value in result.items() if key != "seconds_until_next_update"}

    assert not checked_info_run.failed() and checked_info_run.changed() == 0
    assert stable(registered(checked_info_run, task)) == stable(registered(info_run, task))


# --- a managed host without the libraries -----------------------------------------

# Exits 3 on a Python 3.9 without cryptography.
_PROBE = ("import sys, importlib.util; sys.exit(3 if sys.version_info[:2] == (3, 9) "
          "and importlib.util.find_spec('cryptography') is None else 0)")


def python_without_cryptography() -> Optional[str]:
    """A Python 3.9 (the oldest managed hosts run) that lacks cryptography, if this machine has one."""
    candidates = [shutil.which("python3.9")] + sorted(
        str(path) for path in (Path.home() / ".pyenv" / "versions").glob("3.9*/bin/python3.9"))
    for python in filter(None, candidates):
        probe = subprocess.run([python, "-c", _PROBE], capture_output=True, check=False, timeout=60)
        if probe.returncode == 3:
            return python
    return None


def test_missing_cryptography_is_a_clear_failure_on_python_3_9(run_playbook, lab: Lab):
    python = python_without_cryptography()
    if python is None:
        pytest.skip("no python3.9 without cryptography on this machine")

    run = run_playbook(PLAYBOOKS / "info.yml", {
        "ansible_python_interpreter": python,
        "info_chain": lab.write("good-chain.pem", lab.good, lab.pki.intermediate),
    })

    (message,) = run.failure_messages()
    assert message.startswith("Failed to import the required Python library (cryptography) on")
    assert "Traceback" not in message and "SyntaxError" not in run.stderr
