# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two enable runs started at once on one host (an AWX schedule overlapping a manual run) take turns on the
server's configuration: both succeed, the staples are good, and a third run changes nothing."""
from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.lab import role_vars
from tests.support.role_checks import by_leaf, endpoint_facts

HERE = Path(__file__).resolve().parent
PLAYBOOKS = {kind: HERE / kind / "enable.yml" for kind in ("nginx", "apache", "haproxy")}


@pytest.mark.parametrize("server", ["nginx", "apache", "haproxy"])
def test_two_runs_at_once_both_succeed_and_a_third_changes_nothing(lab_factory, run_playbook, server):  # noqa: F811
    lab = lab_factory(components=("responder", server), revoke_initially=False)
    state = lab.state()
    # HAProxy's refresher runs with the Python that runs the modules here (it has cryptography)
    extra = {"haproxy_stapling_refresher_python": sys.executable} if server == "haproxy" else {}
    variables = getattr(role_vars, server)(state, **extra)
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _index: run_playbook(PLAYBOOKS[server], variables), range(2)))
    for run in runs:
        assert run.returncode == 0, run.failure_messages()
        facts = endpoint_facts(run, f"{server}_stapling")
        assert by_leaf(state, facts, "must_staple")["verdict"] == "good"
    # one of them configured the server; the other waited for the lock and found nothing to change
    assert sorted(run.changed() > 0 for run in runs) == [False, True]
    waited = [result["waited"] for run in runs for result in run.results("Take the lock")]
    assert len(waited) == 2 and max(waited) > 0

    third = run_playbook(PLAYBOOKS[server], variables)
    assert third.returncode == 0 and third.changed() == 0, third.failure_messages()
