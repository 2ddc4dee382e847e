# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tlsops.ocsp.iis_stapling against an emulated Windows host.

No Windows host runs here. The "Windows" host `iis01` is localhost through the
local connection; test-only stand-ins for the ansible.windows modules
(tests/integration/iis/collections) keep its registry, services, IIS bindings
and an event log in a JSON file. The staple check is real: the role delegates
tlsops.ocsp.staple_info to localhost, which handshakes with endpoints built
from the lab (tests/lab): an `openssl s_server` stapling what the lab's
`openssl ocsp` responder answered for a lab certificate (what HTTP.sys does),
or the lab's nginx, which staples nothing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import core
from tests.support.pki import Issued, SServer

HERE = Path(__file__).resolve().parent / "iis"
STANDIN_COLLECTIONS = HERE / "collections"
REPO_ROOT = HERE.parent.parent.parent
HOST = "iis01"
SCHANNEL = r"HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
VALUE = "EnableOcspStaplingForSni"
DWORD_ONE = {"type": "dword", "data": 1}
# A value Schannel already had before the role: state=absent must leave it.
OTHER_VALUE = {"EventLogging": {"type": "dword", "data": 1}}
SERVICES = {
    "HTTP": {"state": "running", "depended_by": ["W3SVC", "WinRM"]},
    "W3SVC": {"state": "running", "depended_by": []},
    "WinRM": {"state": "running", "depended_by": []},
}
CERT_HASH = "3F2A0C7E9B1D4E5F60718293A4B5C6D7E8F90A1B"
SNI = 1
CENTRAL_CERTIFICATE_STORE = 2
DISABLE_OCSP_STAPLING = 8


class WindowsHost:
    """The emulated host: the stand-ins' JSON state file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.write({"registry": {SCHANNEL: dict(OTHER_VALUE)}, "services": SERVICES, "bindings": [],
                    "reboots": 0, "log": []})

    def read(self) -> dict[str, Any]:
        return json.loads(self.path.read_text())

    def write(self, state: dict[str, Any]) -> None:
        self.path.write_text(json.dumps(state))

    def add_binding(self, port: int, host_name: str, ssl_flags: int = SNI) -> None:
        state = self.read()
        state["bindings"].append({"site": "Default Web Site", "binding_information": f"*:{port}:{host_name}",
                                  "ssl_flags": ssl_flags, "certificate_hash": CERT_HASH, "certificate_store": "My"})
        self.write(state)

    def set_value(self) -> None:
        """EnableOcspStaplingForSni=1, as a previous run would have left it."""
        state = self.read()
        state["registry"][SCHANNEL][VALUE] = DWORD_ONE
        self.write(state)

    def schannel(self) -> dict[str, Any]:
        return self.read()["registry"].get(SCHANNEL, {})

    def events(self, service: str, action: str) -> int:
        return sum(1 for e in self.read()["log"] if e.get("service") == service and e["action"] == action)


@pytest.fixture
def windows_host(tmp_path: Path) -> WindowsHost:
    return WindowsHost(tmp_path / "windows-host.json")


@pytest.fixture(scope="module")
def lab(lab_factory) -> core.Lab:  # noqa: F811
    """The lab's PKI, responder (the `revoked` leaf revoked) and nginx (stapling off)."""
    return lab_factory(components=("responder", "nginx"))


def lab_staple(lab_state: dict[str, Any], leaf: dict[str, Any], workdir: Path) -> bytes:
    """What the lab's responder answers for `leaf`, as HTTP.sys would fetch it to staple."""
    response = workdir / f"{leaf['name']}.ocsp.der"
    subprocess.run(["openssl", "ocsp", "-issuer", lab_state["pki"]["intermediate"]["cert"], "-cert", leaf["cert"],
                    "-url", lab_state["responder"]["url"], "-respout", str(response), "-noverify"],
                   check=True, capture_output=True, timeout=30)
    return response.read_bytes()


