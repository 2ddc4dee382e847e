# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the running HAProxy can be reloaded, from /proc trees made here, and the reload decision table."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import server_processes as processes
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import process

SYSTEM = ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg", "-D", "-p", "/run/haproxy.pid"]
SESSION = "0::/user.slice/user-0.slice/session-1.scope\n"
BOOT = 1_700_000_000
TICKS = os.sysconf("SC_CLK_TCK")


class FakeProc:
    """A /proc tree under tmp_path: /proc/stat's btime and, per process, stat, cmdline and cgroup."""

    def __init__(self, root: Path) -> None:
        self.root = root / "proc"
        self.root.mkdir()
        (self.root / "stat").write_text("cpu  1 2 3\nbtime %d\n" % BOOT)

    def add(self, pid: int, argv: List[str], ppid: int = 1, cgroup: str = SESSION, comm: str = "haproxy",
            state: str = "S", started: float = 100.0) -> None:
        directory = self.root / str(pid)
        directory.mkdir()
        # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime
        # cstime priority nice num_threads itrealvalue starttime ...
        fields = [state, str(ppid)] + ["0"] * 17 + [str(int(started * TICKS)), "0", "0"]
        (directory / "stat").write_text("%d (%s) %s\n" % (pid, comm, " ".join(fields)))
        (directory / "cmdline").write_text("\0".join(argv) + "\0")
        (directory / "cgroup").write_text(cgroup)

    def __str__(self) -> str:
        return str(self.root)


@pytest.fixture
def proc(tmp_path: Path) -> FakeProc:
    return FakeProc(tmp_path)


def pid_file(tmp_path: Path, *pids: int) -> str:
    path = tmp_path / "haproxy.pid"
    path.write_text("".join("%d\n" % pid for pid in pids))
    return str(path)


def init_script(tmp_path: Path) -> str:
    path = tmp_path / "init.d-haproxy"
    path.write_text("#!/bin/sh\n")
    return str(path)


def read(tmp_path: Path, proc: FakeProc, pids: tuple = (41,), config: str = "global\n    daemon\n",
         config_files: Optional[List[str]] = None) -> Optional[Dict[str, Any]]:
    return process.running(pid_file(tmp_path, *pids), config_files or ["/etc/haproxy/haproxy.cfg"], [config],
                           proc=str(proc), init_script=init_script(tmp_path))


SETTINGS = {"reload_method": "auto", "private": False, "binary": "/usr/sbin/haproxy",
            "config_files": ["/etc/haproxy/haproxy.cfg"], "pid_file": "/run/haproxy.pid", "service_name": "haproxy",
            "service_mgr": "sysvinit"}


# -- the process reader ------------------------------------------------------------------------------------------

def test_the_init_scripts_daemon_is_read_from_its_pid_file(tmp_path, proc):
    proc.add(41, SYSTEM)
    found = read(tmp_path, proc)
    assert found["pid"] == 41 and found["pids"] == [41] and found["workers"] == []
    assert found["pid_source"] == "pid_file" and found["pid_file"] == "/run/haproxy.pid"
    assert not found["master_worker"] and found["daemon"] and found["systemd_unit"] is None
    assert found["started_by"] == processes.INIT_SCRIPT
    assert found["started"] == pytest.approx(BOOT + 100.0, abs=0.05)


def test_without_a_pid_file_the_master_is_found_in_proc_by_its_configuration(tmp_path, proc):
    proc.add(50, ["/usr/sbin/haproxy", "-f", "/srv/other.cfg", "-D"])
    proc.add(60, ["/usr/sbin/haproxy", "-W", "-f", "/srv/mine.cfg"], started=10.0)
    proc.add(61, ["/usr/sbin/haproxy", "-W", "-f", "/srv/mine.cfg"], ppid=60, started=500.0)
    found = process.running(str(tmp_path / "missing.pid"), ["/srv/mine.cfg"], ["global\n"], proc=str(proc),
                            init_script=init_script(tmp_path))
    assert found["pid"] == 60 and found["workers"] == [61] and found["pid_source"] == "proc"
    assert found["pid_file"] is None and found["master_worker"] and found["started_by"] == processes.HAND
    # the newest process of the instance: a worker started by the last reload
    assert found["started"] == pytest.approx(BOOT + 500.0, abs=0.05)


def test_a_stale_pid_file_a_zombie_and_another_program_are_not_haproxy(tmp_path, proc):
    proc.add(5, ["/usr/bin/python3"], comm="python3")
    proc.add(6, SYSTEM, state="Z")  # an old process after -sf that its parent has not reaped
    assert process.running(pid_file(tmp_path, 5, 6), ["/srv/none.cfg"], [], proc=str(proc)) is None


