# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One fleet host: the shared Debian root under its own overlay, booted with systemd as PID 1.

The host runs in its own PID, mount, UTS, IPC and cgroup namespaces (the
network is the machine's: every port is the host's own, on 127.0.0.1):

    unshare --cgroup --pid --fork --mount --uts --ipc --kill-child
      mount --make-rprivate /; overlay on DIR; proc on DIR/proc; --rbind /sys, /dev;
      a cgroup2 of its own on DIR/sys/fs/cgroup; tmpfs on DIR/run
      exec chroot DIR /lib/systemd/systemd --system

Every mount lives in the host's mount namespace, so it vanishes with the
host's last process. The cgroup namespace gives each systemd its own
hierarchy: two hosts' nginx.service never share a cgroup. unshare dies with
the process that booted it (PR_SET_PDEATHSIG) and takes systemd with it
(--kill-child), so even a killed test run leaves no host behind.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

CGROUP_V2 = Path("/sys/fs/cgroup/unified") if Path("/sys/fs/cgroup/unified/cgroup.procs").exists() \
    else Path("/sys/fs/cgroup")
CGROUP_PARENT = CGROUP_V2 / "tlsops-ocsp-fleet"
BOOT_SCRIPT = """set -e
mount --make-rprivate /
mount -t overlay overlay -o "lowerdir=$1,upperdir=$2,workdir=$3" "$4"
mount -t proc proc "$4/proc"
mount --rbind /sys "$4/sys"
mount -t cgroup2 cgroup2 "$4/sys/fs/cgroup"
mount --rbind /dev "$4/dev"
mount -t tmpfs -o mode=0755 tmpfs "$4/run"
hostname "$5"
exec chroot "$4" /lib/systemd/systemd --system --show-status=false --log-target=journal
"""
PR_SET_PDEATHSIG = 1
HOST = "127.0.0.1"
# what a unit says while systemd is still starting or reloading it
TRANSIENT_STATES = ("activating", "reloading")


class HostError(RuntimeError):
    """A fleet host did not come up or could not be reached; the message says which and why."""


