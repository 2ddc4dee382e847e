# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""forked: a function over shares of a list in forked processes, results in order, failures raised here."""
from __future__ import annotations

import os
import sys

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import forked

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux only")


def pids_and_squares(share):
    return [(os.getpid(), item * item) for item in share]


def test_each_share_runs_in_a_child_and_the_results_keep_the_lists_order():
    results = forked.spread(pids_and_squares, list(range(10)), 3)

    assert [square for _pid, square in results] == [item * item for item in range(10)]
    pids = [pid for pid, _square in results]
    assert os.getpid() not in pids and len(set(pids)) == 3  # shares of 4, 4 and 2, one child each


def test_one_process_runs_here():
    assert {pid for pid, _square in forked.spread(pids_and_squares, [1, 2], 1)} == {os.getpid()}


def fails_on_three(share):
    if 3 in share:
        raise ValueError("three is not allowed")
    return share


def test_a_childs_exception_is_raised_here_with_its_traceback():
    with pytest.raises(RuntimeError, match="(?s)a worker process failed:.*ValueError: three is not allowed"):
        forked.spread(fails_on_three, [1, 2, 3, 4], 2)


@pytest.mark.parametrize("items, cpus, expected", [
    (100, 8, 1), (forked.MIN_SHARE * 2, 8, 2), (10000, 2, 2), (10000, 64, forked.MAX_PROCESSES), (10000, 1, 1)])
def test_one_process_per_cpu_and_none_with_a_small_share(items, cpus, expected):
    assert forked.process_count(items, cpus) == expected
