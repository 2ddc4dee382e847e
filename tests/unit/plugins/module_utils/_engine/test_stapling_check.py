# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""stapling_check.check_plan: real `openssl s_server` endpoints; the responder and the CRL answer through
injected transports that record what they were asked (the HTTP path itself is tested with responder_info
and crl_info)."""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest
from cryptography.x509 import ocsp as x509_ocsp

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import stapling_check
from ansible_collections.tlsops.ocsp.plugins.module_utils._report import stapling_report
from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import verdicts
from tests.support.pki import Issued, Revocation, TestPKI, crl, utcnow
from tests.unit.conftest import SERVER_NAME

CRL_URL = "http://127.0.0.1:8889/intermediate.crl"


class Transports:
    """The OCSP fetch and the CRL download, answering from the test PKI and counting what was asked."""

    def __init__(self, pki: TestPKI, responses: Dict[int, bytes], revoked: Tuple[int, ...] = ()) -> None:
        self.pki, self.responses, self.revoked = pki, responses, revoked
        self.ocsp_urls: List[str] = []
        self.crl_urls: List[str] = []

    def fetch(self, url: str, body: Optional[bytes], headers: Dict[str, str], timeout: float) -> Tuple[int, bytes]:
        self.ocsp_urls.append(url)
        return 200, self.responses[x509_ocsp.load_der_ocsp_request(body).serial_number]

    def download(self, url: str, timeout: float, limit: int) -> Tuple[int, bytes]:
        self.crl_urls.append(url)
        revoked = [Revocation(serial, utcnow() - datetime.timedelta(hours=2)) for serial in self.revoked]
        return 200, crl(self.pki.intermediate, revoked)


def chain_file(directory: Path, leaf: Issued, pki: TestPKI, with_issuer: bool = True) -> str:
    path = directory / f"{leaf.cert.serial_number}.pem"
    path.write_bytes(leaf.pem + (pki.intermediate.pem if with_issuer else b""))
    return str(path)


def planned(port: int, path: str, applicable: bool, name: str = SERVER_NAME) -> Dict[str, object]:
    return {"host": "127.0.0.1", "port": port, "server_name": name, "certificate_path": path,
            "stapling_applicable": applicable, "stapling_reason": "", "must_staple": False}


@pytest.fixture(scope="module")
def no_ocsp_leaf(pki: TestPKI) -> Issued:
    return pki.leaf(SERVER_NAME, ocsp_urls=(), crl_urls=(CRL_URL,))


def test_one_call_checks_staples_asks_the_responder_where_none_and_each_crl_once(
        tmp_path, pki, leaf, serve, no_ocsp_leaf):
    stapled = serve(leaf, pki.response(leaf.cert))
    silent_leaf = pki.leaf(SERVER_NAME)
    silent = serve(silent_leaf)  # staples nothing
    no_ocsp = serve(no_ocsp_leaf)
    transports = Transports(pki, {silent_leaf.cert.serial_number: pki.response(silent_leaf.cert, "revoked")},
                            revoked=(no_ocsp_leaf.cert.serial_number,))
    no_ocsp_path = chain_file(tmp_path, no_ocsp_leaf, pki)
    planned_endpoints = [planned(stapled, chain_file(tmp_path, leaf, pki), True),
                         planned(silent, chain_file(tmp_path, silent_leaf, pki), True),
                         planned(no_ocsp, no_ocsp_path, False),
                         planned(no_ocsp, no_ocsp_path, False, name="alias.example.test")]

    checked = stapling_check.check_planned(planned_endpoints, transports.fetch, transports.download, timeout=5)

    assert [entry["verdict"] for entry in checked["endpoints"]] == [
        verdicts.GOOD, verdicts.NO_STAPLE, verdicts.NOT_APPLICABLE, verdicts.NOT_APPLICABLE]
    assert [answer.get("skipped", False) for answer in checked["responders"]] == [True, False, True, True]
    assert checked["responders"][1]["verdict"] == verdicts.REVOKED
    assert transports.ocsp_urls == [pki.ocsp_url]
    assert transports.crl_urls == [CRL_URL]  # two names, one certificate: one CRL answer
    assert [(answer["item"], answer["verdict"]) for answer in checked["crls"]] == [(no_ocsp_path, verdicts.REVOKED)]
    report = stapling_report.stapling_report(planned_endpoints, checked["endpoints"], False, "nginx",
                                             checked["responders"], checked["crls"])
    assert [(entry["revocation_status"], entry["revocation_source"]) for entry in report["endpoints"]] == [
        ("good", "staple"), ("revoked", "responder"), ("revoked", "crl"), ("revoked", "crl")]


def test_a_certificate_file_without_its_issuer_is_reported_not_raised(tmp_path, pki, serve):
    lonely = pki.leaf(SERVER_NAME)
    port = serve(lonely)
    path = chain_file(tmp_path, lonely, pki, with_issuer=False)
    transports = Transports(pki, {})

    checked = stapling_check.check_planned([planned(port, path, True), planned(port, path, False)],
                                           transports.fetch, transports.download, timeout=5)

    assert checked["responders"][0]["failed"] and path in checked["responders"][0]["msg"]
    assert checked["crls"][0]["failed"] and "must hold the chain" in checked["crls"][0]["msg"]
    assert transports.ocsp_urls == [] and transports.crl_urls == []


def test_nothing_to_check_asks_nothing():
    assert stapling_check.check_planned([], None, None) == {
        "endpoints": [], "responders": [], "crls": [], "diagnoses": []}


def outside(port: int, name: str = SERVER_NAME) -> Dict[str, object]:
    return {"host": "127.0.0.1", "port": port, "server_name": name}


def test_from_outside_the_served_certificate_stands_for_the_file_and_each_is_asked_about_once(
        pki, leaf, serve, no_ocsp_leaf, port):
    stapled = serve(leaf, pki.response(leaf.cert))
    silent_leaf = pki.leaf(SERVER_NAME)
    silent = serve(silent_leaf)
    no_ocsp = serve(no_ocsp_leaf)
    transports = Transports(pki, {silent_leaf.cert.serial_number: pki.response(silent_leaf.cert, "revoked")},
                            revoked=(no_ocsp_leaf.cert.serial_number,))
    endpoints = [outside(stapled), outside(silent), outside(silent, "alias.example.test"), outside(no_ocsp),
                 outside(port)]

    checked = stapling_check.check_outside(endpoints, transports.fetch, transports.download, timeout=5)

    assert [entry["verdict"] for entry in checked["endpoints"]] == [
        verdicts.GOOD, verdicts.NO_STAPLE, verdicts.NO_STAPLE, verdicts.NOT_APPLICABLE, verdicts.UNREACHABLE]
    assert all(set(entry) == set(checked["endpoints"][0]) for entry in checked["endpoints"])  # plain data again
    assert transports.ocsp_urls == [pki.ocsp_url]  # one certificate at two names: asked once
    assert transports.crl_urls == [CRL_URL]
    entries = stapling_report.outside_entries(checked["endpoints"], checked["responders"], checked["crls"],
                                              names=[None, "lb1", None, None, None])
    assert [(entry["revocation_status"], entry["revocation_source"]) for entry in entries] == [
        ("good", "staple"), ("revoked", "responder"), ("revoked", "responder"), ("revoked", "crl"), (None, None)]
    assert [entry["inventory_host"] for entry in entries] == ["outside", "lb1", "outside", "outside", "outside"]
    assert {(entry["checked_from"], entry["server_kind"]) for entry in entries} == {("outside", "outside")}
    assert "asked from the controller, the OCSP responder says revoked" in entries[1]["reason"]
    assert [entry["stapling_applicable"] for entry in entries] == [True, True, True, False, None]


def test_from_outside_an_issuer_neither_served_nor_given_is_said_not_asked(pki, serve):
    lonely = pki.leaf(SERVER_NAME)
    port = serve(lonely, chain=[])
    transports = Transports(pki, {lonely.cert.serial_number: pki.response(lonely.cert)})

    checked = stapling_check.check_outside([outside(port)], transports.fetch, transports.download, timeout=5)

    assert checked["responders"][0]["failed"] and "neither served nor in the CA certificates" in \
        checked["responders"][0]["msg"]
    assert transports.ocsp_urls == []
    with_ca = stapling_check.check_outside([outside(port)], transports.fetch, transports.download, timeout=5,
                                           ca_certs=[pki.intermediate.cert])
    assert transports.ocsp_urls == [pki.ocsp_url] and not with_ca["responders"][0].get("failed")