@dataclass
class Host:
    """A host's name, ports and servers; `boot` writes its files into its overlay and starts it."""

    name: str
    directory: Path
    ssh_port: int
    # server kind -> its TLS port on 127.0.0.1 (nginx, apache)
    ports: dict[str, int]
    suite: str = "bookworm"  # the Debian release it boots (tests/fleet/rootfs.py)
    pid: int | None = None  # systemd, PID 1 of the host, as the machine sees it
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def upper(self) -> Path:
        return self.directory / "upper"

    @property
    def cgroup(self) -> Path:
        return CGROUP_PARENT / f"{self.name}-{os.getpid()}-{id(self)}"

    def path(self, inside: str) -> Path:
        """A path of the running host, seen from the machine (through /proc/PID/root)."""
        return Path(f"/proc/{self.pid}/root") / inside.lstrip("/")

    def write(self, inside: str, data: bytes | str, mode: int = 0o644) -> None:
        """A file in the host's overlay (before boot)."""
        target = self.upper / inside.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            handle.write(data.encode() if isinstance(data, str) else data)

    def symlink(self, inside: str, points_to: str) -> None:
        target = self.upper / inside.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        target.symlink_to(points_to)

    def enable(self, unit: str) -> None:
        """`systemctl enable` for a unit installed in multi-user.target, done in the overlay."""
        self.symlink(f"/etc/systemd/system/multi-user.target.wants/{unit}", f"/lib/systemd/system/{unit}")

    def boot(self, rootfs: Path) -> None:
        merged = self.directory / "root"
        for directory in (self.upper, self.directory / "work", merged):
            directory.mkdir(parents=True, exist_ok=True)
        self.cgroup.mkdir(parents=True, exist_ok=True)
        procs = str(self.cgroup / "cgroup.procs")
        log = (self.directory / "boot.log").open("wb")

        def in_own_cgroup() -> None:  # runs in the child before exec
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            with open(procs, "w", encoding="ascii") as handle:
                handle.write("0")

        argv = ["unshare", "--cgroup", "--pid", "--fork", "--mount", "--uts", "--ipc", "--kill-child",
                "/bin/sh", "-c", BOOT_SCRIPT, "boot", str(rootfs), str(self.upper), str(self.directory / "work"),
                str(merged), self.name]
        self._process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         preexec_fn=in_own_cgroup, env={"PATH": os.environ["PATH"],
                                                                        "container": "tlsops-fleet"})
        log.close()
        self.pid = self._wait_for_systemd()

    def _wait_for_systemd(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise HostError(f"fleet host {self.name}: boot failed (exit {self._process.returncode}): "
                                f"{(self.directory / 'boot.log').read_text(errors='replace')[-2000:]}")
            children = Path(f"/proc/{self._process.pid}/task/{self._process.pid}/children").read_text().split()
            if children and Path(f"/proc/{children[0]}/exe").exists() and \
                    os.readlink(f"/proc/{children[0]}/exe").endswith("systemd"):
                return int(children[0])
            time.sleep(0.05)
        raise HostError(f"fleet host {self.name}: systemd did not start within {timeout:.0f} s "
                        f"(see {self.directory / 'boot.log'})")

    def nsenter(self, *argv: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a command inside the host (its namespaces and root), e.g. systemctl."""
        command = ["nsenter", "-t", str(self.pid), "-p", "-m", "-u", "-i", "-C", "-r", "-w", *argv]
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if check and completed.returncode:
            raise HostError(f"fleet host {self.name}: {' '.join(argv)} exited {completed.returncode}: "
                            f"{completed.stdout[-1000:]}{completed.stderr[-1000:]}")
        return completed

    def systemctl(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.nsenter("systemctl", *argv, check=check)

    def wait_until_up(self, units: Sequence[str], timeout: float = 120) -> None:
        """Until sshd answers and every unit in `units` is active (the boot finished)."""
        deadline = time.monotonic() + timeout
        while not ssh_answers(self.ssh_port):
            if time.monotonic() > deadline:
                raise HostError(f"fleet host {self.name}: sshd on {HOST}:{self.ssh_port} did not answer within "
                                f"{timeout:.0f} s; {self.diagnosis()}")
            time.sleep(0.2)
        for unit in units:
            # `is-active --wait` can still answer "activating" on a busy machine: ask again until the deadline
            state = self.systemctl("is-active", "--wait", unit, check=False).stdout.strip()
            while state in TRANSIENT_STATES and time.monotonic() < deadline:
                time.sleep(0.2)
                state = self.systemctl("is-active", unit, check=False).stdout.strip()
            if state != "active":
                raise HostError(f"fleet host {self.name}: {unit} is {state or 'unknown'}; {self.diagnosis()}")

    def diagnosis(self) -> str:
        failed = self.systemctl("list-units", "--failed", "--no-legend", "--plain", check=False).stdout
        journal = self.nsenter("journalctl", "-b", "-n", "30", "--no-pager", check=False).stdout
        return f"failed units: {failed.strip() or 'none'}; journal:\n{journal}"

    def main_pid(self, unit: str) -> int:
        """The unit's MainPID as the host sees it (0 when not running)."""
        return int(self.systemctl("show", "-p", "MainPID", "--value", unit).stdout.strip() or 0)

    def stop(self) -> None:
        """Kill the host (every process in its PID namespace dies with its PID 1) and remove its files."""
        if self._process is not None:
            if self.pid is not None:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if self._process.poll() is None:
                self._process.kill()
            self._process.wait()
            self._process = None
        remove_cgroup(self.cgroup)
        shutil.rmtree(self.directory, ignore_errors=True)


def remove_cgroup(cgroup: Path, timeout: float = 10) -> bool:
    """Remove a cgroup and the ones its systemd made below it, deepest first; False if still busy at `timeout`."""
    deadline = time.monotonic() + timeout
    while cgroup.exists():
        for directory in sorted((path for path in cgroup.rglob("*") if path.is_dir()), key=lambda path: -len(path.parts)):
            try:
                directory.rmdir()
            except OSError:
                pass
        try:
            cgroup.rmdir()
        except OSError:  # busy until the host's last process has gone
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
    return True


def ssh_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as connection:
            return connection.recv(8).startswith(b"SSH-")
    except OSError:
        return False
