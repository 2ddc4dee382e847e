# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The override a server-level line may carry when certificates' first OCSP URL is dead."""
from __future__ import annotations

from pathlib import Path
from typing import List

import pytest
from cryptography.x509 import ocsp as x509_ocsp

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import responder_choice
from tests.support import pki

DEAD = "http://dead.example.test/"
ALIVE = "http://alive.example.test/"
OTHER = "http://other-ca.example.test/"


@pytest.fixture(scope="module")
def ca() -> pki.TestPKI:
    return pki.TestPKI()


def served(tmp_path: Path, name: str, leaf: pki.Issued, ca: pki.TestPKI) -> str:
    path = tmp_path / name
    path.write_bytes(leaf.pem + ca.intermediate.pem)
    return str(path)


def responders(ca: pki.TestPKI, leaves: List[pki.Issued], asked: List[str]):
    """DEAD refuses connections; ALIVE and OTHER answer good for the leaves."""
    by_serial = {leaf.cert.serial_number: leaf for leaf in leaves}

    def fetch(url, body, headers, timeout):
        asked.append(url)
        if url == DEAD:
            raise ConnectionRefusedError("[Errno 111] Connection refused")
        request = x509_ocsp.load_der_ocsp_request(body)
        return 200, ca.response(by_serial[request.serial_number].cert)
    return fetch


def test_the_url_that_answers_when_the_first_is_dead(ca, tmp_path):
    leaf = ca.leaf(ocsp_urls=[DEAD, ALIVE])
    asked: List[str] = []
    found = responder_choice.override([served(tmp_path, "a.pem", leaf, ca)], responders(ca, [leaf], asked))
    assert found == {"url": ALIVE, "first": [DEAD], "certificates": [str(tmp_path / "a.pem")]}
    assert asked == [DEAD, ALIVE]


def test_one_url_or_a_first_that_answers_needs_nothing_and_one_url_costs_no_request(ca, tmp_path):
    single, fine = ca.leaf(ocsp_urls=[ALIVE]), ca.leaf("b.example.test", ocsp_urls=[ALIVE, DEAD])
    asked: List[str] = []
    paths = [served(tmp_path, "single.pem", single, ca), served(tmp_path, "fine.pem", fine, ca)]
    assert responder_choice.override(paths, responders(ca, [single, fine], asked)) is None
    assert asked == [ALIVE]  # the second certificate's first URL, once


def test_no_override_when_another_certificate_does_not_name_the_url(ca, tmp_path):
    # the override reaches every certificate below the level: one of another CA would ask the wrong responder
    needing, other = ca.leaf(ocsp_urls=[DEAD, ALIVE]), ca.leaf("other.example.test", ocsp_urls=[OTHER])
    paths = [served(tmp_path, "a.pem", needing, ca), served(tmp_path, "o.pem", other, ca)]
    assert responder_choice.override(paths, responders(ca, [needing, other], [])) is None


def test_no_override_when_the_certificates_that_need_one_disagree(ca, tmp_path):
    one, two = ca.leaf(ocsp_urls=[DEAD, ALIVE, OTHER]), ca.leaf("two.example.test", ocsp_urls=[DEAD, OTHER, ALIVE])
    paths = [served(tmp_path, "1.pem", one, ca), served(tmp_path, "2.pem", two, ca)]
    assert responder_choice.override(paths, responders(ca, [one, two], [])) is None


def test_no_url_answering_gives_no_override(ca, tmp_path):
    leaf = ca.leaf(ocsp_urls=[DEAD, DEAD + "again"])

    def down(url, body, headers, timeout):
        raise ConnectionRefusedError("[Errno 111] Connection refused")
    assert responder_choice.override([served(tmp_path, "a.pem", leaf, ca)], down) is None
