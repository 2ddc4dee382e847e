# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet's Debian root filesystems (12 and 13): each built once with debootstrap, cached outside the checkout.

The cache lives in CACHE_DIR (default /var/cache/tlsops-ocsp-fleet, or
$TLSOPS_FLEET_CACHE), one directory per recipe: `rootfs-<hash>`, where the
hash covers the suite, the debootstrap arguments, the web server packages and
rootfs-setup.sh. A changed recipe builds a new root; an unchanged one is
reused by every later run, checkout and CI job on the machine. Builders take
an exclusive lock and build into a temporary directory that is renamed into
place only when complete, so concurrent builders never see half a root.
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

CACHE_DIR = Path(os.environ.get("TLSOPS_FLEET_CACHE", "/var/cache/tlsops-ocsp-fleet"))
# Debian 12 and Debian 13: the releases users run; the first is the default host
SUITES = ("bookworm", "trixie")
DEFAULT_SUITE = SUITES[0]
MIRROR = os.environ.get("TLSOPS_FLEET_MIRROR", "http://deb.debian.org/debian")
BASE_PACKAGES = ("systemd", "systemd-sysv", "dbus", "openssh-server", "python3")
# apt in the chroot, which resolves virtual packages (debootstrap leaves python3-cryptography unconfigured:
# it needs python3-cffi-backend-api-*); procps: the stapling role lists running servers with `ps`;
# openssl: the manual way's s_client check
SERVER_PACKAGES = ("python3-cryptography", "python3-openssl", "nginx", "apache2", "haproxy", "procps", "openssl")
SETUP_SCRIPT = Path(__file__).resolve().parent / "rootfs-setup.sh"
# the chroot sees these while apt runs in it
CHROOT_MOUNTS = (("proc", "proc", "proc"), ("sysfs", "sys", "sysfs"), ("devpts", "dev/pts", "devpts"))


class RootfsError(RuntimeError):
    """The root filesystem could not be built; the message says which step and what to do."""


def recipe(suite: str = DEFAULT_SUITE) -> bytes:
    """Everything the root depends on; its hash names the cache entry."""
    parts = [suite, "minbase", ",".join(BASE_PACKAGES), " ".join(SERVER_PACKAGES),
             SETUP_SCRIPT.read_text()]
    return "\n".join(parts).encode()


def rootfs_path(suite: str = DEFAULT_SUITE) -> Path:
    return CACHE_DIR / f"rootfs-{hashlib.sha256(recipe(suite)).hexdigest()[:16]}"


def _run(argv: list[str], step: str, log: Path) -> None:
    with log.open("a") as output:
        output.write(f"\n$ {' '.join(argv)}\n")
        output.flush()
        completed = subprocess.run(argv, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   check=False)
    if completed.returncode:
        tail = log.read_text(errors="replace")[-3000:]
        raise RootfsError(f"fleet root filesystem: {step} failed (exit {completed.returncode}); "
                          f"log {log}:\n{tail}")


def _chroot_setup(target: Path, log: Path) -> None:
    """Run rootfs-setup.sh in the new root with proc, sys and devpts mounted (unmounted again after)."""
    shutil.copy(SETUP_SCRIPT, target / "tmp" / "rootfs-setup.sh")
    mounted: list[Path] = []
    try:
        for fstype, where, source in CHROOT_MOUNTS:
            point = target / where
            point.mkdir(parents=True, exist_ok=True)
            _run(["mount", "-t", fstype, source, str(point)], f"mount {where}", log)
            mounted.append(point)
        shutil.copy("/etc/resolv.conf", target / "etc" / "resolv.conf")
        _run(["chroot", str(target), "/bin/sh", "/tmp/rootfs-setup.sh", *SERVER_PACKAGES],
             "installing the web servers (tests/fleet/rootfs-setup.sh)", log)
    finally:
        for point in reversed(mounted):
            subprocess.run(["umount", "-l", str(point)], check=False)
        (target / "tmp" / "rootfs-setup.sh").unlink(missing_ok=True)


def mounts_under(directory: Path) -> list[str]:
    return [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
            if line.split()[1].startswith(f"{directory}/")]


def build(suite: str, target: Path, log: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise RootfsError("fleet root filesystem: debootstrap is missing; run `make system-deps` "
                          "(tests/setup/system-deps.sh installs it)")
    _run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", suite, str(target), MIRROR],
         f"debootstrap {suite} from {MIRROR}", log)
    _chroot_setup(target, log)


def ensure(suite: str = DEFAULT_SUITE, verbose: bool = True) -> Path:
    """The cached root of `suite` for the current recipe, built first when missing (about 5 minutes)."""
    final = rootfs_path(suite)
    if final.is_dir():
        return final
    if os.geteuid() != 0:
        raise RootfsError("fleet root filesystem: building it needs root (debootstrap, chroot, mount)")
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another builder finishes first; then the root is there
        if final.is_dir():
            return final
        work = CACHE_DIR / f"{final.name}.building"
        shutil.rmtree(work, ignore_errors=True)  # a builder that died left it; we hold the lock
        log = CACHE_DIR / f"{final.name}.log"
        log.write_text("")
        if verbose:
            print(f"fleet: building the Debian {suite} root in {final} (once; log {log})", file=sys.stderr,
                  flush=True)
        started = time.monotonic()
        try:
            build(suite, work, log)
        except BaseException:
            if not mounts_under(work):  # never walk into a mounted /proc or /dev
                shutil.rmtree(work, ignore_errors=True)
            raise
        work.rename(final)
        if verbose:
            print(f"fleet: root built in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return final


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("build", "path"),
                        help="build: make sure the root for this recipe exists; path: print where it is")
    parser.add_argument("--suite", choices=SUITES, default=DEFAULT_SUITE, help="the Debian release (default: %(default)s)")
    arguments = parser.parse_args()
    try:
        print(ensure(arguments.suite) if arguments.command == "build" else rootfs_path(arguments.suite))
    except RootfsError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
