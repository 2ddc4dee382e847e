# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab: real openssl ocsp, nginx and apache2, checked with the openssl command line."""
from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from tests.integration.lab_fixtures import lab, lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import core, lab_pki, state as lab_state
from tests.lab.processes import pid_alive

LAB_CLI = Path(__file__).resolve().parents[1] / "lab" / "lab.py"
SERVERS = ("nginx", "apache")


def lab_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(LAB_CLI), *args], capture_output=True, text=True,
                          timeout=120, check=False)


def ocsp_status(state: dict[str, Any], leaf: str) -> str:
    """What `openssl ocsp` prints for `leaf` when it asks the lab's responder and verifies the answer."""
    completed = subprocess.run(
        ["openssl", "ocsp", "-url", state["responder"]["url"],
         "-issuer", state["pki"]["intermediate"]["cert"], "-cert", state["leaves"][leaf]["cert"],
         "-CAfile", state["pki"]["ca_chain"], "-timeout", "10"],
        capture_output=True, text=True, timeout=30, check=True,
    )
    assert "Response verify OK" in completed.stderr + completed.stdout
    return completed.stdout


def s_client(port: int, server_name: str) -> str:
    completed = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", server_name, "-status"],
        input="", capture_output=True, text=True, timeout=30, check=False,
    )
    return completed.stdout


def load_cert(path: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def lab_pids(lab_status: dict[str, Any]) -> list[int]:
    """Every process of the lab: each component's main pid, its workers, the OCSP relay."""
    return [pid for component in core.COMPONENTS
            for pid in [lab_status[component]["pid"], lab_status[component].get("relay_pid"),
                        *lab_status[component]["workers"]] if pid]


def test_responder_answers_good_and_revoked_with_reason(lab: core.Lab) -> None:
    state = lab.state()
    assert ": good" in ocsp_status(state, "plain")
    assert ": good" in ocsp_status(state, "must_staple")
    revoked = ocsp_status(state, "revoked")
    assert ": revoked" in revoked
    assert "Reason: keyCompromise" in revoked
    next_update = re.search(r"Next Update: (.+)", revoked)
    assert next_update, revoked


def test_port_probes_and_garbage_do_not_wedge_the_responder(lab: core.Lab) -> None:
    """openssl ocsp alone spins after a connect-and-close (openssl#31129) and waits out truncated bodies."""
    state = lab.state()
    for _probe in range(2 * state["responder"]["workers"]):
        socket.create_connection(("127.0.0.1", state["responder"]["port"]), timeout=5).close()
    for _garbage in range(state["responder"]["workers"]):
        with pytest.raises(urllib.error.HTTPError) as rejected:
            urllib.request.urlopen(state["responder"]["url"], data=b"\x30\x7f truncated", timeout=5)
        assert rejected.value.code == 400
    held_open = socket.create_connection(("127.0.0.1", state["responder"]["port"]), timeout=5)
    try:
        assert ": good" in ocsp_status(state, "plain")
        assert lab.status()["responder"]["answering"]
    finally:
        held_open.close()


@pytest.mark.parametrize("kind", (*SERVERS, "haproxy"))
def test_servers_serve_each_leaf_by_sni_and_staple_nothing(lab: core.Lab, kind: str) -> None:
    state = lab.state()
    port = state[kind]["port"]
    for leaf in state["leaves"].values():
        output = s_client(port, leaf["server_name"])
        assert re.search(rf"^subject=.*CN ?= ?{re.escape(leaf['server_name'])}$", output, re.M), output
        assert "OCSP response: no response sent" in output
    unknown = s_client(port, "unknown.lab.test")
    assert re.search(r"^subject=.*CN ?= ?plain\.lab\.test$", unknown, re.M), "plain is the default server"


def ocsp_urls(cert: x509.Certificate) -> list[str]:
    try:
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return []
    return [d.access_location.value for d in access if d.access_method == AuthorityInformationAccessOID.OCSP]


def stapled_status(port: int, server_name: str, attempts: int = 20) -> str | None:
    """The `Cert Status` a server staples, after the handshakes it needs to fetch (None: nothing)."""
    for _attempt in range(attempts):
        found = re.search(r"Cert Status: (\w+)", s_client(port, server_name))
        if found:
            return found.group(1)
        time.sleep(0.25)
    return None


def enable_stapling(state: dict[str, Any]) -> None:
    """What the roles will do, by hand: an http-level nginx drop-in, an apache conf enabled by a2enconf."""
    nginx, apache = state["nginx"], state["apache"]
    Path(nginx["dropin_dir"], "stapling.conf").write_text(
        f"ssl_stapling on;\nssl_stapling_verify on;\nssl_trusted_certificate {state['pki']['ca_chain']};\n")
    Path(apache["dropin_dir"], "stapling.conf").write_text(
        "SSLStaplingCache shmcb:${APACHE_RUN_DIR}/ocsp_stapling(128000)\nSSLUseStapling on\n")
    subprocess.run(["a2enconf", "-q", "stapling"], env={**os.environ, **apache["env"]}, check=True)
    for kind in SERVERS:
        subprocess.run(state[kind]["test_command"], check=True, capture_output=True)
        subprocess.run(state[kind]["reload_command"], check=True, capture_output=True)


def test_servers_staple_through_the_responder_once_a_dropin_turns_it_on(lab_factory) -> None:  # noqa: F811
    stapling_lab = lab_factory()
    state = stapling_lab.state()
    system_markers = sorted(Path("/var/lib/apache2").rglob("*"))
    enable_stapling(state)
    assert sorted(Path("/var/lib/apache2").rglob("*")) == system_markers, "a2enconf kept to the lab"
    assert any(Path(state["apache"]["state_dir"]).rglob("stapling"))
    time.sleep(1)  # graceful reloads finish in the background
    expected = {  # nginx staples only good answers; apache staples revoked ones too
        "nginx": {"plain": "good", "must_staple": "good", "revoked": None, "no_ocsp": None},
        "apache": {"plain": "good", "must_staple": "good", "revoked": "revoked", "no_ocsp": None},
    }
    for kind in SERVERS:
        stapled = {name: stapled_status(state[kind]["port"], leaf["server_name"],
                                        attempts=20 if expected[kind][name] else 3)
                   for name, leaf in state["leaves"].items()}
        assert stapled == expected[kind], kind
    stapling_lab.stop()


def test_certificates_have_the_documented_extensions(lab: core.Lab) -> None:
    state = lab.state()
    intermediate = load_cert(state["pki"]["intermediate"]["cert"])
    for name, leaf in state["leaves"].items():
        cert = load_cert(leaf["cert"])
        assert cert.issuer == intermediate.subject
        assert cert.serial_number == leaf["serial"]
        assert ocsp_urls(cert) == ([] if name == "no_ocsp" else [state["responder"]["url"]])
        has_tls_feature = any(isinstance(ext.value, x509.TLSFeature) for ext in cert.extensions)
        assert has_tls_feature == (name == "must_staple")
        assert stat.S_IMODE(Path(leaf["key"]).stat().st_mode) == 0o600
        assert load_cert(leaf["fullchain"]).serial_number == cert.serial_number
    responder = load_cert(state["pki"]["responder"]["cert"])
    assert responder.issuer == intermediate.subject
    assert ExtendedKeyUsageOID.OCSP_SIGNING in responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    ca_keys = Path(state["pki"]["root"]["key"]).parent
    assert stat.S_IMODE(ca_keys.stat().st_mode) == 0o700


def test_ports_derive_from_the_base_port(lab: core.Lab) -> None:
    state = lab.state()
    base = state["base_port"]
    assert state["ports"] == {"responder": base, "nginx": base + 1, "apache": base + 2, "openssl_ocsp": base + 3,
                              "haproxy": base + 4}
    assert state["responder"]["port"] == base and state["nginx"]["port"] == base + 1
    assert state["apache"]["port"] == base + 2


def test_revoke_changes_the_answer_and_is_idempotent(lab_factory) -> None:  # noqa: F811
    revocable = lab_factory(components=("responder",), revoke_initially=False)
    directory = str(revocable.directory)
    assert ": good" in ocsp_status(revocable.state(), "revoked")
    first = lab_cli("revoke", "revoked", "--reason", "superseded", "--dir", directory)
    assert first.returncode == 0, first.stderr
    revoked_at = json.loads(first.stdout)["leaves"]["revoked"]["revocation"]
    answer = ocsp_status(revocable.state(), "revoked")
    assert ": revoked" in answer and "Reason: superseded" in answer
    assert ": good" in ocsp_status(revocable.state(), "plain")
    again = lab_cli("revoke", "revoked", "--dir", directory)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["leaves"]["revoked"]["revocation"] == revoked_at
    index = Path(revocable.state()["pki"]["index"]).read_text().splitlines()
    assert [line[0] for line in index] == ["V", "V", "R", "V"]
    revocable.stop()


def test_start_twice_then_stop_leaves_no_process(lab: core.Lab, lab_factory) -> None:  # noqa: F811
    second = lab_factory()
    directory = str(second.directory)
    state = second.state()
    started = lab_cli("start", "--dir", directory)
    assert started.returncode == 0, started.stderr
    running = json.loads(started.stdout)
    assert all(running[component]["running"] for component in core.COMPONENTS)
    pids = lab_pids(running)
    assert lab_pids(second.status()) == pids, "a second start must reuse the running processes"
    assert len(pids) >= 8  # openssl ocsp + -multi workers, relay, nginx master + worker, apache + children
    # configurations a test left broken: `nginx -s quit` and `apache2ctl stop` cannot parse them
    Path(state["nginx"]["dropin_dir"], "broken.conf").write_text("broken\n")
    Path(state["apache"]["conf_enabled"], "broken.conf").write_text("Broken\n")
    stopped = lab_cli("stop", "--dir", directory)
    assert stopped.returncode == 0, stopped.stderr
    assert [pid for pid in pids if pid_alive(pid)] == []
    assert not any(json.loads(stopped.stdout)[component]["running"] for component in core.COMPONENTS)
    assert lab_cli("stop", "--dir", directory).returncode == 0
    # the module's lab, on other ports, was not disturbed
    assert all(lab.status()[kind]["serving"] for kind in SERVERS)


def test_start_only_starts_what_it_is_told(lab_factory) -> None:  # noqa: F811
    partial = lab_factory(components=("responder", "nginx"))
    status = partial.status()
    assert status["responder"]["answering"] and status["nginx"]["serving"]
    assert not status["apache"]["running"]
    partial.stop()


def test_errors_are_clear(tmp_path: Path, lab: core.Lab) -> None:
    missing = lab_cli("start", "--dir", str(tmp_path / "nothing"))
    assert missing.returncode == 1 and "run `lab.py init" in missing.stderr
    assert json.loads(lab_cli("status", "--dir", str(tmp_path / "nothing")).stdout)["initialised"] is False
    assert lab_cli("stop", "--dir", str(tmp_path / "nothing")).returncode == 0
    assert not (tmp_path / "nothing").exists()
    directory = str(lab.directory)
    assert "no leaf 'nosuch'" in lab_cli("revoke", "nosuch", "--dir", directory).stderr
    wrong_port = lab_cli("status", "--dir", directory, "--base-port", str(lab.state()["base_port"] + 10))
    assert wrong_port.returncode == 1 and "uses base port" in wrong_port.stderr
    # a lab whose ports are taken by the running lab says which
    clash = lab_cli("init", "--dir", str(tmp_path / "clash"), "--base-port", str(lab.state()["base_port"]))
    assert clash.returncode == 1 and "in use" in clash.stderr
    assert lab_cli("start", "--dir", directory, "--only", "bogus").returncode == 2


def test_a_stale_pid_file_never_makes_the_lab_signal_a_stranger(tmp_path: Path) -> None:
    stopped_lab = core.Lab(tmp_path / "lab")
    state = stopped_lab.init(lab_state.free_base_port())
    with subprocess.Popen(["sleep", "60"]) as stranger:
        try:
            for component in ("responder", "nginx", "apache", "haproxy"):
                Path(state[component]["pid_file"]).parent.mkdir(parents=True, exist_ok=True)
                Path(state[component]["pid_file"]).write_text(f"{stranger.pid}\n")
            report = stopped_lab.stop()
            assert pid_alive(stranger.pid)
            assert not any(report[component]["running"] for component in core.COMPONENTS)
        finally:
            stranger.kill()


def test_init_force_over_an_older_lab_stops_its_processes_only(tmp_path: Path) -> None:
    directory = tmp_path / "old-lab"
    (directory / "run").mkdir(parents=True)
    with subprocess.Popen(["sleep", "60"], cwd=directory / "run") as old_daemon, \
            subprocess.Popen(["sleep", "60"]) as stranger:
        try:
            for name, process in (("daemon", old_daemon), ("stranger", stranger)):
                (directory / "run" / f"{name}.pid").write_text(f"{process.pid}\n")
            (directory / "lab.json").write_text(json.dumps({"version": 0, "responder": {
                "pid_file": str(directory / "run" / "daemon.pid"),
                "relay_pid_file": str(directory / "run" / "stranger.pid")}}))
            rebuilt = lab_cli("init", "--force", "--dir", str(directory), "--base-port", str(lab_state.free_base_port()))
            assert rebuilt.returncode == 0, rebuilt.stderr
            assert not pid_alive(old_daemon.pid) and pid_alive(stranger.pid)
            assert core.Lab(directory).state()["version"] == lab_state.STATE_VERSION
        finally:
            stranger.kill()


def test_default_base_port_depends_on_the_directory(tmp_path: Path) -> None:
    first, second = lab_state.default_base_port(tmp_path / "a"), lab_state.default_base_port(tmp_path / "b")
    assert first != second
    assert first == lab_state.default_base_port(tmp_path / "a")
    assert lab_state.DEFAULT_PORT_FIRST <= first < 32768 - lab_state.PORT_BLOCK
    assert lab_pki.server_name("must_staple") == "must-staple.lab.test"
