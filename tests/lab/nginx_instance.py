# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's private nginx: Debian's binary with its own prefix, config, logs and pid file.

One TLS port serves every leaf by SNI (plain is the default server). Stapling
is left at nginx's default, off, and never written in a server block, so that
a drop-in in conf.d/ at http level can turn it on.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.lab.lab_pki import make_dir, write_file
from tests.lab.processes import HOST
from tests.lab.servers import Server

BINARY = "/usr/sbin/nginx"
# One worker: a staple fetched once is served to every later handshake.
WORKER_PROCESSES = 1
# Debian compiles temp paths under /var/lib/nginx; a private instance keeps its own.
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
component = Server("nginx")


def describe(lab_dir: Path, port: int, leaves: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The `nginx` section of lab.json."""
    prefix = lab_dir / "nginx"
    config_file = prefix / "nginx.conf"
    error_log = prefix / "logs" / "error.log"
    # -e: Debian's compiled-in error log would be /var/log/nginx/error.log
    base = [BINARY, "-p", f"{prefix}/", "-c", str(config_file), "-e", str(error_log)]
    sites_dir = prefix / "sites"
    return {
        "binary": BINARY,
        "prefix": str(prefix),
        "config_file": str(config_file),
        "dropin_dir": str(prefix / "conf.d"),
        "sites_dir": str(sites_dir),
        "sites": {name: str(sites_dir / f"{index:02d}-{name}.conf") for index, name in enumerate(leaves)},
        "pid_file": str(prefix / "logs" / "nginx.pid"),
        "error_log": str(error_log),
        "access_log": str(prefix / "logs" / "access.log"),
        "port": port,
        "env": {},
        "start_command": base,
        "process_marker": f"-p {prefix}/",  # the master's title repeats its arguments
        "stop_command": [*base, "-s", "quit"],
        "reload_command": [*base, "-s", "reload"],
        "test_command": [*base, "-t"],
        "pid": None,
    }


def _main_config(section: dict[str, Any]) -> str:
    temp_paths = "".join(f"    {kind}_temp_path temp/{kind};\n" for kind in TEMP_PATHS)
    return (
        "# Written by tests/lab/lab.py init: the tlsops.ocsp lab's private nginx.\n"
        "user root;\n"
        f"worker_processes {WORKER_PROCESSES};\n"
        f"pid {section['pid_file']};\n"
        f"error_log {section['error_log']} warn;\n"
        "events {\n    worker_connections 512;\n}\n"
        "http {\n"
        "    default_type text/plain;\n"
        f"    access_log {section['access_log']};\n"
        f"{temp_paths}"
        f"    include {section['dropin_dir']}/*.conf;\n"
        f"    include {section['sites_dir']}/*.conf;\n"
        "}\n"
    )


def _site(leaf: dict[str, Any], port: int, default: bool) -> str:
    return (
        f"# {leaf['name']}: written by tests/lab/lab.py init.\n"
        "server {\n"
        f"    listen {HOST}:{port} ssl{' default_server' if default else ''};\n"
        f"    server_name {leaf['server_name']};\n"
        f"    ssl_certificate {leaf['fullchain']};\n"
        f"    ssl_certificate_key {leaf['key']};\n"
        "    location / {\n"
        f"        return 200 \"{leaf['server_name']}\\n\";\n"
        "    }\n"
        "}\n"
    )


def configure(state: dict[str, Any]) -> None:
    """Write nginx.conf and one site per leaf; conf.d/ starts empty."""
    section = state["nginx"]
    prefix = make_dir(Path(section["prefix"]), 0o755)
    for directory in ("conf.d", "sites", "logs", "temp"):
        make_dir(prefix / directory, 0o755)
    write_file(Path(section["config_file"]), _main_config(section).encode(), 0o644)
    for index, (name, site_file) in enumerate(section["sites"].items()):
        write_file(Path(site_file), _site(state["leaves"][name], section["port"], index == 0).encode(), 0o644)
