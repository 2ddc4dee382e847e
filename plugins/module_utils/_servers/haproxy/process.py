# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the running HAProxy can be reloaded, read from the process rather than assumed.

In master-worker mode (``-W``/``-Ws``, or ``master-worker`` in the global section; Debian's systemd unit runs
``-Ws``) SIGUSR2 to the master re-reads the configuration. A daemon started without it (Debian's init script:
``haproxy -f CONFIG -D -p PIDFILE``, as in most containers) ignores SIGUSR2 as a reload: it is replaced by a new
process that takes over its sockets (``-sf <old pids>``), as the init script's own reload does.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional

_UNIT = re.compile(r"/([^/\s]+\.service)(?:/|$)")
_MASTER_WORKER = re.compile(r"^\s*master-worker\b", re.MULTILINE)


def _read(path: str) -> Optional[str]:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def pids_in(pid_file: str) -> List[int]:
    """The pids a pid file names, one per line (a daemon without master-worker writes each of its processes)."""
    return [int(word) for word in (_read(pid_file) or "").split() if word.isdigit()]


def systemd_unit(cgroup_text: str) -> Optional[str]:
    """The systemd service a process runs in, from /proc/<pid>/cgroup (None outside one)."""
    for line in cgroup_text.splitlines():
        found = _UNIT.search(line.split(":", 2)[-1])
        if found:
            return found.group(1)
    return None


def running(pid_file: str, config_texts: List[str], proc: str = "/proc") -> Optional[Dict[str, Any]]:
    """The HAProxy the pid file names, if it runs: its pids, command line, master-worker mode and systemd unit."""
    pids = [pid for pid in pids_in(pid_file) if (_read(os.path.join(proc, str(pid), "comm")) or "").strip()
            == "haproxy"]
    if not pids:
        return None
    cmdline = (_read(os.path.join(proc, str(pids[0]), "cmdline")) or "").split("\0")
    master_worker = any(word in ("-W", "-Ws") for word in cmdline) or any(
        _MASTER_WORKER.search(text) for text in config_texts)
    return {"pids": pids, "cmdline": [word for word in cmdline if word], "master_worker": master_worker,
            "systemd_unit": systemd_unit(_read(os.path.join(proc, str(pids[0]), "cgroup")) or "")}


def reload_method(process: Optional[Dict[str, Any]], fallback: str, private: bool) -> str:
    """`service` for the system instance systemd runs, `signal` (SIGUSR2) in master-worker mode, `soft` (a new
    process with -sf) for a daemon without it; `fallback` when nothing runs from the pid file."""
    if process is None:
        return fallback
    if process["systemd_unit"] and not private:
        return "service"
    return "signal" if process["master_worker"] else "soft"


def soft_reload_command(binary: str, config_files: List[str], pid_file: str, pids: List[int]) -> List[str]:
    """What Debian's init script runs to reload a daemon without master-worker."""
    return ([binary] + [word for path in config_files for word in ("-f", path)]
            + ["-p", pid_file, "-D", "-sf"] + [str(pid) for pid in pids])
