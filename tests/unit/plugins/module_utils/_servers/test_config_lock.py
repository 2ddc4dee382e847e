# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""config_lock: one holder at a time, bounded waits, stale locks taken over, release only by the token."""
from __future__ import annotations

import multiprocessing
import time

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers import config_lock


class Clock:
    """A clock the test moves; sleeping moves it."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_lock_path_is_one_safe_file_name(tmp_path):
    assert config_lock.lock_path(str(tmp_path), "nginx-/etc/nginx/nginx.conf") == str(
        tmp_path / "nginx-_etc_nginx_nginx.conf.lock")


def test_second_taker_waits_then_times_out_naming_file_and_holder(tmp_path):
    path = config_lock.lock_path(str(tmp_path), "nginx")
    clock = Clock()
    first = config_lock.acquire(path, "web1 (run A)", hold=60, wait=0, clock=clock, sleep=clock.sleep)
    with pytest.raises(config_lock.LockTimeout, match=r"another run \(web1 \(run A\)\) holds the lock .*nginx.lock.* 5 "):
        config_lock.acquire(path, "web1 (run B)", hold=60, wait=5, clock=clock, sleep=clock.sleep)
    assert clock.now >= 1005.0
    assert config_lock.read_holder(path)["token"] == first["token"]


def test_release_needs_the_token_and_frees_the_lock(tmp_path):
    path = config_lock.lock_path(str(tmp_path), "apache")
    first = config_lock.acquire(path, "A", hold=60, wait=0)
    assert not config_lock.release(path, "not-the-token")
    assert config_lock.release(path, first["token"])
    second = config_lock.acquire(path, "B", hold=60, wait=0)
    assert second["token"] != first["token"] and second["waited"] == 0


def test_stale_lock_is_taken_over_and_its_late_release_is_refused(tmp_path):
    path = config_lock.lock_path(str(tmp_path), "haproxy")
    clock = Clock()
    dead = config_lock.acquire(path, "died", hold=10, wait=0, clock=clock, sleep=clock.sleep)
    clock.now += 11
    alive = config_lock.acquire(path, "alive", hold=10, wait=0, clock=clock, sleep=clock.sleep)
    assert not config_lock.release(path, dead["token"])
    assert config_lock.read_holder(path)["token"] == alive["token"]


def test_unreadable_lock_file_counts_as_stale(tmp_path):
    path = config_lock.lock_path(str(tmp_path), "nginx")
    (tmp_path / "nginx.lock").write_text("{not json")
    assert config_lock.acquire(path, "A", hold=10, wait=0)["holder"] == "A"


def _hold(path: str, queue: "multiprocessing.Queue[tuple]") -> None:
    record = config_lock.acquire(path, "worker", hold=30, wait=20, poll=0.01)
    start = time.time()
    time.sleep(0.05)
    end = time.time()
    config_lock.release(path, record["token"])
    queue.put((start, end))


def test_processes_that_overlap_hold_the_lock_one_after_the_other(tmp_path):
    path = config_lock.lock_path(str(tmp_path), "nginx")
    queue: "multiprocessing.Queue[tuple]" = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_hold, args=(path, queue)) for unused in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    spans = sorted(queue.get(timeout=5) for unused in workers)
    assert all(earlier[1] <= later[0] for earlier, later in zip(spans, spans[1:]))
    assert config_lock.read_holder(path) is None