@pytest.fixture
def serve(tmp_path: Path, lab: core.Lab) -> Iterator[Callable[[str], int]]:
    """serve(leaf_name) starts s_server with that lab leaf and its live staple; returns the port."""
    servers: list[SServer] = []
    lab_state = lab.state()

    def start(leaf_name: str) -> int:
        leaf = lab_state["leaves"][leaf_name]
        issued = Issued(x509.load_pem_x509_certificate(Path(leaf["cert"]).read_bytes()),
                        serialization.load_pem_private_key(Path(leaf["key"]).read_bytes(), None))
        intermediate = Issued(x509.load_pem_x509_certificate(Path(leaf["chain"]).read_bytes()), None)
        server = SServer(tmp_path / leaf_name, 0, issued, chain=[intermediate],
                         status_der=lab_staple(lab_state, leaf, tmp_path))
        servers.append(server.start())
        return server.port

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def run_role(run_playbook, collections_path: Path, windows_host: WindowsHost, tmp_path: Path, lab: core.Lab):
    """Run a playbook of tests/integration/iis against iis01 with the stand-ins first in the path."""
    ca_chain = lab.state()["pki"]["ca_chain"]
    env = {
        # ANSIBLE_COLLECTIONS_PATH entries come before the venv's site-packages,
        # so the stand-in ansible.windows shadows the real one.
        "ANSIBLE_COLLECTIONS_PATH": f"{STANDIN_COLLECTIONS}{os.pathsep}{collections_path}",
        "TLSOPS_WINDOWS_STANDIN_STATE": str(windows_host.path),
        "ANSIBLE_ASYNC_DIR": str(tmp_path / "async"),
    }

    def run(playbook: str = "enable.yml", *, check: bool = False, diff: bool = False, **role_vars: Any):
        extra_vars = {"iis_stapling_restart_settle_delay": 0, "iis_stapling_check_retries": 1,
                      "iis_stapling_check_retry_delay": 0.2, "iis_stapling_check_ca_path": ca_chain, **role_vars}
        return run_playbook(HERE / playbook, extra_vars, check=check, diff=diff,
                            inventory=str(HERE / "inventory.yml"), extra_env=env)

    return run


def endpoint_facts(run) -> list[dict[str, Any]]:
    """iis_stapling_endpoints as the role's last set_fact left it."""
    recorded = run.results("Record one result per endpoint", HOST)
    assert recorded, "the role recorded no endpoint"
    return recorded[-1]["results"][-1]["ansible_facts"]["iis_stapling_endpoints"]


def task_result(run, name: str) -> dict[str, Any]:
    results = run.results(name, HOST)
    assert len(results) == 1, f"expected one result of {name!r}, got {results}"
    return results[0]


def test_stand_in_shadows_the_real_ansible_windows(ansible_env: dict[str, str], collections_path: Path) -> None:
    env = dict(ansible_env, ANSIBLE_COLLECTIONS_PATH=f"{STANDIN_COLLECTIONS}{os.pathsep}{collections_path}")
    ansible_doc = str(Path(sys.executable).parent / "ansible-doc")
    listed = subprocess.run([ansible_doc, "--json", "ansible.windows.win_regedit"], env=env,
                            capture_output=True, text=True, check=True)
    used = json.loads(listed.stdout)["ansible.windows.win_regedit"]["doc"]["filename"]
    real = subprocess.run([ansible_doc, "--json", "ansible.windows.win_regedit"], env=ansible_env,
                          capture_output=True, text=True, check=True)
    shadowed = json.loads(real.stdout)["ansible.windows.win_regedit"]["doc"]["filename"]
    assert used.startswith(str(STANDIN_COLLECTIONS))
    assert "site-packages" in shadowed and not shadowed.startswith(str(STANDIN_COLLECTIONS))


def test_check_mode_writes_nothing_and_shows_the_value(windows_host, serve, run_role) -> None:
    windows_host.add_binding(serve("plain"), "plain.lab.test")
    before = windows_host.path.read_bytes()

    run = run_role(check=True, diff=True)

    assert run.returncode == 0, run.failure_messages(HOST)
    assert windows_host.path.read_bytes() == before
    registry = task_result(run, "Set EnableOcspStaplingForSni in the Schannel key")
    assert registry["changed"]
    assert registry["diff"]["after"][SCHANNEL][VALUE] == {"type": "dword", "value": "0x00000001"}


def test_enable_writes_the_dword_restarts_http_once_and_checks_the_staple(windows_host, serve, run_role):
    port = serve("plain")
    windows_host.add_binding(port, "plain.lab.test")

    first = run_role(diff=True)

    assert first.returncode == 0, first.failure_messages(HOST)
    assert windows_host.schannel() == {**OTHER_VALUE, VALUE: DWORD_ONE}
    assert windows_host.events("HTTP", "restarted") == 1
    assert windows_host.events("W3SVC", "started") == 1  # stopped with HTTP, running again
    assert {s["state"] for s in windows_host.read()["services"].values()} == {"running"}
    [entry] = endpoint_facts(first)
    assert (entry["port"], entry["server_name"], entry["verdict"]) == (port, "plain.lab.test", "good")
    assert entry["server_kind"] == "iis" and entry["changed"] is True and entry["stapling_applicable"]
    assert entry["certificate_path"] == rf"Cert:\LocalMachine\My\{CERT_HASH}"

    second = run_role()

    assert second.returncode == 0, second.failure_messages(HOST)
    assert second.changed(HOST) == 0
    assert windows_host.events("HTTP", "restarted") == 1
    assert endpoint_facts(second)[0]["changed"] is False


