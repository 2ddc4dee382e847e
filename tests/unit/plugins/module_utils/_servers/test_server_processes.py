# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Who runs a server's master, from /proc trees made here, and how nginx and Apache are reloaded for it."""
from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import server_processes as processes
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.stapling_plan import reload_method

UNIT = "0::/system.slice/nginx.service\n"
SESSION = "0::/user.slice/user-0.slice/session-3.scope\n"


def add(proc: Path, pid: int, argv: str, comm: str, ppid: int = 1, cgroup: str = SESSION, state: str = "S") -> None:
    directory = proc / str(pid)
    directory.mkdir(parents=True)
    fields = [state, str(ppid)] + ["0"] * 17 + ["4200", "0"]
    (directory / "stat").write_text("%d (%s) %s\n" % (pid, comm, " ".join(fields)))
    (directory / "cmdline").write_text(argv.replace(" ", "\0") + "\0" if comm != "nginx" else argv + "\0")
    (directory / "cgroup").write_text(cgroup)


@pytest.fixture
def proc(tmp_path: Path) -> Path:
    root = tmp_path / "proc"
    root.mkdir()
    (root / "stat").write_text("btime 1700000000\n")
    return root


def test_nginx_master_by_its_configuration_file_whoever_started_it(proc, tmp_path):
    # systemd runs the system instance; a private one was started by hand beside it
    add(proc, 10, "nginx: master process /usr/sbin/nginx -g daemon on; master_process on;", "nginx", cgroup=UNIT)
    add(proc, 11, "nginx: worker process", "nginx", ppid=10, cgroup=UNIT)
    add(proc, 20, "nginx: master process /usr/sbin/nginx -p /srv/lab -c /srv/lab/nginx.conf", "nginx")
    add(proc, 21, "nginx: worker process", "nginx", ppid=20)
    system = processes.running_master(["nginx"], config_file="/etc/nginx/nginx.conf",
                                      default_config="/etc/nginx/nginx.conf", proc=str(proc))
    private = processes.running_master(["nginx"], config_file="/srv/lab/nginx.conf",
                                       default_config="/etc/nginx/nginx.conf", proc=str(proc))
    assert system["pid"] == 10 and processes.start_facts(system, True, str(tmp_path / "none"))["started_by"] == (
        processes.SYSTEMD)
    assert private["pid"] == 20 and processes.start_facts(private, False, str(tmp_path / "none")) == {
        "pid": 20, "systemd_unit": None, "started_by": processes.HAND}


def test_apache_master_from_its_pid_file(proc, tmp_path):
    add(proc, 30, "/usr/sbin/apache2 -k start", "apache2")
    add(proc, 31, "/usr/sbin/apache2 -k start", "apache2", ppid=30)
    pid_file = tmp_path / "apache2.pid"
    pid_file.write_text("30\n")
    init_script = tmp_path / "apache2"
    init_script.write_text("#!/bin/sh\n")
    master = processes.running_master(["apache2", "httpd"], pid_file=str(pid_file), config_option="-d",
                                      proc=str(proc))
    assert processes.start_facts(master, True, str(init_script)) == {
        "pid": 30, "systemd_unit": None, "started_by": processes.INIT_SCRIPT}
    assert processes.start_facts(None, True, str(init_script)) is None


def test_a_zombie_is_not_running(proc):
    add(proc, 40, "nginx: master process /usr/sbin/nginx", "nginx", state="Z")
    assert processes.running_master(["nginx"], proc=str(proc)) is None


@pytest.mark.parametrize("settings, process, method", [
    # a host with systemd whose server was started by hand: its own way, not the service
    ({"service_mgr": "systemd"}, {"pid": 20, "systemd_unit": None, "started_by": "hand"}, "own"),
    ({"service_mgr": "systemd"}, {"pid": 10, "systemd_unit": "nginx.service", "started_by": "systemd"}, "service"),
    ({"service_mgr": "systemd", "private": True}, {"pid": 10, "systemd_unit": "nginx.service"}, "own"),
    ({"service_mgr": "sysvinit"}, {"pid": 10, "systemd_unit": None, "started_by": "init_script"}, "own"),
    # the process not read (an older discovery) or not running: the host's service manager, as before
    ({"service_mgr": "systemd"}, None, "service"),
    ({"service_mgr": "sysvinit"}, None, "own"),
    # the user's method wins
    ({"service_mgr": "systemd", "reload_method": "signal"}, {"pid": 10, "systemd_unit": "nginx.service"}, "signal"),
])
def test_reload_method_follows_the_running_master(settings, process, method):
    assert reload_method(dict({"reload_method": "auto", "private": False}, **settings), "own",
                         {"process": process}) == method
