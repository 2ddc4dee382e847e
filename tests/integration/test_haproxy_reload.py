# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy reloaded the way the running process can be, on the real haproxy 2.6 without systemd.

Started as Debian's init script starts it (`haproxy -f CONFIG -D -p PIDFILE`: no master-worker, as in most
containers), SIGUSR2 does not reload it; the role reads that from the process and starts a new process that
takes over (-sf), as the init script's own reload does. In master-worker mode (`-W`) it keeps SIGUSR2. A
reload that has no effect (SIGUSR2 forced on a daemon without master-worker) is the cause reload_not_effective,
with the command that restarts it, and the next run does not reload again.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import role_vars
from tests.support.role_checks import by_leaf, endpoint_facts, s_client_status

PLAYBOOK = Path(__file__).resolve().parent / "haproxy" / "enable.yml"
PLAN_TASK = "Plan stapling on this server (decided on the controller, no round trip)"


def pids(section: dict[str, Any]) -> list[int]:
    return [int(word) for word in Path(section["pid_file"]).read_text().split()]


def start(section: dict[str, Any], *flags: str) -> None:
    subprocess.run([section["binary"], *flags, "-D", "-f", section["config_file"], "-p", section["pid_file"]],
                   check=True, timeout=30)
    deadline = time.monotonic() + 10
    while not Path(section["pid_file"]).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(2.5)  # the role's first change comes well after the start, as on a real host


def plan_of(run: Any) -> dict[str, Any]:
    return run.results(PLAN_TASK)[0]["ansible_facts"]["__stapling_phases_plan"]


def stop(section: dict[str, Any]) -> None:
    for pid in pids(section):
        subprocess.run(["kill", str(pid)], check=False)


@pytest.mark.parametrize("flags, method", [((), "soft"), (("-W",), "signal")])
def test_reload_follows_the_running_process(lab_factory, run_playbook, flags, method):  # noqa: F811
    lab = lab_factory(components=("responder", "haproxy"), revoke_initially=False)
    state = lab.state()
    section = state["haproxy"]
    lab.stop(["haproxy"])
    start(section, *flags)
    try:
        before = pids(section)
        variables = role_vars.haproxy(state, haproxy_stapling_reload_method="auto",
                                      haproxy_stapling_refresher_python=sys.executable)
        first = run_playbook(PLAYBOOK, variables)
        assert first.returncode == 0, first.failure_messages()
        plan = plan_of(first)
        assert plan["reload_method"] == method
        assert plan["process"]["description"].startswith("HAProxy pid %d" % before[0])
        if method == "soft":
            # the init script's own reload: the process's options, -D, and -sf with the running pid
            assert plan["reload_command"][-2:] == ["-sf", str(before[0])] and "-D" in plan["reload_command"]
            assert pids(section) != before  # a new process took over
        else:
            assert plan["reload_command"] == ["kill", "-USR2", str(before[0])]
            assert pids(section) == before  # the same master, new workers
        waited = first.results("Wait until a new haproxy process runs the configuration (tlsops.ocsp.haproxy_stapling)")
        assert waited and waited[0]["process"]["took_effect"], waited
        assert by_leaf(state, endpoint_facts(first, "haproxy_stapling"), "must_staple")["verdict"] == "good"
        assert "Cert Status: good" in s_client_status(state, "haproxy", "must_staple")

        serving = pids(section)
        again = run_playbook(PLAYBOOK, variables)
        assert again.returncode == 0 and again.changed() == 0, again.failure_messages()
        assert plan_of(again)["process"]["config_loaded"] is True
        # not reloaded again, and still serving its staples
        assert pids(section) == serving
        assert "Cert Status: good" in s_client_status(state, "haproxy", "plain")
    finally:
        stop(section)


def test_a_reload_without_effect_is_a_cause_and_is_not_repeated(lab_factory, run_playbook):  # noqa: F811
    lab = lab_factory(components=("responder", "haproxy"), revoke_initially=False)
    state = lab.state()
    section = state["haproxy"]
    lab.stop(["haproxy"])
    start(section)  # as the init script starts it: no master-worker
    try:
        master = pids(section)[0]
        # SIGUSR2 forced on a daemon without master-worker: it ignores it (the bug the auto method avoids)
        variables = role_vars.haproxy(state, haproxy_stapling_reload_method="signal", haproxy_stapling_reload_wait=2,
                                      haproxy_stapling_refresher_python=sys.executable)
        first = run_playbook(PLAYBOOK, variables)
        assert first.returncode != 0  # the Must-Staple gate
        messages = " ".join(first.failure_messages())
        must_staple = by_leaf(state, endpoint_facts(first, "haproxy_stapling"), "must_staple")
        assert must_staple["verdict"] == "no_staple" and must_staple["cause"] == "reload_not_effective", must_staple
        assert "HAProxy pid %d" % master in must_staple["cause_sentence"]
        assert "pid file %s" % section["pid_file"] in must_staple["cause_sentence"]
        # started by hand here (its own configuration): the remedy restarts it with its own command line
        assert "kill %d && %s" % (master, section["binary"]) in must_staple["remedy"], must_staple["remedy"]
        assert "not loaded the configuration" in messages and "nginx" not in messages
        assert pids(section) == [master]

        second = run_playbook(PLAYBOOK, variables)
        assert second.returncode != 0 and second.changed() == 0, second.failure_messages()
        assert plan_of(second)["reload_repeat"] is False
        assert by_leaf(state, endpoint_facts(second, "haproxy_stapling"), "must_staple")["cause"] == (
            "reload_not_effective")
        assert pids(section) == [master]  # not signalled again, still serving
        assert "Verify return code: 0 (ok)" in s_client_status(state, "haproxy", "plain")
    finally:
        stop(section)