def test_state_absent_removes_only_the_value_and_restarts_http(windows_host, run_role) -> None:
    windows_host.set_value()

    removed = run_role(iis_stapling_state="absent")
    again = run_role(iis_stapling_state="absent")

    assert removed.returncode == 0 and again.returncode == 0, removed.failure_messages(HOST)
    assert windows_host.schannel() == OTHER_VALUE
    assert windows_host.events("HTTP", "restarted") == 1
    assert again.changed(HOST) == 0


@pytest.mark.parametrize(("mode", "reboots"), [("reboot", 1), ("none", 0)])
def test_restart_mode_reboot_or_none_never_restarts_http(windows_host, run_role, mode: str, reboots: int) -> None:
    run = run_role(iis_stapling_restart=mode, iis_stapling_check=False)

    assert run.returncode == 0, run.failure_messages(HOST)
    assert windows_host.schannel()[VALUE] == DWORD_ONE
    assert windows_host.read()["reboots"] == reboots
    assert windows_host.events("HTTP", "restarted") == 0


def test_without_sni_bindings_the_value_is_left_alone_when_asked(windows_host, run_role, port: int) -> None:
    windows_host.add_binding(port, "", ssl_flags=DISABLE_OCSP_STAPLING)

    run = run_role(iis_stapling_only_when_needed=True, iis_stapling_check=False)

    assert run.returncode == 0, run.failure_messages(HOST)
    assert windows_host.schannel() == OTHER_VALUE
    assert windows_host.events("HTTP", "restarted") == 0
    [report] = task_result(run, "Report bindings that turn stapling off explicitly")["results"]
    assert "DisableOCSPStp" in report["msg"] and f":{port}:" in report["msg"]


def test_a_central_certificate_store_binding_needs_the_value(windows_host, run_role, port: int) -> None:
    windows_host.add_binding(port, "shop.example.test", ssl_flags=CENTRAL_CERTIFICATE_STORE)

    run = run_role(iis_stapling_only_when_needed=True, iis_stapling_check=False)

    assert run.returncode == 0, run.failure_messages(HOST)
    assert windows_host.schannel()[VALUE] == DWORD_ONE
    [binding] = task_result(run, "Record the decoded bindings")["ansible_facts"]["iis_stapling_bindings"]
    assert binding["central_certificate_store"] and not binding["sni"]
    assert binding["certificate_path"] == r"CentralCertStore:\shop.example.test.pfx"


def test_must_staple_without_a_staple_fails_the_host(windows_host, lab: core.Lab, run_role) -> None:
    port = lab.state()["ports"]["nginx"]  # the lab's nginx staples nothing
    windows_host.add_binding(port, "must-staple.lab.test")

    run = run_role()

    assert run.returncode != 0 and run.failed(HOST)
    [entry] = endpoint_facts(run)
    assert entry["must_staple"] and entry["verdict"] == "no_staple"
    assert any(f":{port} no_staple" in message for message in run.failure_messages(HOST))


def test_a_revoked_staple_fails_the_host(windows_host, serve, run_role) -> None:
    port = serve("revoked")

    run = run_role(iis_stapling_discover_bindings=False,
                   iis_stapling_check_endpoints=[{"port": port, "server_name": "revoked.lab.test"}])

    assert run.returncode != 0 and run.failed(HOST)
    [entry] = endpoint_facts(run)
    assert entry["verdict"] == "revoked"
    assert any("revoked" in message for message in run.failure_messages(HOST))


@pytest.mark.parametrize("value_set", [False, True])
def test_audit_changes_nothing_and_fails_nothing(windows_host, serve, run_role, value_set: bool) -> None:
    windows_host.add_binding(serve("revoked"), "revoked.lab.test")
    if value_set:
        windows_host.set_value()
    before = windows_host.path.read_bytes()

    run = run_role("audit.yml")

    assert run.returncode == 0, run.failure_messages(HOST)
    assert windows_host.path.read_bytes() == before
    assert [e["verdict"] for e in endpoint_facts(run)] == ["revoked"]
    remembered = task_result(run, "Remember whether Schannel staples on SNI bindings")
    assert remembered["ansible_facts"]["iis_stapling_value_set"] is value_set


def test_playbooks_pass_syntax_check(ansible_env: dict[str, str], collections_path: Path) -> None:
    env = dict(ansible_env, ANSIBLE_COLLECTIONS_PATH=f"{STANDIN_COLLECTIONS}{os.pathsep}{collections_path}")
    for playbook in ("enable.yml", "audit.yml"):
        subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), "--syntax-check",
                        "-i", str(HERE / "inventory.yml"), str(HERE / playbook)], env=env, check=True)


def test_role_is_ansible_lint_production_clean(ansible_env: dict[str, str]) -> None:
    lint = subprocess.run([str(Path(sys.executable).parent / "ansible-lint"), "--profile", "production",
                           "roles/iis_stapling", "tests/integration/iis"],
                          cwd=REPO_ROOT, env=ansible_env, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr
