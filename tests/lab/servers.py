# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start, stop and report a private web server that daemonises and writes a pid file.

nginx and apache2 share this: their lab.json sections carry `start_command`,
`stop_command`, `pid_file`, `port`, `env` and `error_log`; only their
configuration files differ (nginx_instance.py, apache_instance.py).
"""
from __future__ import annotations

import ssl
from typing import Any

from tests.lab.processes import HOST, LabError, children, ensure_port_free, log_tail, pid_alive, process_status, \
    run, section_pid, terminate, wait_until

START_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
HANDSHAKE_TIMEOUT = 2.0


def serves(state: dict[str, Any], port: int, server_name: str) -> bool:
    """True when a TLS handshake with SNI `server_name` succeeds and the lab's root verifies it."""
    context = ssl.create_default_context(cafile=state["pki"]["root"]["cert"])
    try:
        with ssl.create_connection((HOST, port), timeout=HANDSHAKE_TIMEOUT) as raw, \
                context.wrap_socket(raw, server_hostname=server_name):
            return True
    except (OSError, ssl.SSLError):
        return False


def _first_server_name(state: dict[str, Any]) -> str:
    return next(iter(state["leaves"].values()))["server_name"]


class Server:
    """The lab component named `kind` ("nginx" or "apache"), driven through its lab.json section."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def start(self, state: dict[str, Any]) -> None:
        section = state[self.kind]
        pid = section_pid(section)
        if pid is None:
            ensure_port_free(section["port"], self.kind)
            run(section["start_command"], f"starting {self.kind}", env=section["env"])
            wait_until(lambda: section_pid(section) is not None, START_TIMEOUT)
            pid = section_pid(section)
        section["pid"] = pid
        server_name = _first_server_name(state)
        ready = pid is not None and wait_until(
            lambda: serves(state, section["port"], server_name) or not pid_alive(pid), START_TIMEOUT)
        if not ready or not pid_alive(pid):
            raise LabError(f"{self.kind} (pid {pid}) does not serve {server_name} on 127.0.0.1:{section['port']}; "
                           f"{section['error_log']} says: {log_tail(section['error_log'])}")

    def stop(self, state: dict[str, Any]) -> None:
        section = state[self.kind]
        pid = section_pid(section)
        if pid is not None:
            everyone = [pid, *children(pid)]
            try:
                run(section["stop_command"], f"stopping {self.kind}", env=section["env"])
                stopped = wait_until(lambda: not any(pid_alive(each) for each in everyone), STOP_TIMEOUT)
            except LabError:  # e.g. a configuration broken by a test: the command cannot even parse it
                stopped = False
            if not stopped:
                for each in everyone:
                    terminate(each)
        section["pid"] = None

    def status(self, state: dict[str, Any]) -> dict[str, Any]:
        report = process_status(state[self.kind])
        report["serving"] = report["running"] and serves(state, report["port"], _first_server_name(state))
        return report
