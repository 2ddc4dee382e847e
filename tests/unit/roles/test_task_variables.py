# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No role registers or set_facts a name that a task or block also sets with `vars:`.

Facts outrank task variables: when a role is included twice in one play, a
`vars:` value of the second inclusion would silently read the first
inclusion's fact of the same name.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterable, Set

import pytest
import yaml

ROLES = sorted(path for path in (Path(__file__).resolve().parents[3] / "roles").iterdir() if path.is_dir())


def _tasks(entries: Iterable[Any]) -> Iterable[Dict[str, Any]]:
    for entry in entries or ():
        if isinstance(entry, dict):
            yield entry
            for section in ("block", "rescue", "always"):
                yield from _tasks(entry.get(section))


def _names(role: Path) -> tuple[Set[str], Set[str]]:
    task_vars: Set[str] = set()
    facts: Set[str] = set()
    for path in sorted((role / "tasks").glob("*.yml")) + sorted((role / "handlers").glob("*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text())):
            task_vars.update(task.get("vars") or {})
            if "register" in task:
                facts.add(task["register"])
            facts.update(task.get("ansible.builtin.set_fact") or {})
    return task_vars, facts


@pytest.mark.parametrize("role", ROLES, ids=[role.name for role in ROLES])
def test_no_fact_shares_a_task_variable_name(role: Path) -> None:
    task_vars, facts = _names(role)
    assert task_vars, f"{role.name}: no task variables read; the walker is broken"
    assert not task_vars & facts
