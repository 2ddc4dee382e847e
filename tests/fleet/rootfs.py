# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Debian root filesystems built once with debootstrap and cached outside the checkout: the fleet's (12 and 13).

A root is made from a Recipe: the suite, what debootstrap includes, the
script that finishes it in a chroot (and its arguments), and files of this
machine copied in before the script runs. The cache lives in CACHE_DIR
(default /var/cache/tlsops-ocsp-fleet, or $TLSOPS_FLEET_CACHE), one directory
per recipe: `<name>-<hash>`, where the hash covers all of the recipe. A
changed recipe builds a new root; an unchanged one is reused by every later
run, checkout and CI job on the machine. Builders take an exclusive lock and
build into a temporary directory that is renamed into place only when
complete, so concurrent builders never see half a root. The execution
environment's base (tests/ee) is such a root too.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class Recipe:
    """Everything a root depends on; its hash names the cache entry."""
    name: str  # the cache entry's prefix
    suite: str
    include: tuple[str, ...]  # debootstrap --include
    setup_script: Path  # runs in the chroot after debootstrap, with setup_args
    setup_args: tuple[str, ...] = ()
    copied_in: tuple[tuple[Path, str], ...] = ()  # (file of this machine, where it goes in the root) before the script

    def key(self) -> bytes:
        parts = [self.suite, "minbase", ",".join(self.include), " ".join(self.setup_args),
                 self.setup_script.read_text(), *(source.read_text() + inside for source, inside in self.copied_in)]
        return "\n".join(parts).encode()

    def path(self) -> Path:
        return CACHE_DIR / f"{self.name}-{hashlib.sha256(self.key()).hexdigest()[:16]}"


def fleet_recipe(suite: str = DEFAULT_SUITE) -> Recipe:
    return Recipe("rootfs", suite, BASE_PACKAGES, SETUP_SCRIPT, SERVER_PACKAGES)


def rootfs_path(suite: str = DEFAULT_SUITE) -> Path:
    return fleet_recipe(suite).path()


def run_logged(argv: list[str], step: str, log: Path, error: type[Exception] = RootfsError, **options: Any) -> None:
    """Run `argv` with its output appended to `log` (stdin empty unless `options` give one); a failure raises
    `error` naming the step, the exit code and the log, with the log's end."""
    with log.open("a") as output:
        output.write(f"\n$ {' '.join(argv)}\n")
        output.flush()
        completed = subprocess.run(argv, stdout=output, stderr=subprocess.STDOUT,
                                   **{"stdin": subprocess.DEVNULL, **options}, check=False)
    if completed.returncode:
        tail = log.read_text(errors="replace")[-3000:]
        raise error(f"{step} failed (exit {completed.returncode}); log {log}:\n{tail}")


def _chroot_setup(recipe: Recipe, target: Path, log: Path) -> None:
    """Run the recipe's script in the new root with proc, sys and devpts mounted (unmounted again after)."""
    for source, inside in recipe.copied_in:
        shutil.copy(source, target / inside.lstrip("/"))
    shutil.copy(recipe.setup_script, target / "tmp" / "setup.sh")
    mounted: list[Path] = []
    try:
        for fstype, where, source in CHROOT_MOUNTS:
            point = target / where
            point.mkdir(parents=True, exist_ok=True)
            run_logged(["mount", "-t", fstype, source, str(point)], f"root filesystem: mount {where}", log)
            mounted.append(point)
        shutil.copy("/etc/resolv.conf", target / "etc" / "resolv.conf")
        run_logged(["chroot", str(target), "/bin/sh", "/tmp/setup.sh", *recipe.setup_args],
                   f"root filesystem: finishing the root ({recipe.setup_script.relative_to(SETUP_SCRIPT.parents[2])})",
                   log)
    finally:
        for point in reversed(mounted):
            subprocess.run(["umount", "-l", str(point)], check=False)
        (target / "tmp" / "setup.sh").unlink(missing_ok=True)


def mounts_under(directory: Path) -> list[str]:
    return [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()
            if line.split()[1].startswith(f"{directory}/")]


def build(recipe: Recipe, target: Path, log: Path) -> None:
    if shutil.which("debootstrap") is None:
        raise RootfsError("root filesystem: debootstrap is missing; run `make system-deps` "
                          "(tests/setup/system-deps.sh installs it)")
    run_logged(["debootstrap", "--variant=minbase", f"--include={','.join(recipe.include)}", recipe.suite,
                str(target), MIRROR], f"root filesystem: debootstrap {recipe.suite} from {MIRROR}", log)
    _chroot_setup(recipe, target, log)


def ensure(suite: str = DEFAULT_SUITE, verbose: bool = True) -> Path:
    """The cached fleet root of `suite` for the current recipe, built first when missing (about 5 minutes)."""
    return ensure_recipe(fleet_recipe(suite), verbose)


def ensure_recipe(recipe: Recipe, verbose: bool = True) -> Path:
    """The cached root of `recipe`, built first when missing."""
    final = recipe.path()
    if final.is_dir():
        return final
    if os.geteuid() != 0:
        raise RootfsError("root filesystem: building it needs root (debootstrap, chroot, mount)")
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
            print(f"building the Debian {recipe.suite} root {final} (once; log {log})", file=sys.stderr,
                  flush=True)
        started = time.monotonic()
        try:
            build(recipe, work, log)
        except BaseException:
            if not mounts_under(work):  # never walk into a mounted /proc or /dev
                shutil.rmtree(work, ignore_errors=True)
            raise
        work.rename(final)
        if verbose:
            print(f"root built in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
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
