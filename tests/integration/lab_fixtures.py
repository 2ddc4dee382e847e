# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pytest fixtures that run the lab (tests/lab): PKI, OCSP responder, private nginx and apache2.

Use them from a test module with a direct import (the names are the fixtures)::

    from tests.integration.lab_fixtures import lab, lab_factory  # noqa: F401

`lab` is one started lab per test module (every component); `lab_factory`
makes fresh labs, e.g. one per test that edits server configurations::

    @pytest.fixture
    def fresh_lab(lab_factory):
        lab = lab_factory(components=("responder", "nginx"))
        yield lab
        lab.stop()                   # else it runs until the module ends

    def test_something(fresh_lab):
        state = fresh_lab.state()    # the lab.json document
        nginx = state["nginx"]       # binary, config_file, dropin_dir, reload_command, port...

Each lab lives in its own temporary directory on a free block of ports and is
stopped in the fixture's finalizer.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator, Sequence, Tuple

import pytest

from tests.lab import core

LabFactory = Callable[..., core.Lab]


@pytest.fixture(scope="module")
def lab_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabFactory]:
    """lab_factory(components=core.COMPONENTS, **init_options) -> a started core.Lab.

    init_options are those of core.Lab.init: revoke_initially, next_update_minutes,
    responder_workers. Every lab it made stops at the end of the test module; a
    test that is done with its lab earlier stops it (`lab.stop()`, e.g. after
    `yield` in its own fixture), so that labs do not pile up.
    """
    labs: list[core.Lab] = []

    def make(components: Sequence[str] = core.COMPONENTS, **init_options: Any) -> core.Lab:
        lab = core.Lab(tmp_path_factory.mktemp("lab"))
        labs.append(lab)  # stopped at the end even when starting fails half-way
        lab.rebuild_and_start(components, **init_options)
        return lab

    yield make
    for lab in labs:
        lab.stop()


@pytest.fixture(scope="module")
def lab(lab_factory: LabFactory) -> Iterator[core.Lab]:
    """A lab with every component started, shared by one test module, stopped after it."""
    started = lab_factory()
    yield started
    started.stop()


@pytest.fixture
def debian_nginx(lab_factory: LabFactory, tmp_path) -> Iterator[Tuple[core.Lab, Any]]:  # pylint: disable=redefined-outer-name
    """The lab's PKI and responder, and a private nginx in Debian's layout (tests/support/debian_nginx.py), not
    started: the test writes its sites first."""
    from tests.conftest import free_port
    from tests.support.debian_nginx import DebianNginx

    lab = lab_factory(components=("responder",), revoke_initially=False)
    nginx = DebianNginx(tmp_path / "nginx", free_port()).install()
    yield lab, nginx
    nginx.stop()
    lab.stop()
