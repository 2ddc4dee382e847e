# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's private haproxy: Debian's binary (2.6) in master-worker mode with its own config and pid file.

One TLS bind serves every leaf by SNI: `crt` names the plain leaf's bundle
(the default certificate) and a crt-list the others, so that discovery meets
both forms. Each bundle is the leaf, the intermediate and the key in one PEM
file, as HAProxy wants them. There is no stats socket and no `.ocsp` file:
the haproxy_stapling role adds both.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.lab.lab_pki import make_dir, write_file
from tests.lab.processes import HOST, section_pid, terminate
from tests.lab.servers import Server

BINARY = "/usr/sbin/haproxy"
DEFAULT_LEAF = "plain"


class HaproxyServer(Server):
    """Started by its command; stopped by SIGTERM to the master, which stops its workers."""

    def stop(self, state: dict[str, Any]) -> None:
        section = state[self.kind]
        pid = section_pid(section)
        if pid is not None:
            terminate(pid)
        section["pid"] = None


component = HaproxyServer("haproxy")


def describe(lab_dir: Path, port: int, leaves: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The `haproxy` section of lab.json."""
    prefix = lab_dir / "haproxy"
    config_file = prefix / "haproxy.cfg"
    pid_file = prefix / "haproxy.pid"
    certs_dir = prefix / "certs"
    return {
        "binary": BINARY,
        "prefix": str(prefix),
        "config_file": str(config_file),
        "certs_dir": str(certs_dir),
        "crt_list": str(prefix / "crt-list.txt"),
        "bundles": {name: str(certs_dir / f"{name}.pem") for name in leaves},
        "socket_path": str(prefix / "admin.sock"),
        "pid_file": str(pid_file),
        "error_log": str(prefix / "haproxy.log"),
        "port": port,
        "env": {},
        "start_command": [BINARY, "-W", "-D", "-f", str(config_file), "-p", str(pid_file)],
        "process_marker": f"-f {config_file}",
        "test_command": [BINARY, "-c", "-f", str(config_file)],
        "pid": None,
    }


def _config(section: dict[str, Any], leaves: dict[str, dict[str, Any]]) -> str:
    return (
        "# Written by tests/lab/lab.py init: the tlsops.ocsp lab's private haproxy.\n"
        "global\n"
        f"    crt-base {section['certs_dir']}\n"
        "    ssl-default-bind-options ssl-min-ver TLSv1.2\n"
        "\n"
        "defaults\n"
        "    mode http\n"
        "    timeout connect 5s\n"
        "    timeout client 30s\n"
        "    timeout server 30s\n"
        "\n"
        "frontend lab_tls\n"
        f"    bind {HOST}:{section['port']} ssl crt {DEFAULT_LEAF}.pem crt-list {section['crt_list']}\n"
        "    http-request return status 200 content-type text/plain string ok\n"
    )


def _crt_list(leaves: dict[str, dict[str, Any]]) -> str:
    return "".join(f"{name}.pem {leaf['server_name']}\n" for name, leaf in leaves.items() if name != DEFAULT_LEAF)


def configure(state: dict[str, Any]) -> None:
    """Write haproxy.cfg, the crt-list and one PEM bundle (leaf, chain, key) per leaf."""
    section = state["haproxy"]
    make_dir(Path(section["prefix"]), 0o755)
    make_dir(Path(section["certs_dir"]), 0o755)
    make_dir(Path(section["prefix"]) / "cron.d", 0o755)  # as /etc/cron.d, for the role's refresher entry
    for name, bundle in section["bundles"].items():
        leaf = state["leaves"][name]
        write_file(Path(bundle), Path(leaf["fullchain"]).read_bytes() + Path(leaf["key"]).read_bytes(), 0o600)
    write_file(Path(section["crt_list"]), _crt_list(state["leaves"]).encode(), 0o644)
    write_file(Path(section["config_file"]), _config(section, state["leaves"]).encode(), 0o644)
