# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's execution environment (EE): built with ansible-builder on a Debian 12 base made here, cached.

No image registry is reachable, so the base image is imported from a
debootstrapped root (tests/fleet/rootfs.py: python3, pip, the SSH client,
this machine's CA bundle), tagged by that root's recipe hash. ansible-builder
then builds tests/ee/execution-environment.yml with the collection tarball of
this checkout; the EE's tag is a hash of everything that goes into it (the
base, the definition, every file of the collection as its FILES.json lists
it, the builder's pins), so an unchanged checkout reuses the image and a
changed one builds anew. podman runs with tests/ee/containers.conf.

    .venv-ee/bin/python -m tests.ee.build     # prints the EE's tag; builds it when missing
"""
from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from tests.fleet import rootfs

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]
DEFINITION = HERE / "execution-environment.yml"
CONTAINERS_CONF = HERE / "containers.conf"
TOOLS_REQUIREMENTS = CHECKOUT / "tests" / "requirements-ee.txt"
# ansible-builder, ansible-navigator and an ansible-galaxy of their own (make venv-ee)
TOOLS = CHECKOUT / ".venv-ee" / "bin"
WORK = CHECKOUT / "tests" / "output" / "ee"
IMAGE = "localhost/tlsops-ocsp-ee"
BASE_IMAGE = "localhost/tlsops-ocsp-ee-base"
BASE_RECIPE = rootfs.Recipe(
    "ee-base", "bookworm", ("python3", "python3-pip", "openssh-client", "ca-certificates", "openssl"),
    HERE / "base-setup.sh",
    copied_in=((Path("/etc/ssl/certs/ca-certificates.crt"), "/usr/local/share/ca-certificates/controller-trust.crt"),))


class EEError(RuntimeError):
    """The EE could not be built; the message says which step, where its log is and what to do."""


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def podman(*argv: str) -> str:
    """What `podman argv` prints; an error names the command and what podman said."""
    completed = subprocess.run(["podman", *argv], env=podman_env(), capture_output=True, text=True, check=False)
    if completed.returncode:
        raise EEError(f"execution environment: podman {' '.join(argv)} failed (exit {completed.returncode}): "
                      f"{completed.stderr.strip()}")
    return completed.stdout


def image_exists(tag: str) -> bool:
    return subprocess.run(["podman", "image", "exists", tag], env=podman_env(), check=False).returncode == 0


def run_step(argv: list[str], step: str, log: Path, **options: Any) -> None:
    """A step of the build, its output in the build's log, with podman configured as here."""
    rootfs.run_logged(argv, f"execution environment: {step}", log, EEError, env=podman_env(), **options)


def ensure_base(log: Path) -> str:
    """The base image, imported from its cached root when podman does not have it yet."""
    root = rootfs.ensure_recipe(BASE_RECIPE)
    tag = f"{BASE_IMAGE}:{root.name.removeprefix(BASE_RECIPE.name + '-')}"
    if not image_exists(tag):
        with subprocess.Popen(["tar", "-C", str(root), "--numeric-owner", "-c", "."], stdout=subprocess.PIPE) as tar:
            run_step(["podman", "import", "--change", "CMD=/bin/bash", "-", tag], f"podman import of {root}", log,
                     stdin=tar.stdout)
    return tag


def collection_tarball(work: Path, log: Path) -> Path:
    """This checkout as `ansible-galaxy collection build` makes it, at the fixed name the definition installs."""
    built = work / "built"
    shutil.rmtree(built, ignore_errors=True)
    run_step([str(TOOLS / "ansible-galaxy"), "collection", "build", "--output-path", str(built), str(CHECKOUT)],
             "ansible-galaxy collection build", log)
    [tarball] = built.glob("tlsops-ocsp-*.tar.gz")
    return tarball.rename(work / "tlsops-ocsp.tar.gz")


def collection_digest(tarball: Path) -> bytes:
    """The collection's content: MANIFEST.json and FILES.json (a checksum per file); the tarball's dates are not."""
    with tarfile.open(tarball) as archive:
        return b"".join(archive.extractfile(name).read() for name in ("MANIFEST.json", "FILES.json"))


def image_tag(base: str, tarball: Path) -> str:
    digest = hashlib.sha256()
    for part in (base.encode(), DEFINITION.read_bytes(), TOOLS_REQUIREMENTS.read_bytes(), collection_digest(tarball)):
        digest.update(hashlib.sha256(part).digest())
    return f"{IMAGE}:{digest.hexdigest()[:16]}"


def build_image(tag: str, base: str, work: Path, log: Path) -> None:
    shutil.copy(DEFINITION, work / DEFINITION.name)
    run_step([str(TOOLS / "ansible-builder"), "build", "--container-runtime", "podman", "--tag", tag,
              "--file", str(work / DEFINITION.name), "--context", str(work / "context"),
              "--build-arg", f"EE_BASE_IMAGE={base}", "--extra-build-cli-args=--network=host", "--verbosity", "2",
              # the build stages' images, untagged and 1.1 GB a build (podman image prune)
              "--prune-images"],
             "ansible-builder build", log)


def remove_older_images(keep: str) -> None:
    """Earlier builds of the EE (another checkout's state): one image of about 850 MB each."""
    older = {tag for image in json.loads(podman("images", "--format", "json", IMAGE) or "[]")
             for tag in image.get("Names") or [] if tag.startswith(IMAGE + ":")} - {keep}
    if older:
        podman("rmi", *sorted(older))


def ensure(verbose: bool = True) -> str:
    """The EE's tag for this checkout, built first when podman does not have it (about 2.5 minutes cold)."""
    if not (TOOLS / "ansible-builder").exists():
        raise EEError(f"execution environment: {TOOLS / 'ansible-builder'} is missing; run `make venv-ee`")
    if shutil.which("podman") is None:
        raise EEError("execution environment: podman is missing; run `make system-deps`")
    WORK.mkdir(parents=True, exist_ok=True)
    with (WORK / "build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        log = WORK / "build.log"
        log.write_text("")
        started = time.monotonic()
        base = ensure_base(log)
        tag = image_tag(base, collection_tarball(WORK, log))
        if image_exists(tag):
            say = f"execution environment: {tag} is built (checked in {time.monotonic() - started:.0f} s)"
        else:
            build_image(tag, base, WORK, log)
            remove_older_images(keep=tag)
            say = f"execution environment: built {tag} in {time.monotonic() - started:.0f} s (log {log})"
    if verbose:
        print(say, file=sys.stderr, flush=True)
    return tag


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    try:
        print(ensure())
    except (EEError, rootfs.RootfsError) as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
