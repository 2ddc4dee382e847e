# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the unit suite: a test PKI and private `openssl s_server` processes stapling what a test says."""
from __future__ import annotations

from typing import Callable, Iterator, List, Optional, Sequence

import pytest

from tests.support.pki import Issued, SServer, TestPKI

SERVER_NAME = "www.example.test"

Serve = Callable[..., int]


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI()


@pytest.fixture(scope="module")
def leaf(pki: TestPKI) -> Issued:
    return pki.leaf(SERVER_NAME)


@pytest.fixture(scope="module")
def serve(tmp_path_factory, pki: TestPKI) -> Iterator[Serve]:
    """serve(leaf, status_der=None, chain=(intermediate,), protocol=None) -> port of a new s_server.

    Every server is stopped when the test module ends.
    """
    servers: List[SServer] = []

    def start(leaf: Issued, status_der: Optional[bytes] = None, chain: Optional[Sequence[Issued]] = None,
              protocol: Optional[str] = None) -> int:
        chain = [pki.intermediate] if chain is None else chain
        server = SServer(tmp_path_factory.mktemp("s_server"), 0, leaf, chain, status_der, protocol)
        servers.append(server)
        return server.start().port

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def good_port(serve: Serve, pki: TestPKI, leaf: Issued) -> int:
    return serve(leaf, pki.response(leaf.cert))
