# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The web servers running on a host, from /proc (or `ps` where /proc lists none), and how each was started.

Shared by server_facts (the stapling role's detection) and stapling_audit_info (the audit's one call), and by
the discovery of each server kind: who started its main process (``started_by``: ``systemd`` when its cgroup
names a system ``.service``, ``init_script`` when it runs the system instance an /etc/init.d script starts,
``hand`` otherwise), which is what decides how it can be reloaded. A host with systemd can run a server started
by hand: the process says which, the service manager of the host does not.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from ansible.module_utils.basic import AnsibleModule

# process name -> the server kind (the role) that handles it
SERVER_KINDS = {"nginx": "nginx", "apache2": "apache", "httpd": "apache", "haproxy": "haproxy"}
PS_FAILED = "listing the running programs failed: /proc lists no process and %s; %s"
PROC = "/proc"
SYSTEMD = "systemd"
INIT_SCRIPT = "init_script"
HAND = "hand"
_SERVICE = re.compile(r"([^/\s]+\.service)$")
# a user's own systemd instance, not the system's service for this server
_USER_MANAGER = re.compile(r"^user@\d+\.service$")


def read_text(path: str) -> Optional[str]:
    """A small file's text (a /proc entry, a pid file), or None when it cannot be read."""
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def systemd_unit(cgroup_text: str) -> Optional[str]:
    """The system service a process runs in, from /proc/<pid>/cgroup: the innermost ``.service`` of its path
    (cgroup v2 ``0::/system.slice/haproxy.service``, v1 ``1:name=systemd:/...``); None outside one, and for a
    user's own manager (``user@1000.service``: started by hand in a session)."""
    for line in cgroup_text.splitlines():
        parts = line.split(":", 2)
        if len(parts) < 3 or parts[1] not in ("", "name=systemd"):
            continue
        units = [match.group(1) for match in map(_SERVICE.search, parts[2].split("/")) if match]
        units = [unit for unit in units if not _USER_MANAGER.match(unit)]
        if units:
            return units[-1]
    return None


def process(pid: int, proc: str = PROC) -> Optional[Dict[str, Any]]:
    """One live process: pid, comm, ppid, argv, systemd unit and start (clock ticks after boot); None when it is
    gone, hidden or a zombie (an exited process its parent has not reaped still shows its name)."""
    base = os.path.join(proc, str(pid))
    stat = read_text(os.path.join(base, "stat"))
    if not stat or ")" not in stat:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return {
        "pid": pid,
        "comm": stat[stat.find("(") + 1:stat.rfind(")")],
        "ppid": int(fields[1]),
        "argv": [word for word in (read_text(os.path.join(base, "cmdline")) or "").split("\0") if word],
        "systemd_unit": systemd_unit(read_text(os.path.join(base, "cgroup")) or ""),
        "start_ticks": int(fields[19]),
    }


def live_processes(names: Iterable[str], proc: str = PROC) -> List[Dict[str, Any]]:
    """Every live process whose name is one of `names`, by pid."""
    wanted = set(names)
    try:
        pids = sorted(int(entry) for entry in os.listdir(proc) if entry.isdigit())
    except OSError:
        return []
    found = (process(pid, proc) for pid in pids)
    return [entry for entry in found if entry is not None and entry["comm"] in wanted]


