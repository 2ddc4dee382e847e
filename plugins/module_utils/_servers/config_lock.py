# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lock on one server's configuration across runs that overlap (two operators, a schedule and a manual run).

A server role holds it from configure to check: each step is its own module run, so the lock is a file
created exclusively, holding a token the holder gives back to release it, and a time after which it is
stale (a run that died never releases). Waiting is bounded.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import uuid
from typing import Any, Callable, Dict, Iterator, Optional

LOCK_DIR = "/run/lock/tlsops-ocsp"


class LockTimeout(Exception):
    """Another run held the lock for the whole wait; the message names the file and the holder."""


def lock_path(directory: str, name: str) -> str:
    """The lock file of `name` (a server kind and its configuration, made safe for a file name)."""
    safe = "".join(char if char.isalnum() or char in "-_." else "_" for char in name.strip("/"))
    return os.path.join(directory, "%s.lock" % safe)


def read_holder(path: str) -> Optional[Dict[str, Any]]:
    """The holder recorded in the lock file, or None when there is no lock (or it is unreadable: stale)."""
    try:
        with open(path, encoding="utf-8") as handle:
            holder = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"token": "", "expires": 0, "holder": "unreadable lock file"}
    return holder if isinstance(holder, dict) else {"token": "", "expires": 0, "holder": "unreadable lock file"}


def _create(path: str, record: Dict[str, Any]) -> bool:
    """Create the lock file holding `record`; False when it exists already."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
    return True


@contextlib.contextmanager
def _guarded(path: str) -> Iterator[None]:
    """Only one process at a time looks for a stale lock and takes it: two could otherwise both remove the
    stale file, the second one removing the lock the first had just taken."""
    with open(path + ".guard", "a", encoding="utf-8") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        yield


def _take(path: str, record: Dict[str, Any]) -> bool:
    """Create the lock, after removing a stale one; False when a live lock exists."""
    with _guarded(path):
        holder = read_holder(path)
        if holder is not None and float(holder.get("expires", 0)) < record["taken"]:
            os.unlink(path)
        return _create(path, record)


def acquire(path: str, holder: str, hold: float, wait: float, poll: float = 0.5,
            clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep) -> Dict[str, Any]:
    """Take the lock for at most `hold` seconds, waiting at most `wait`; returns the record (its `token` releases
    it) with `waited` seconds. Raises LockTimeout naming the file and who holds it."""
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    started = clock()
    while True:
        now = clock()
        record = {"token": uuid.uuid4().hex, "holder": holder, "taken": now, "expires": now + hold}
        if _take(path, record):
            return dict(record, waited=round(now - started, 3))
        if now - started >= wait:
            current = read_holder(path) or {}
            raise LockTimeout(
                "another run (%s) holds the lock %s on this server's configuration and did not release it within "
                "%d seconds; let that run finish and run again, or, when no run is active, remove the file"
                % (current.get("holder", "unknown"), path, wait))
        sleep(poll)


def release(path: str, token: str) -> bool:
    """Remove the lock when `token` holds it; False when it was not held by this token (expired and taken)."""
    with _guarded(path):
        holder = read_holder(path)
        if holder is None or holder.get("token") != token:
            return False
        os.unlink(path)
        return True
