# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The haproxy_stapling role and its refresher against the lab's private haproxy 2.6 and real `openssl ocsp`.

Every test gets its own lab (own directory, own free ports) and runs real
ansible-playbook runs against localhost; staples are read with openssl
s_client, the refresher runs as the program the role installed.
"""
from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import core, lab_pki, responder, role_vars
from tests.lab.processes import children, section_pid
from tests.support.pki import Issued, issue
from tests.support.role_checks import by_leaf, endpoint_facts, s_client_status, tree_digest

PLAYBOOKS = Path(__file__).resolve().parent / "haproxy"
SERVING = ("responder", "haproxy")
# the oldest cryptography a host ships (3.4.8), when `make venv-oldest` made it
OLDEST_PYTHON = Path(__file__).resolve().parents[2] / ".venv-oldest" / "bin" / "python"
THIS_UPDATE = re.compile(r"This Update: (.+)")
STAPLED_SERIAL = re.compile(r"OCSP Response Data:.*?Serial Number: ([0-9A-F]+)", re.DOTALL)


def lab_vars(state: dict[str, Any], **extra: Any) -> dict[str, Any]:
    # the refresher runs with the Python that runs the modules here (it has cryptography)
    return role_vars.haproxy(state, haproxy_stapling_refresher_python=sys.executable, **extra)


def refresher(state: dict[str, Any], *args: str, python: str = sys.executable) -> tuple[int, dict[str, Any]]:
    """Run the refresher program the role installed, on its own; (exit status, its JSON result)."""
    directory = Path(state["haproxy"]["prefix"]) / "refresher"
    completed = subprocess.run(
        [python, str(directory / "tlsops-ocsp-haproxy-refresh.py"), "--settings",
         str(directory / "settings.json"), "--json", *args],
        capture_output=True, text=True, timeout=120, check=False)
    return completed.returncode, json.loads(completed.stdout)


def record(result: dict[str, Any], state: dict[str, Any], leaf: str) -> dict[str, Any]:
    return next(entry for entry in result["certificates"] if entry["path"] == state["haproxy"]["bundles"][leaf])


def this_update(state: dict[str, Any], leaf: str) -> str:
    match = THIS_UPDATE.search(s_client_status(state, "haproxy", leaf))
    assert match, f"no staple for {leaf}"
    return match.group(1).strip()


def haproxy_processes(state: dict[str, Any]) -> list[int]:
    pid = section_pid(state["haproxy"])
    assert pid is not None
    return [pid, *children(pid)]


def renew(state: dict[str, Any], leaf: str) -> int:
    """Renew a leaf in place as a renewal hook does: same name, new key and serial, known to the responder;
    then reload HAProxy. Returns the new serial."""
    intermediate = Issued(x509.load_pem_x509_certificate(Path(state["pki"]["intermediate"]["cert"]).read_bytes()),
                          serialization.load_pem_private_key(
                              Path(state["pki"]["intermediate"]["key"]).read_bytes(), None))
    old = state["leaves"][leaf]
    new = issue(old["server_name"], intermediate, ocsp_urls=[old["ocsp_url"]], dns_names=[old["server_name"]])
    cert_path = Path(old["cert"]).with_name("renewed.pem")
    cert_path.write_bytes(new.pem)
    serial_hex = "%X" % new.cert.serial_number
    renewed = dict(old, cert=str(cert_path), serial_hex=serial_hex if len(serial_hex) % 2 == 0 else "0" + serial_hex)
    lab_pki.write_index(Path(state["pki"]["index"]), dict(state["leaves"], renewed=renewed))
    responder.reload_index(state)
    Path(state["haproxy"]["bundles"][leaf]).write_bytes(new.pem + intermediate.pem + new.key_pem)
    subprocess.run(["kill", "-USR2", str(section_pid(state["haproxy"]))], check=True)
    time.sleep(2)  # the master starts new workers
    return new.cert.serial_number


def pem_certificate(path: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def expired_response(state: dict[str, Any], leaf: str) -> bytes:
    """A response the lab's responder certificate signed, whose nextUpdate passed an hour ago."""
    pki = state["pki"]
    signer_key = serialization.load_pem_private_key(Path(pki["responder"]["key"]).read_bytes(), None)
    signer = pem_certificate(pki["responder"]["cert"])
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    builder = ocsp.OCSPResponseBuilder().add_response(
        pem_certificate(state["leaves"][leaf]["cert"]), pem_certificate(pki["intermediate"]["cert"]), hashes.SHA1(),
        ocsp.OCSPCertStatus.GOOD, now - datetime.timedelta(days=2), now - datetime.timedelta(hours=1), None, None)
    builder = builder.responder_id(ocsp.OCSPResponderEncoding.NAME, signer).certificates([signer])
    return builder.sign(signer_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def stapled_serial(state: dict[str, Any], leaf: str) -> int:
    match = STAPLED_SERIAL.search(s_client_status(state, "haproxy", leaf))
    assert match, f"no staple for {leaf}"
    return int(match.group(1), 16)


@pytest.fixture
def fresh_lab(lab_factory):  # noqa: F811
    return lab_factory(components=SERVING, revoke_initially=False)


def test_enable_staples_every_name_is_idempotent_and_absent_restores_byte_for_byte(
        fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    before = tree_digest(state, "haproxy")

    checked = run_playbook(PLAYBOOKS / "enable.yml", lab_vars(state), check=True, diff=True)
    assert checked.returncode == 0, checked.failure_messages()
    assert checked.changed() > 0 and tree_digest(state, "haproxy") == before
    assert "OCSP response: no response sent" in s_client_status(state, "haproxy", "plain")

    first = run_playbook(PLAYBOOKS / "enable.yml", lab_vars(state))
    assert first.returncode == 0, first.failure_messages()
    for leaf in ("plain", "must_staple", "revoked"):
        assert "Cert Status: good" in s_client_status(state, "haproxy", leaf), leaf
    no_ocsp = s_client_status(state, "haproxy", "no_ocsp")
    assert "Verify return code: 0 (ok)" in no_ocsp and "OCSP response: no response sent" in no_ocsp
    facts = endpoint_facts(first, "haproxy_stapling")
    for leaf in ("plain", "must_staple", "revoked"):
        assert by_leaf(state, facts, leaf)["verdict"] == "good", leaf
    assert by_leaf(state, facts, "no_ocsp")["verdict"] == "not_applicable"
    assert all(entry["server_kind"] == "haproxy" for entry in facts.values())
    cron = Path(state["haproxy"]["prefix"]) / "cron.d" / "tlsops-ocsp-haproxy"
    assert "tlsops-ocsp-haproxy-refresh.py --settings" in cron.read_text()
    assert oct(Path(state["haproxy"]["bundles"]["plain"] + ".ocsp").stat().st_mode & 0o777) == "0o644"

    second = run_playbook(PLAYBOOKS / "enable.yml", lab_vars(state))
    assert second.returncode == 0, second.failure_messages()
    assert second.changed() == 0

    audit = run_playbook(PLAYBOOKS / "audit.yml", lab_vars(state))
    assert audit.returncode == 0 and audit.changed() == 0
    assert by_leaf(state, endpoint_facts(audit, "haproxy_stapling"), "must_staple")["verdict"] == "good"

    removed = run_playbook(PLAYBOOKS / "enable.yml", lab_vars(state, haproxy_stapling_state="absent"))
    assert removed.returncode == 0, removed.failure_messages()
    assert tree_digest(state, "haproxy") == before
    assert "OCSP response: no response sent" in s_client_status(state, "haproxy", "plain")


def test_refresher_alone_renews_live_follows_a_renewal_and_keeps_valid_files_when_the_responder_is_down(
        fresh_lab: core.Lab, run_playbook):
    state = fresh_lab.state()
    enabled = run_playbook(PLAYBOOKS / "enable.yml", lab_vars(state))
    assert enabled.returncode == 0, enabled.failure_messages()
    staple_before = this_update(state, "plain")
    processes = haproxy_processes(state)
    time.sleep(1.1)  # a new response carries a later thisUpdate

    # not due: nothing is fetched
    status, result = refresher(state)
    assert status == 0 and not result["changed"]
    assert record(result, state, "plain")["action"] == "kept"

    # due (less than an hour left): fetched, verified, written and pushed, with no reload; with the oldest
    # cryptography when that venv exists
    python = str(OLDEST_PYTHON) if OLDEST_PYTHON.exists() else sys.executable
    status, result = refresher(state, "--renew-before", "7200", python=python)
    assert status == 0, result
    plain = record(result, state, "plain")
    assert plain["action"] == "written" and plain["pushed"] and plain["verdict"] == "good"
    assert this_update(state, "plain") != staple_before
    assert haproxy_processes(state) == processes

    # a renewed certificate (and HAProxy reloaded by the renewal): the next run staples for the new one
    old_serial = stapled_serial(state, "plain")
    new_serial = renew(state, "plain")
    status, result = refresher(state)
    plain = record(result, state, "plain")
    assert status == 0 and plain["action"] == "written" and plain["pushed"], plain
    assert plain["serial_number"] == new_serial
    assert stapled_serial(state, "plain") == new_serial != old_serial
    assert "Cert Status: good" in s_client_status(state, "haproxy", "plain")

    # responder down: the current valid file stays and is still stapled; the failure is reported
    ocsp_file = Path(state["haproxy"]["bundles"]["plain"] + ".ocsp")
    kept = ocsp_file.read_bytes()
    fresh_lab.stop(["responder"])
    status, result = refresher(state, "--renew-before", "7200")
    assert status == 1
    plain = record(result, state, "plain")
    assert plain["action"] == "kept" and plain["failed"] and "unreachable" in plain["reason"]
    assert ocsp_file.read_bytes() == kept
    assert "Cert Status: good" in s_client_status(state, "haproxy", "plain")

    # responder down and a file past its nextUpdate: removed, never stapled after HAProxy's next reload
    expired_file = Path(state["haproxy"]["bundles"]["must_staple"] + ".ocsp")
    expired_file.write_bytes(expired_response(state, "must_staple"))
    status, result = refresher(state)
    must_staple = record(result, state, "must_staple")
    assert status == 1 and must_staple["action"] == "removed" and must_staple["reload_needed"], must_staple
    assert not expired_file.exists()
    subprocess.run(["kill", "-USR2", str(section_pid(state["haproxy"]))], check=True)
    time.sleep(2)
    assert "OCSP response: no response sent" in s_client_status(state, "haproxy", "must_staple")


def test_revoked_leaf_is_stapled_revoked_and_fails_the_host(lab_factory, run_playbook):  # noqa: F811
    lab = lab_factory(components=SERVING, revoke_initially=True)
    state = lab.state()
    run = run_playbook(PLAYBOOKS / "enable.yml", lab_vars(state))
    assert run.returncode != 0
    assert any("revoked" in message for message in run.failure_messages())
    assert "Cert Status: revoked" in s_client_status(state, "haproxy", "revoked")
    assert by_leaf(state, endpoint_facts(run, "haproxy_stapling"), "revoked")["verdict"] == "revoked"
    assert "Cert Status: good" in s_client_status(state, "haproxy", "plain")
    lab.stop()
