# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the running HAProxy can be reloaded, from a /proc tree made here."""
from __future__ import annotations

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import process


def fake_proc(tmp_path, pid: int, cmdline: list, cgroup: str = "0::/user.slice/session-1.scope\n",
              comm: str = "haproxy"):
    directory = tmp_path / "proc" / str(pid)
    directory.mkdir(parents=True)
    (directory / "comm").write_text(comm + "\n")
    (directory / "cmdline").write_text("\0".join(cmdline) + "\0")
    (directory / "cgroup").write_text(cgroup)
    return str(tmp_path / "proc")


def test_init_script_daemon_is_reloaded_softly(tmp_path):
    proc = fake_proc(tmp_path, 41, ["/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg", "-D", "-p", "/run/h.pid"])
    (tmp_path / "h.pid").write_text("41\n")
    found = process.running(str(tmp_path / "h.pid"), ["global\n    daemon\n"], proc=proc)
    assert found["pids"] == [41] and found["master_worker"] is False and found["systemd_unit"] is None
    assert process.reload_method(found, "signal", private=False) == "soft"
    assert process.soft_reload_command("/usr/sbin/haproxy", ["/etc/haproxy/haproxy.cfg"], "/run/h.pid", [41]) == [
        "/usr/sbin/haproxy", "-f", "/etc/haproxy/haproxy.cfg", "-p", "/run/h.pid", "-D", "-sf", "41"]


@pytest.mark.parametrize("cmdline, config", [
    (["/usr/sbin/haproxy", "-Ws", "-f", "/etc/haproxy/haproxy.cfg"], "global\n"),
    (["/usr/sbin/haproxy", "-D", "-f", "/etc/haproxy/haproxy.cfg"], "global\n    master-worker\n"),
])
def test_master_worker_by_flag_or_by_keyword_takes_sigusr2(tmp_path, cmdline, config):
    proc = fake_proc(tmp_path, 7, cmdline)
    (tmp_path / "h.pid").write_text("7\n")
    found = process.running(str(tmp_path / "h.pid"), [config], proc=proc)
    assert found["master_worker"] and process.reload_method(found, "service", private=False) == "signal"


def test_systemd_runs_the_system_instance(tmp_path):
    proc = fake_proc(tmp_path, 9, ["/usr/sbin/haproxy", "-Ws"], cgroup="0::/system.slice/haproxy.service\n")
    (tmp_path / "h.pid").write_text("9\n")
    found = process.running(str(tmp_path / "h.pid"), [], proc=proc)
    assert found["systemd_unit"] == "haproxy.service"
    assert process.reload_method(found, "signal", private=False) == "service"
    assert process.reload_method(found, "service", private=True) == "signal"  # a private instance: its master


def test_nothing_running_keeps_the_fallback(tmp_path):
    proc = fake_proc(tmp_path, 5, ["/usr/bin/python3"], comm="python3")
    (tmp_path / "h.pid").write_text("5\n")  # a stale pid file, reused by another program
    assert process.running(str(tmp_path / "h.pid"), [], proc=proc) is None
    assert process.running(str(tmp_path / "missing.pid"), [], proc=proc) is None
    assert process.reload_method(None, "signal", private=False) == "signal"