@pytest.mark.parametrize("cgroup, unit", [
    ("0::/system.slice/haproxy.service\n", "haproxy.service"),
    ("12:pids:/system.slice\n1:name=systemd:/system.slice/haproxy@edge.service\n", "haproxy@edge.service"),
    ("0::/user.slice/user-1000.slice/user@1000.service/app.slice/run-r1.scope\n", None),
    (SESSION, None),
])
def test_systemd_unit_from_the_cgroup(cgroup, unit):
    assert processes.systemd_unit(cgroup) == unit


def test_master_worker_by_keyword_and_foreground_by_the_missing_daemon(tmp_path, proc):
    proc.add(7, ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg"])
    found = read(tmp_path, proc, pids=(7,), config="global\n    master-worker\n")
    assert found["master_worker"] and not found["daemon"]


def test_the_command_line_without_old_pids():
    assert process.without_old_pids(SYSTEM + ["-sf", "41", "42", "-x", "/run/s.sock"]) == SYSTEM + [
        "-x", "/run/s.sock"]


# -- the decision table ------------------------------------------------------------------------------------------

def running(**changes: Any) -> Dict[str, Any]:
    found = {"pid": 41, "pids": [41], "workers": [], "pid_source": "pid_file", "pid_file": "/run/haproxy.pid",
             "cmdline": SYSTEM, "master_worker": False, "daemon": True, "systemd_unit": None,
             "started_by": processes.INIT_SCRIPT, "started": BOOT + 100.0, "config_loaded": True}
    return dict(found, **changes)


@pytest.mark.parametrize("found, settings, method", [
    # the bug: Debian's init script, no systemd, no master-worker -> a new process takes over (-sf)
    (running(), {}, "soft"),
    (running(started_by=processes.HAND), {}, "soft"),
    (running(master_worker=True), {}, "signal"),
    (running(systemd_unit="haproxy.service", started_by=processes.SYSTEMD, master_worker=True), {}, "service"),
    # a host with systemd whose HAProxy was started by hand: read from the process, not from service_mgr
    (running(started_by=processes.HAND), {"service_mgr": "systemd"}, "soft"),
    (running(systemd_unit="haproxy.service", master_worker=True), {"private": True}, "signal"),
    (running(daemon=False), {}, "none"),
    (None, {}, "none"),
    # the user's method wins
    (running(), {"reload_method": "signal"}, "signal"),
    (running(master_worker=True), {"reload_method": "service"}, "service"),
])
def test_reload_decision(found, settings, method):
    assert process.reload(found, dict(SETTINGS, **settings))["reload_method"] == method


def test_discovery_without_process_facts_keeps_the_service_manager_rule():
    assert process.reload(None, dict(SETTINGS, service_mgr="systemd"), read=False)["reload_method"] == "service"
    assert process.reload(None, SETTINGS, read=False)["reload_method"] == "signal"


def test_soft_reload_is_the_init_scripts_reload_with_the_process_options():
    found = running(cmdline=SYSTEM + ["-sf", "30", "-x", "/run/haproxy/admin.sock"], pids=[41])
    plan = process.reload(found, SETTINGS)
    assert plan["reload_command"] == ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg", "-D", "-p",
                                      "/run/haproxy.pid", "-x", "/run/haproxy/admin.sock", "-sf", "41"]
    assert plan["process"]["restart_command"] == "service haproxy restart"
    assert "not master-worker" in plan["process"]["description"]


def test_soft_reload_of_relative_paths_uses_the_settings_files():
    found = running(cmdline=["haproxy", "-f", "h.cfg", "-p", "h.pid"], started_by=processes.HAND)
    assert process.reload(found, SETTINGS)["reload_command"] == [
        "/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg", "-p", "/run/haproxy.pid", "-D", "-sf", "41"]


def test_signal_goes_to_the_master_and_service_to_the_unit_systemd_runs_it_in():
    assert process.reload(running(master_worker=True, pid=9), SETTINGS)["reload_command"] == ["kill", "-USR2", "9"]
    plan = process.reload(running(systemd_unit="haproxy@edge.service", started_by=processes.SYSTEMD), SETTINGS)
    assert plan["reload_service"] == "haproxy@edge" and plan["reload_command"] is None
    assert plan["process"]["restart_command"] == "systemctl restart haproxy@edge.service"


def test_started_by_hand_restarts_with_its_own_command_line():
    found = running(started_by=processes.HAND, cmdline=SYSTEM + ["-sf", "30"])
    assert process.restart_command(found, "haproxy") == (
        "kill 41 && /usr/sbin/haproxy -f /etc/haproxy/haproxy.cfg -D -p /run/haproxy.pid")


def test_a_process_older_than_its_configuration_is_not_reloaded_again():
    assert process.config_loaded(running(), BOOT + 101.0) is True  # within the start time's precision
    assert process.config_loaded(running(), BOOT + 160.0) is False
    assert process.config_loaded(None, BOOT) is None
    assert process.reload(running(config_loaded=False), SETTINGS)["reload_repeat"] is False
    assert process.reload(running(), SETTINGS)["reload_repeat"] is True