def masters(processes: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The processes whose parent is not one of them: each instance's master (or its only process)."""
    pids = {entry["pid"] for entry in processes}
    return [entry for entry in processes if entry["ppid"] not in pids]


def family(master: Dict[str, Any], processes: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The master and its descendants among `processes` (its workers)."""
    members, pids = [master], {master["pid"]}
    for entry in sorted(processes, key=lambda item: item["pid"]):
        if entry["ppid"] in pids and entry["pid"] not in pids:
            members.append(entry)
            pids.add(entry["pid"])
    return members


def boot_time(proc: str = PROC) -> Optional[float]:
    """The host's boot time (Unix seconds, whole: /proc/stat's btime)."""
    for line in (read_text(os.path.join(proc, "stat")) or "").splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return None


def started_at(entry: Dict[str, Any], proc: str = PROC) -> Optional[float]:
    """When a process started, as Unix time (within a second: boot time is whole seconds)."""
    boot = boot_time(proc)
    return None if boot is None else boot + entry["start_ticks"] / os.sysconf("SC_CLK_TCK")


def started_by(master: Dict[str, Any], system_instance: bool, init_script: Optional[str]) -> str:
    """systemd (its cgroup names a service), init_script (the system instance, where an init script exists
    for it and no service runs it), or hand."""
    if master.get("systemd_unit"):
        return SYSTEMD
    if system_instance and init_script and os.path.exists(init_script):
        return INIT_SCRIPT
    return HAND


def restart_command(process: Optional[Mapping[str, Any]], service: str, init_script: str) -> str:
    """How to restart the running master as it was started (what a reload without effect calls for)."""
    started = (process or {}).get("started_by")
    if started == SYSTEMD:
        return "systemctl restart %s" % ((process or {}).get("systemd_unit") or service)
    if started == INIT_SCRIPT:
        return "service %s restart" % os.path.basename(init_script)
    return "stop it and start it again the way it was started (its pid is %s)" % (process or {}).get("pid", "unknown")


def _pids_in(pid_file: Optional[str]) -> List[int]:
    return [int(word) for word in (read_text(pid_file) or "").split() if word.isdigit()] if pid_file else []


def _option(argv: List[str], option: str) -> Optional[str]:
    """The value after `option` in a command line (nginx rewrites its title into one word list: split it)."""
    words = " ".join(argv).split()
    return next((words[index + 1] for index, word in enumerate(words[:-1]) if word == option), None)


def running_master(names: Iterable[str], pid_file: Optional[str] = None, config_option: str = "-c",
                   config_file: Optional[str] = None, default_config: Optional[str] = None,
                   proc: str = PROC) -> Optional[Dict[str, Any]]:
    """The master of one server instance: the live process its pid file names, else the master whose command
    line names `config_file` (or names none where `config_file` is the default). None when none runs."""
    live = live_processes(names, proc)
    by_pid = {entry["pid"]: entry for entry in live}
    for pid in _pids_in(pid_file):
        if pid in by_pid:
            return by_pid[pid]
    for entry in masters(live):
        named = _option(entry["argv"], config_option)
        if named == config_file or (named is None and config_file in (None, default_config)):
            return entry
    return None


def start_facts(master: Optional[Dict[str, Any]], system_instance: bool, init_script: str) -> Optional[Dict[str, Any]]:
    """What the reload decision needs of a master: pid, systemd unit, who started it (None: none runs)."""
    if master is None:
        return None
    return {"pid": master["pid"], "systemd_unit": master["systemd_unit"],
            "started_by": started_by(master, system_instance, init_script)}


def programs_from_proc() -> Optional[List[str]]:
    """The names of the running processes, or None when /proc lists none."""
    try:
        pids = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    except OSError:
        return None
    names = []
    for pid in pids:
        try:
            with open("/proc/%s/comm" % pid, encoding="utf-8", errors="replace") as handle:
                names.append(handle.read().strip())
        except OSError:  # gone meanwhile, or hidden from this user
            continue
    return names or None


def programs_from_ps(module: AnsibleModule, remedy: str) -> List[str]:
    ps = module.get_bin_path("ps")
    if ps is None:
        module.fail_json(msg=PS_FAILED % ("ps is not installed", remedy))
    rc, out, err = module.run_command([ps, "-e", "-o", "comm="])
    if rc != 0:
        module.fail_json(msg=PS_FAILED % ("`ps -e -o comm=` exited with %d: %s" % (rc, err.strip()), remedy))
    return [os.path.basename(line.strip()) for line in out.splitlines()]


def running_servers(module: AnsibleModule, remedy: str) -> Tuple[List[str], List[str]]:
    """(server kinds, the process names that made them), both sorted; `remedy` ends the message of a failure."""
    running = programs_from_proc()
    if running is None:
        running = programs_from_ps(module, remedy)
    found = sorted(set(running) & set(SERVER_KINDS))
    return sorted({SERVER_KINDS[name] for name in found}), found
