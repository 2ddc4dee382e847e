# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stapling role's detection (roles/stapling/tasks/detect.yml) with real ansible-playbook runs.

On a Linux host one `tlsops.ocsp.server_facts` call finds the servers (processes started here:
copies of sleep named `httpd` and `haproxy`) and sets the facts the server roles read; no setup.
Windows hosts (a `winrm` connection, or ssh with a `powershell` shell) never get the Python module:
they are recognised without facts, and get setup when their facts are missing (these hosts
cannot be reached, so that setup fails, which is how the test sees it ran).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.support.programs import Programs

PLAYBOOK = Path(__file__).resolve().parent / "stapling" / "detect.yml"
SETUP_TASK = "Gather the minimal facts of a Windows host when missing"
MODULE_TASK = "Find the running web servers and read the facts the server roles need"
RECORD_TASK = "Record the servers to handle"
WINDOWS = ("win_winrm", "win_ssh")


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    # the Windows hosts point at a closed port: any attempt to reach them fails the host
    unreachable = {"ansible_host": "127.0.0.1", "ansible_port": 1}
    hosts = {"linux": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
             "win_winrm": dict(unreachable, ansible_connection="winrm"),
             "win_ssh": dict(unreachable, ansible_connection="ssh", ansible_shell_type="powershell")}
    path = tmp_path / "inventory.json"
    path.write_text(json.dumps({"all": {"hosts": hosts}}))
    return path


@pytest.fixture
def programs(tmp_path: Path) -> Iterator[Programs]:
    started = Programs(tmp_path)
    yield started
    started.stop_all()


def detect(run_playbook, inventory: Path, limit: str, **extra_vars: Any):
    return run_playbook(PLAYBOOK, extra_vars, inventory=str(inventory), args=("--limit", limit))


def detected(run, host: str) -> list[str]:
    [recorded] = run.results(RECORD_TASK, host)
    return recorded["ansible_facts"]["stapling_detected_servers"]


def test_a_linux_host_takes_one_call(run_playbook, inventory, programs):
    programs.start("httpd")
    programs.start("haproxy")
    run = detect(run_playbook, inventory, "linux")
    assert run.returncode == 0, run.stderr
    assert run.results(SETUP_TASK, "linux")[0].get("skipped")
    [found] = run.results(MODULE_TASK, "linux")
    assert {"httpd", "haproxy"} <= set(found["programs"])
    assert {"apache", "haproxy"} <= set(detected(run, "linux"))
    assert set(found["ansible_facts"]) == {"ansible_os_family", "ansible_service_mgr", "ansible_python"}


def test_stapling_servers_skips_detection_but_not_the_missing_facts(run_playbook, inventory, programs):
    programs.start("httpd")
    run = detect(run_playbook, inventory, "linux", stapling_servers=["nginx"])
    assert run.returncode == 0, run.stderr
    [found] = run.results(MODULE_TASK, "linux")
    assert found["programs"] == [] and found["ansible_facts"]["ansible_os_family"]
    assert detected(run, "linux") == ["nginx"]


def test_stapling_servers_and_gathered_facts_make_no_call(run_playbook, inventory):
    run = detect(run_playbook, inventory, "linux", stapling_servers=["haproxy"], detect_test_gather=True)
    assert run.returncode == 0, run.stderr
    assert run.results(MODULE_TASK, "linux")[0].get("skipped")
    assert detected(run, "linux") == ["haproxy"]


def test_windows_hosts_with_facts_are_iis_without_a_connection(run_playbook, inventory):
    run = detect(run_playbook, inventory, ",".join(WINDOWS), detect_test_windows_facts=True)
    assert run.returncode == 0, run.stderr
    for host in WINDOWS:
        assert not run.failed(host)
        assert run.results(MODULE_TASK, host)[0].get("skipped")
        assert detected(run, host) == ["iis"]


def test_windows_hosts_without_facts_get_setup_not_the_module(run_playbook, inventory):
    run = detect(run_playbook, inventory, ",".join(WINDOWS))
    assert run.returncode != 0
    for host in WINDOWS:
        [setup] = run.results(SETUP_TASK, host)
        assert setup.get("failed") or setup.get("unreachable"), setup
        assert not run.results(MODULE_TASK, host)
