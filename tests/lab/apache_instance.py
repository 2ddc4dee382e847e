# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's private apache2: a copy of /etc/apache2 driven through APACHE_CONFDIR.

Debian's apache2ctl, a2enmod and a2enconf all honour APACHE_CONFDIR (and
a2enmod/a2enconf APACHE_STATE_DIRECTORY), so the copy behaves like the system layout (mods-/conf-/sites-available and
-enabled) with its own envvars, ports, pid file, run, lock and log
directories. One <VirtualHost 127.0.0.1:port> per leaf, in leaf order (the
first, plain, is the default for unknown names). Stapling stays at Apache's
default, off, and is never written in a vhost.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from tests.lab.lab_pki import make_dir, write_file
from tests.lab.processes import HOST
from tests.lab.servers import Server

SYSTEM_CONFDIR = Path("/etc/apache2")
BINARY = "/usr/sbin/apache2"
CTL = "/usr/sbin/apache2ctl"
RUN_USER = "www-data"
MODULES = ("ssl", "socache_shmcb")  # socache_shmcb: SSLStaplingCache shmcb:...
component = Server("apache")


def describe(lab_dir: Path, port: int, leaves: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The `apache` section of lab.json."""
    confdir = lab_dir / "apache2"
    # APACHE_STATE_DIRECTORY: else a2enmod/a2enconf leave markers in the system's /var/lib/apache2
    env = {"APACHE_CONFDIR": str(confdir), "APACHE_STATE_DIRECTORY": str(confdir / "state")}
    ctl = ["/usr/bin/env", *(f"{name}={value}" for name, value in env.items()), CTL]
    sites_available = confdir / "sites-available"
    return {
        "binary": BINARY,
        "ctl": CTL,
        "confdir": str(confdir),
        "config_file": str(confdir / "apache2.conf"),
        "envvars": str(confdir / "envvars"),
        "ports_file": str(confdir / "ports.conf"),
        "dropin_dir": str(confdir / "conf-available"),
        "conf_enabled": str(confdir / "conf-enabled"),
        "mods_available": str(confdir / "mods-available"),
        "mods_enabled": str(confdir / "mods-enabled"),
        "sites_available": str(sites_available),
        "sites_enabled": str(confdir / "sites-enabled"),
        "sites": {name: str(sites_available / f"{index:02d}-{name}.conf") for index, name in enumerate(leaves)},
        "run_dir": str(confdir / "run"),
        "lock_dir": str(confdir / "lock"),
        "log_dir": str(confdir / "logs"),
        "pid_file": str(confdir / "run" / "apache2.pid"),
        "error_log": str(confdir / "logs" / "error.log"),
        "port": port,
        "state_dir": env["APACHE_STATE_DIRECTORY"],
        "env": env,
        "start_command": [*ctl, "start"],
        "process_marker": f"-d {confdir}",
        "stop_command": [*ctl, "stop"],
        "reload_command": [*ctl, "graceful"],
        "test_command": [*ctl, "configtest"],
        "pid": None,
    }


def _envvars(section: dict[str, Any]) -> str:
    return (
        "# Written by tests/lab/lab.py init: the lab's apache2 (sourced by apache2ctl).\n"
        "unset HOME\n"
        f"export APACHE_RUN_USER={RUN_USER}\n"
        f"export APACHE_RUN_GROUP={RUN_USER}\n"
        f"export APACHE_PID_FILE={section['pid_file']}\n"
        f"export APACHE_RUN_DIR={section['run_dir']}\n"
        f"export APACHE_LOCK_DIR={section['lock_dir']}\n"
        f"export APACHE_LOG_DIR={section['log_dir']}\n"
        "export LANG=C\n"
    )


def _ports(section: dict[str, Any]) -> str:
    return (
        "# Written by tests/lab/lab.py init: loopback only, one TLS port for every vhost.\n"
        "ServerName lab.test\n"
        f"Listen {HOST}:{section['port']}\n"
    )


def _vhost(leaf: dict[str, Any], port: int) -> str:
    return (
        f"# {leaf['name']}: written by tests/lab/lab.py init.\n"
        f"<VirtualHost {HOST}:{port}>\n"
        f"    ServerName {leaf['server_name']}\n"
        "    SSLEngine on\n"
        f"    SSLCertificateFile {leaf['fullchain']}\n"
        f"    SSLCertificateKeyFile {leaf['key']}\n"
        "</VirtualHost>\n"
    )


def _enable(available: Path, enabled: Path) -> None:
    """What a2enmod/a2ensite do: a relative symlink in the -enabled directory."""
    link = enabled / available.name
    link.unlink(missing_ok=True)
    link.symlink_to(os.path.relpath(available, enabled))


def _copy_system_confdir(confdir: Path) -> None:
    shutil.rmtree(confdir, ignore_errors=True)
    shutil.copytree(SYSTEM_CONFDIR, confdir, symlinks=True)
    for site in (confdir / "sites-enabled").iterdir():
        site.unlink()  # Debian's 000-default listens on *:80


def configure(state: dict[str, Any]) -> None:
    """Copy /etc/apache2, point it at the lab's directories and port, add one vhost per leaf."""
    section = state["apache"]
    confdir = Path(section["confdir"])
    _copy_system_confdir(confdir)
    for directory in ("run_dir", "lock_dir", "log_dir", "state_dir"):
        make_dir(Path(section[directory]), 0o755)
    shutil.chown(section["lock_dir"], RUN_USER, RUN_USER)  # as Debian's /var/lock/apache2
    write_file(Path(section["envvars"]), _envvars(section).encode(), 0o644)
    write_file(Path(section["ports_file"]), _ports(section).encode(), 0o644)
    mods_available = Path(section["mods_available"])
    for module in MODULES:
        for part in sorted(mods_available.glob(f"{module}.*")):
            _enable(part, Path(section["mods_enabled"]))
    for name, site_file in section["sites"].items():
        write_file(Path(site_file), _vhost(state["leaves"][name], section["port"]).encode(), 0o644)
        _enable(Path(site_file), Path(section["sites_enabled"]))
