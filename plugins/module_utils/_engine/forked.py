# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One function over shares of a long list, in forked processes, so that CPU-bound work (TLS handshakes, one
event loop per process) uses every core of the machine.

Each share runs in a child made with os.fork (Linux; elsewhere, and for short lists, everything runs here);
the child sends its results back pickled through a pipe and leaves with os._exit, so nothing of the parent
(atexit handlers, an AnsiballZ temporary directory) runs twice. Results come back in the list's order.
"""
from __future__ import annotations

import os
import pickle
import sys
import traceback
from typing import Callable, List, Sequence, Tuple, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# below this many items per process, a fork costs more than it saves
MIN_SHARE = 250
MAX_PROCESSES = 8


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's or a taskset's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def process_count(items: int, cpus: int) -> int:
    """How many processes share `items`: one per usable CPU, none with fewer than MIN_SHARE items."""
    if not hasattr(os, "fork") or not sys.platform.startswith("linux"):
        return 1
    return max(1, min(cpus, MAX_PROCESSES, items // MIN_SHARE))


def spread(function: Callable[[List[T]], List[R]], items: Sequence[T], processes: int) -> List[R]:
    """function(share) for consecutive shares of `items` in `processes` forked children; the results joined in
    order. `function` returns one result per item, each one picklable. A child's exception is raised here."""
    if processes <= 1:
        return function(list(items))
    size = -(-len(items) // processes)
    shares = [list(items[start:start + size]) for start in range(0, len(items), size)]
    children = [_fork(function, share) for share in shares]
    results: List[R] = []
    for pid, reader in children:
        results.extend(_collect(pid, reader))
    return results


def _fork(function: Callable[[List[T]], List[R]], share: List[T]) -> Tuple[int, int]:
    reader, writer = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(reader)
        status = 0
        try:
            payload = pickle.dumps(("ok", function(share)), protocol=pickle.HIGHEST_PROTOCOL)
        except BaseException:  # pylint: disable=broad-except  # whatever it was, the parent raises it
            payload, status = pickle.dumps(("error", traceback.format_exc())), 1
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(payload)
        os._exit(status)  # pylint: disable=protected-access
    os.close(writer)
    return pid, reader


def _collect(pid: int, reader: int) -> List[R]:
    with os.fdopen(reader, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    if not payload:
        raise RuntimeError("a worker process (pid %d) ended without a result" % pid)
    kind, value = pickle.loads(payload)
    if kind != "ok":
        raise RuntimeError("a worker process failed:\n%s" % value)
    return value
