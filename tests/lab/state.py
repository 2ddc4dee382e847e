# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a lab lives: its directory, its port map and its state file, DIR/lab.json."""
from __future__ import annotations

import fcntl
import json
import os
import random
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from tests.lab.processes import LabError, belongs_to, children, pid_alive, port_taken, read_pid_file, terminate

DEFAULT_DIR = Path("/tmp/tlsops-lab")
STATE_FILE = "lab.json"
STATE_VERSION = 4
# Every port is base port + offset; a lab owns PORT_BLOCK ports (the rest are reserved).
PORT_OFFSETS = {"responder": 0, "nginx": 1, "apache": 2, "openssl_ocsp": 3}
PORT_BLOCK = 10
# Default base ports lie below Linux's ephemeral range (32768-60999).
DEFAULT_PORT_FIRST = 20000
DEFAULT_PORT_BLOCKS = 1200


def ports(base_port: int) -> dict[str, int]:
    return {component: base_port + offset for component, offset in PORT_OFFSETS.items()}


def default_base_port(directory: Path) -> int:
    """A base port derived from the lab directory, so labs in different directories differ."""
    digest = zlib.crc32(str(directory.resolve()).encode())
    return DEFAULT_PORT_FIRST + PORT_BLOCK * (digest % DEFAULT_PORT_BLOCKS)


def block_is_free(base_port: int) -> bool:
    return not any(port_taken(base_port + offset) for offset in range(PORT_BLOCK))


def free_base_port() -> int:
    """A block of PORT_BLOCK ports where nothing listens, searched from a random block.

    The random start keeps test sessions that run at the same time apart.
    """
    first = random.randrange(DEFAULT_PORT_BLOCKS)
    for block in range(first, first + DEFAULT_PORT_BLOCKS):
        base_port = DEFAULT_PORT_FIRST + PORT_BLOCK * (block % DEFAULT_PORT_BLOCKS)
        if block_is_free(base_port):
            return base_port
    raise LabError(f"no free block of {PORT_BLOCK} ports from {DEFAULT_PORT_FIRST} on")


def state_path(directory: Path) -> Path:
    return directory / STATE_FILE


def load(directory: Path) -> dict[str, Any]:
    path = state_path(directory)
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        raise LabError(f"no lab in {directory}: {path} is missing; run `lab.py init --dir {directory}`") from None
    except json.JSONDecodeError as error:
        raise LabError(f"{path} is not valid JSON ({error}); run `lab.py init --force --dir {directory}`") from None
    if state.get("version") != STATE_VERSION:
        raise LabError(f"{path} has state version {state.get('version')}, expected {STATE_VERSION}; "
                       f"run `lab.py init --force --dir {directory}`")
    return state


def stop_listed_processes(directory: Path) -> None:
    """Kill each process (and its children) that a pid file named in lab.json names, if it is the lab's.

    For `init --force` over a lab.json this version cannot read (older schema).
    """
    try:
        sections = json.loads(state_path(directory).read_text()).values()
    except (FileNotFoundError, json.JSONDecodeError, AttributeError):
        return
    pid_files = [value for section in sections if isinstance(section, dict)
                 for key, value in section.items() if key.endswith("pid_file")]
    for pid_file in pid_files:
        pid = read_pid_file(Path(pid_file))
        if pid is not None and pid_alive(pid) and belongs_to(pid, directory):
            for each in [pid, *children(pid)]:
                terminate(each, graceful=False)


def save(directory: Path, state: dict[str, Any]) -> None:
    """Replace lab.json atomically, so readers never see half a file (key order is kept: leaves in order)."""
    path = state_path(directory)
    partial = path.with_name(f".{STATE_FILE}.{os.getpid()}")
    partial.write_text(json.dumps(state, indent=2) + "\n")
    partial.replace(path)


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Serialise lab commands on one directory (tests and people may run them at once)."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
