# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""HAProxy reloaded the way the running process can be, on the real haproxy 2.6 without systemd.

Started as Debian's init script starts it (`haproxy -f CONFIG -D -p PIDFILE`: no master-worker, as in most
containers), SIGUSR2 does not reload it; the role reads that from the process and starts a new process that
takes over (-sf), as the init script's own reload does. In master-worker mode (`-W`) it keeps SIGUSR2.
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


def pids(section: dict[str, Any]) -> list[int]:
    return [int(word) for word in Path(section["pid_file"]).read_text().split()]


def start(section: dict[str, Any], *flags: str) -> None:
    subprocess.run([section["binary"], *flags, "-D", "-f", section["config_file"], "-p", section["pid_file"]],
                   check=True, timeout=30)
    deadline = time.monotonic() + 10
    while not Path(section["pid_file"]).exists() and time.monotonic() < deadline:
        time.sleep(0.1)


@pytest.mark.parametrize("flags, method", [((), "soft"), (("-W",), "signal")])
def test_reload_follows_the_running_process(lab_factory, run_playbook, flags, method):  # noqa: F811
    lab = lab_factory(components=("responder", "haproxy"), revoke_initially=False)
    state = lab.state()
    section = state["haproxy"]
    lab.stop(["haproxy"])
    start(section, *flags)
    try:
        variables = role_vars.haproxy(state, haproxy_stapling_reload_method="auto",
                                      haproxy_stapling_refresher_python=sys.executable)
        first = run_playbook(PLAYBOOK, variables)
        assert first.returncode == 0, first.failure_messages()
        plans = first.results("Plan stapling on this server (decided on the controller, no round trip)")
        assert plans[0]["ansible_facts"]["__stapling_phases_plan"]["reload_method"] == method
        assert by_leaf(state, endpoint_facts(first, "haproxy_stapling"), "must_staple")["verdict"] == "good"
        assert "Cert Status: good" in s_client_status(state, "haproxy", "must_staple")

        again = run_playbook(PLAYBOOK, variables)
        assert again.returncode == 0 and again.changed() == 0, again.failure_messages()
    finally:
        for pid in pids(section):
            subprocess.run(["kill", str(pid)], check=False)
