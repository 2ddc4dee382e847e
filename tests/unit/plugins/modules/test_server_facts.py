# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""server_facts, run in-process on this machine: its facts against ansible.builtin.setup's, and
processes started by the tests (copies of /bin/sleep named like the servers) found in /proc and by ps."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible.modules import setup  # noqa: E402

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import server_processes  # noqa: E402
from ansible_collections.tlsops.ocsp.plugins.modules import server_facts  # noqa: E402
from tests.support.programs import Programs  # noqa: E402

FACTS = ("ansible_os_family", "ansible_service_mgr", "ansible_python")


@pytest.fixture
def programs(tmp_path: Path) -> Iterator[Programs]:
    started = Programs(tmp_path)
    yield started
    started.stop_all()


def test_the_facts_are_what_setup_gives(run_module):
    gathered = run_module(setup.main, gather_subset=["min"])["ansible_facts"]
    result = run_module(server_facts.main)
    assert result["changed"] is False
    assert result["ansible_facts"] == {name: gathered[name] for name in FACTS}
    assert result["ansible_facts"]["ansible_python"]["executable"]


def test_a_server_is_found_while_it_runs_and_not_after(run_module, programs):
    # httpd: the name Debian's Apache does not run under, so no other server on this machine has it
    httpd = programs.start("httpd")
    programs.start("haproxy")
    running = run_module(server_facts.main)
    assert {"httpd", "haproxy"} <= set(running["programs"])
    assert {"apache", "haproxy"} <= set(running["servers"])
    assert set(running["programs"]) <= set(server_processes.SERVER_KINDS), "only the servers' names are returned"

    programs.stop(httpd)
    stopped = run_module(server_facts.main)
    assert "httpd" not in stopped["programs"]
    assert "haproxy" in stopped["programs"]


def test_ps_finds_them_when_proc_cannot_be_read(run_module, programs, monkeypatch):
    programs.start("httpd")
    programs.start("nginx")
    monkeypatch.setattr(server_processes, "programs_from_proc", lambda: None)
    result = run_module(server_facts.main)
    assert {"httpd", "nginx"} <= set(result["programs"])
    assert {"apache", "nginx"} <= set(result["servers"])


def test_without_proc_and_ps_the_failure_says_what_to_do(run_module, tmp_path, monkeypatch):
    monkeypatch.setattr(server_processes, "programs_from_proc", lambda: None)
    monkeypatch.setenv("PATH", str(tmp_path))  # no ps on it
    result = run_module(server_facts.main)
    assert result["failed"] is True
    assert "ps is not installed" in result["msg"] and "detect_servers=false" in result["msg"]


def test_check_mode_and_facts_only(run_module, programs):
    programs.start("nginx")
    result = run_module(server_facts.main, check_mode=True, detect_servers=False)
    assert result["servers"] == [] and result["programs"] == []
    assert set(result["ansible_facts"]) == set(FACTS)
