# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the running HAProxy can be reloaded, read from the process rather than assumed.

In master-worker mode (``-W``/``-Ws``, or ``master-worker`` in the global section; Debian's systemd unit runs
``-Ws``) SIGUSR2 to the master re-reads the configuration. A daemon started without it (Debian's init script:
``haproxy -f CONFIG -D -p PIDFILE``, as in most containers) ignores SIGUSR2: it is replaced by a new process
that takes over its sockets (``-sf <old pids>``), as the init script's own reload does. The decision table
(``reload``): a method the user set wins; systemd runs it -> the service manager (the unit the process runs
in); master-worker -> SIGUSR2 to the master; a daemon without master-worker -> the soft reload, built from the
process's own command line (its options kept, as the init script keeps EXTRAOPTS); a process in the
foreground without master-worker, or none running -> no reload (the plan says why).

``config_loaded``: whether the newest process of the instance started after the configuration files last
changed. False means a reload since that change had no effect (or none was done): a later run does not
reload again by the same method, it reports the cause ``reload_not_effective`` with the restart command.
"""
from __future__ import annotations

import os
import re
import shlex
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import server_processes as processes
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import stapling_plan as common

NAME = "haproxy"
INIT_SCRIPT = "/etc/init.d/haproxy"
SYSTEM_CONFIG = "/etc/haproxy/haproxy.cfg"
MASTER_WORKER_FLAGS = ("-W", "-Ws")
# options followed by old pids: a soft reload replaces them with the running ones
_PID_OPTIONS = ("-sf", "-st")
# start time from /proc is within a second (boot time is whole seconds): a change this close counts as loaded
LOADED_TOLERANCE = 2.0
_MASTER_WORKER = re.compile(r"^\s*master-worker\b", re.MULTILINE)
_DAEMON = re.compile(r"^\s*daemon\s*$", re.MULTILINE)


def pids_in(pid_file: str) -> List[int]:
    """The pids a pid file names, one per line (a daemon without master-worker writes each of its processes)."""
    return [int(word) for word in (processes.read_text(pid_file) or "").split() if word.isdigit()]


def option_values(argv: List[str], option: str) -> List[str]:
    """The values of each `option value` pair in a command line (`-f` may repeat)."""
    return [argv[index + 1] for index, word in enumerate(argv[:-1]) if word == option]


def without_old_pids(argv: List[str]) -> List[str]:
    """The command line without `-sf`/`-st` and the pids after them (a soft-reloaded process carries them)."""
    kept: List[str] = []
    skipping = False
    for word in argv:
        if word in _PID_OPTIONS:
            skipping = True
            continue
        if skipping and word.isdigit():
            continue
        skipping = False
        kept.append(word)
    return kept


def _master(haproxies: List[Dict[str, Any]], pid_file: str, config_files: List[str]) -> Optional[Dict[str, Any]]:
    """The instance's master: the live haproxy the pid file names, else the one whose command line names one
    of `config_files` (or the only one)."""
    by_pid = {entry["pid"]: entry for entry in haproxies}
    for pid in pids_in(pid_file):
        if pid in by_pid:
            return dict(by_pid[pid], pid_source="pid_file")
    masters = processes.masters(haproxies)
    named = [entry for entry in masters if set(option_values(entry["argv"], "-f")) & set(config_files)]
    found = named or (masters if len(masters) == 1 else [])
    return dict(found[0], pid_source="proc") if found else None


def running(pid_file: str, config_files: List[str], config_texts: List[str], proc: str = processes.PROC,
            init_script: str = INIT_SCRIPT) -> Optional[Dict[str, Any]]:
    """The running HAProxy of this configuration, or None: master pid (pid file, else /proc), its workers, its
    command line, master-worker mode, daemon, systemd unit, who started it and when its newest process started."""
    haproxies = processes.live_processes([NAME], proc)
    master = _master(haproxies, pid_file, config_files)
    if master is None:
        return None
    members = processes.family(master, haproxies)
    argv = master["argv"]
    listed = [pid for pid in pids_in(pid_file) if pid in {entry["pid"] for entry in haproxies}]
    named_pid_file = (option_values(argv, "-p") or [None])[0]
    starts = [start for start in (processes.started_at(entry, proc) for entry in members) if start is not None]
    system_instance = option_values(argv, "-f") in ([SYSTEM_CONFIG], [])
    return {
        "pid": master["pid"],
        "pids": listed if master["pid_source"] == "pid_file" else [master["pid"]],
        "workers": [entry["pid"] for entry in members[1:]],
        "pid_source": master["pid_source"],
        "pid_file": named_pid_file or (pid_file if master["pid_source"] == "pid_file" else None),
        "cmdline": argv,
        "master_worker": any(word in MASTER_WORKER_FLAGS for word in argv)
        or any(_MASTER_WORKER.search(text) for text in config_texts),
        "daemon": "-D" in argv or any(_DAEMON.search(text) for text in config_texts),
        "systemd_unit": master["systemd_unit"],
        "started_by": processes.started_by(master, system_instance, init_script),
        "started": max(starts) if starts else None,
    }


def config_loaded(running_process: Optional[Mapping[str, Any]], changed_at: Optional[float]) -> Optional[bool]:
    """Whether the running process started after the configuration last changed (None: cannot tell)."""
    if not running_process or running_process.get("started") is None or changed_at is None:
        return None
    return changed_at <= running_process["started"] + LOADED_TOLERANCE


def took_effect(previous_pids: List[int], running_process: Optional[Mapping[str, Any]]) -> bool:
    """Whether a reload took effect: a process of the instance is new (a new master after -sf, new workers after
    SIGUSR2 or the service's reload) and the instance runs the configuration as it is."""
    if not running_process:
        return False
    now = {running_process["pid"], *running_process.get("workers", [])}
    return bool(now - set(previous_pids)) and running_process.get("config_loaded") is not False


def newest_change(paths: List[str]) -> Optional[float]:
    """The newest modification time of `paths` (the configuration files and crt-lists HAProxy reads at load)."""
    times = []
    for path in paths:
        try:
            times.append(os.stat(path).st_mtime)
        except OSError:
            continue
    return max(times) if times else None


def soft_reload_command(binary: str, running_process: Mapping[str, Any], config_files: List[str],
                        pid_file: str) -> List[str]:
    """The new process that takes over from the running one: its own command line (options kept) with `-sf`
    and the running pids; the settings' files where its command line names relative paths (its working
    directory is not the role's)."""
    argv = without_old_pids(list(running_process["cmdline"]))[1:]
    named = option_values(argv, "-f") + option_values(argv, "-p")
    if not option_values(argv, "-f") or any(not os.path.isabs(path) for path in named):
        argv = [word for path in config_files for word in ("-f", path)] + ["-p", pid_file]
    if "-D" not in argv:
        argv.append("-D")
    return [binary] + argv + ["-sf"] + [str(pid) for pid in running_process["pids"]]


def service_name(running_process: Optional[Mapping[str, Any]], configured: str) -> str:
    """The service to reload: the unit systemd runs the process in, else the configured name."""
    unit = (running_process or {}).get("systemd_unit")
    return unit[:-len(".service")] if unit and unit.endswith(".service") else configured


def restart_command(running_process: Optional[Mapping[str, Any]], configured_service: str) -> str:
    """The command that restarts this HAProxy, for a remedy people run by hand."""
    if not running_process:
        return "service %s start" % configured_service
    started_by = running_process["started_by"]
    if started_by == processes.SYSTEMD:
        return "systemctl restart %s" % running_process["systemd_unit"]
    if started_by == processes.INIT_SCRIPT:
        return "service %s restart" % os.path.basename(INIT_SCRIPT)
    argv = without_old_pids(list(running_process["cmdline"]))
    return "kill %s && %s" % (" ".join(str(pid) for pid in running_process["pids"]), shlex.join(argv))


def describe(running_process: Optional[Mapping[str, Any]]) -> str:
    """The process in a few words: `HAProxy pid 41 (pid file /run/haproxy.pid, not master-worker, started by
    init_script)`."""
    if not running_process:
        return "no running HAProxy"
    mode = "master-worker" if running_process["master_worker"] else "not master-worker"
    where = "pid file %s" % running_process["pid_file"] if running_process.get("pid_file") else "no pid file"
    unit = " %s" % running_process["systemd_unit"] if running_process.get("systemd_unit") else ""
    return "HAProxy pid %d (%s, %s, started by %s%s)" % (running_process["pid"], where, mode,
                                                         running_process["started_by"], unit)


def _method(running_process: Optional[Mapping[str, Any]], settings: Mapping[str, Any],
            read: bool) -> Tuple[str, Optional[str]]:
    """(method, why there is none). `read`: discovery read the process (else the host's service manager decides,
    as before the process was read)."""
    wanted = settings.get("reload_method", "auto")
    if not read:
        return common.reload_method(settings, "signal"), None
    if running_process is None:
        return "none", ("no HAProxy runs from %s or with %s: nothing to reload (it reads the configuration when it "
                        "starts)" % (settings.get("pid_file"), ", ".join(settings.get("config_files") or [])))
    if wanted != "auto":
        return wanted, None
    if running_process["systemd_unit"] and not settings.get("private"):
        return "service", None
    if running_process["master_worker"]:
        return "signal", None
    if not running_process["daemon"]:
        return "none", ("%s runs in the foreground without master-worker: it cannot be reloaded in place; restart "
                        "it (or run it with -W)" % describe(running_process))
    return "soft", None


def reload(running_process: Optional[Mapping[str, Any]], settings: Mapping[str, Any], read: bool = True) -> Dict[str, Any]:
    """The plan's reload keys: reload_method (service | signal | soft | none), reload_command (argv for signal
    and soft), reload_service, reload_note (why none), reload_repeat (False: a reload since the configuration
    changed had no effect, do not reload again) and the facts the cause's remedy names."""
    method, note = _method(running_process, settings, read)
    service = service_name(running_process, settings.get("service_name") or NAME)
    command: Optional[List[str]] = None
    if running_process and method == "signal":
        command = ["kill", "-USR2", str(running_process["pid"])]
    elif running_process and method == "soft":
        command = soft_reload_command(settings["binary"], running_process, settings["config_files"],
                                      settings["pid_file"])
    loaded = (running_process or {}).get("config_loaded")
    return {
        "reload_method": method,
        "reload_command": command,
        "reload_service": service,
        "reload_note": note,
        "reload_repeat": loaded is not False,
        "process": {
            "description": describe(running_process),
            "pid_file": (running_process or {}).get("pid_file") or settings.get("pid_file"),
            "pids": list((running_process or {}).get("pids", [])) + list((running_process or {}).get("workers", [])),
            "config_loaded": loaded,
            "restart_command": restart_command(running_process, service),
        },
    }
