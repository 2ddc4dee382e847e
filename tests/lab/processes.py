# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Background processes, pid files and ports for the lab.

PID 1 on these machines does not reap orphans, so a stopped daemon may linger
as a zombie: every liveness check here treats a zombie as gone. A pid file may
outlive its process and the pid be reused by someone else's: a pid counts as
the lab's only when its command line carries the component's marker (words
naming this lab's files or ports), so the lab never signals a stranger.
"""
from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

HOST = "127.0.0.1"


class LabError(RuntimeError):
    """A lab command failed; the message says what and what to do."""


class PortTaken(LabError):
    """A port of the lab is already in use by another process."""


def pid_alive(pid: int) -> bool:
    """True while `pid` runs (zombies and dead processes are not alive)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def read_pid_file(path: Path) -> Optional[int]:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def command_line(pid: int) -> str:
    """The process's arguments joined by spaces ("" when it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return ""
    return " ".join(raw.replace(b"\0", b" ").decode(errors="replace").split())


def belongs_to(pid: int, directory: Path) -> bool:
    """True when the process names `directory` in its arguments or works inside it."""
    inside = f"{directory}/"
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        cwd = ""
    return inside in command_line(pid) or f"{cwd}/".startswith(inside)


def running_pid(pid_file: Path, marker: str) -> Optional[int]:
    """The pid in `pid_file` when that process is alive and its command line has the words of `marker`."""
    pid = read_pid_file(pid_file)
    if pid is None or not pid_alive(pid):
        return None
    return pid if f" {' '.join(marker.split())} " in f" {command_line(pid)} " else None


def section_pid(section: Mapping[str, Any], prefix: str = "") -> Optional[int]:
    """running_pid of a lab.json section's `<prefix>pid_file` and `<prefix>process_marker`."""
    return running_pid(Path(section[f"{prefix}pid_file"]), section[f"{prefix}process_marker"])


def log_tail(path: str, size: int = 1500) -> str:
    """The end of a log file, for error messages."""
    try:
        return Path(path).read_text(errors="replace")[-size:].strip()
    except FileNotFoundError:
        return "(no log yet)"


def children(pid: int) -> list[int]:
    """Live processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def process_status(section: Mapping[str, Any]) -> dict[str, Any]:
    """running, pid, workers (live children) and port of a lab component with a `pid_file`."""
    pid = section_pid(section)
    return {"running": pid is not None, "pid": pid, "workers": children(pid) if pid else [],
            "port": section["port"]}


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _reap(pid: int) -> None:
    """Collect `pid` when it is our own child, so it does not stay a zombie."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def terminate(pid: int, timeout: float = 5.0, graceful: bool = True) -> None:
    """SIGTERM (unless not `graceful`), then SIGKILL after `timeout`; return once the process is gone."""
    for sig in (signal.SIGTERM, signal.SIGKILL) if graceful else (signal.SIGKILL,):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        if wait_until(lambda: (_reap(pid), not pid_alive(pid))[1], timeout):
            return
    raise LabError(f"process {pid} survived SIGKILL")


def spawn_detached(argv: Sequence[str], log_file: Path, cwd: Path) -> int:
    """Start `argv` in the background, detached from us, output appended to `log_file`.

    A shell starts it and exits at once, so the daemon is reparented and never
    becomes our zombie; the shell prints the daemon's pid.
    """
    launcher = 'log=$1; shift; "$@" </dev/null >>"$log" 2>&1 & echo $!'
    completed = subprocess.run(
        ["/bin/sh", "-c", launcher, "sh", str(log_file), *argv],
        cwd=cwd, capture_output=True, text=True, check=False, start_new_session=True,
    )
    if completed.returncode != 0:
        raise LabError(f"could not start {argv[0]}: {completed.stderr.strip()}")
    return int(completed.stdout.strip())


def run(argv: Sequence[str], what: str, env: Optional[Mapping[str, str]] = None,
        timeout: float = 60.0) -> subprocess.CompletedProcess:
    """Run a command to completion; a failure raises LabError with its output."""
    full_env = dict(os.environ, **(env or {}))
    try:
        completed = subprocess.run(list(argv), env=full_env, capture_output=True, text=True,
                                   timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise LabError(f"{what} failed: {error}") from error
    if completed.returncode != 0:
        output = (completed.stderr + completed.stdout).strip()
        raise LabError(f"{what} failed (exit {completed.returncode}): {output}\n  command: {' '.join(argv)}")
    return completed


def port_taken(port: int) -> bool:
    """True when something listens on `port` of 127.0.0.1 (or of every address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def ensure_port_free(port: int, user: str) -> None:
    if port_taken(port):
        raise PortTaken(f"port {port} of {user} is taken by another process; "
                        f"stop it or re-init the lab with another --base-port")
