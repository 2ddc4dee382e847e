# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""haproxy_refresh: the rules of the role and the refresher, with real certificates and signed responses."""
from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy import refresh as haproxy_refresh
from ansible_collections.tlsops.ocsp.plugins.module_utils._servers.haproxy.runtime import RuntimeApiError
from tests.support.pki import Issued, TestPKI, corrupt_signature, utcnow

SOCKET = "/run/haproxy/admin.sock"


class Responder:
    """An injected HTTP transport answering with what the test sets; None means the responder is down."""

    def __init__(self) -> None:
        self.answer: Optional[bytes] = None
        self.calls = 0

    def __call__(self, url: str, body: Optional[bytes], headers: Dict[str, str], timeout: float):
        self.calls += 1
        if self.answer is None:
            raise ConnectionRefusedError(111, "Connection refused")
        return 200, self.answer


class Haproxy:
    """The runtime API as the refresher sees it: the serial HAProxy serves, and what was pushed."""

    def __init__(self, serial: Optional[int], ocsp_key: Optional[str] = "30ab") -> None:
        self.serial = serial
        self.ocsp_key = ocsp_key
        self.pushed: List[bytes] = []

    def served(self, socket_path: str, crt_path: str) -> Dict[str, Optional[str]]:
        return {"serial": "%X" % self.serial if self.serial is not None else None, "sha1": None, "subject": None,
                "ocsp_key": self.ocsp_key}

    def push(self, socket_path: str, der: bytes) -> str:
        self.pushed.append(der)
        return "OCSP Response updated!"


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI()


@pytest.fixture(scope="module")
def leaf(pki: TestPKI) -> Issued:
    return pki.leaf("www.example.test")


def bundle(tmp_path: Path, cert: Issued, chain: List[Issued], name: str = "site.pem") -> str:
    path = tmp_path / name
    path.write_bytes(cert.pem + b"".join(issued.pem for issued in chain) + cert.key_pem)
    return str(path)


def refresh(path: str, responder: Responder, haproxy: Haproxy, **options: Any) -> Dict[str, Any]:
    return haproxy_refresh.refresh_certificate(path, responder, socket_path=SOCKET, push=haproxy.push,
                                               served=haproxy.served, **options)


def fresh(pki: TestPKI, cert: Issued, status: str = "good", hours: float = 4 * 24) -> bytes:
    now = utcnow()
    return pki.response(cert.cert, status, signer=pki.delegate, this_update=now - datetime.timedelta(minutes=1),
                        next_update=now + datetime.timedelta(hours=hours))


def test_fetches_verifies_writes_with_mode_and_pushes_live(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    responder, haproxy = Responder(), Haproxy(leaf.cert.serial_number)
    responder.answer = fresh(pki, leaf)
    record = refresh(path, responder, haproxy, mode=0o640)
    assert record["action"] == "written" and record["verdict"] == "good" and record["pushed"]
    assert Path(path + ".ocsp").read_bytes() == responder.answer == haproxy.pushed[0]
    assert Path(path + ".ocsp").stat().st_mode & 0o777 == 0o640
    assert not record["failed"] and not record["reload_needed"]


def test_a_fresh_file_is_kept_without_asking(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    Path(path + ".ocsp").write_bytes(fresh(pki, leaf))
    responder, haproxy = Responder(), Haproxy(leaf.cert.serial_number)
    record = refresh(path, responder, haproxy)
    assert record["action"] == "kept" and not record["changed"] and responder.calls == 0 and not haproxy.pushed


def test_a_kept_file_haproxy_does_not_hold_yet_asks_for_a_reload(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    Path(path + ".ocsp").write_bytes(fresh(pki, leaf))
    record = refresh(path, Responder(), Haproxy(leaf.cert.serial_number, ocsp_key=None))
    assert record["action"] == "kept" and record["reload_needed"]


def test_a_response_past_half_its_validity_is_renewed(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    now = utcnow()
    Path(path + ".ocsp").write_bytes(pki.response(
        leaf.cert, signer=pki.delegate, this_update=now - datetime.timedelta(hours=70),
        next_update=now + datetime.timedelta(hours=26)))
    responder = Responder()
    responder.answer = fresh(pki, leaf)
    record = refresh(path, responder, Haproxy(leaf.cert.serial_number), renew_before=600)
    assert record["action"] == "written" and Path(path + ".ocsp").read_bytes() == responder.answer


def test_after_a_renewal_the_old_certificates_file_is_replaced_by_one_for_the_new(tmp_path, pki, leaf):
    old = pki.leaf("www.example.test")
    path = bundle(tmp_path, old, [pki.intermediate])
    Path(path + ".ocsp").write_bytes(fresh(pki, old))
    bundle(tmp_path, leaf, [pki.intermediate])  # renewed in place: same name, new key and serial
    responder = Responder()
    responder.answer = fresh(pki, leaf)
    haproxy = Haproxy(leaf.cert.serial_number)
    record = refresh(path, responder, haproxy)
    assert record["action"] == "written" and record["serial_number"] == leaf.cert.serial_number
    assert haproxy.pushed == [responder.answer]


def test_a_response_for_another_certificate_is_never_written(tmp_path, pki, leaf):
    other = pki.leaf("other.example.test")
    path = bundle(tmp_path, leaf, [pki.intermediate])
    responder = Responder()
    responder.answer = fresh(pki, other)
    record = refresh(path, responder, Haproxy(leaf.cert.serial_number))
    assert record["verdict"] == "wrong_certificate" and record["failed"]
    assert not Path(path + ".ocsp").exists()


def test_haproxy_still_serving_the_old_certificate_gets_the_file_for_its_reload_not_a_push(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    responder = Responder()
    responder.answer = fresh(pki, leaf)
    haproxy = Haproxy(leaf.cert.serial_number + 1)
    record = refresh(path, responder, haproxy)
    assert record["action"] == "written" and not record["pushed"] and record["reload_needed"]
    assert not haproxy.pushed and "not this certificate" in record["reason"]


def test_responder_down_keeps_a_valid_file_and_reports_the_failure(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    current = fresh(pki, leaf, hours=0.2)
    Path(path + ".ocsp").write_bytes(current)
    record = refresh(path, Responder(), Haproxy(leaf.cert.serial_number))
    assert record["action"] == "kept" and record["failed"] and "unreachable" in record["reason"]
    assert Path(path + ".ocsp").read_bytes() == current


def test_responder_down_removes_an_expired_file(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    now = utcnow()
    Path(path + ".ocsp").write_bytes(pki.response(
        leaf.cert, signer=pki.delegate, this_update=now - datetime.timedelta(days=5),
        next_update=now - datetime.timedelta(hours=1)))
    record = refresh(path, Responder(), Haproxy(leaf.cert.serial_number))
    assert record["action"] == "removed" and record["failed"] and record["reload_needed"]
    assert not Path(path + ".ocsp").exists()


def test_a_bad_signature_is_not_written_and_the_valid_file_stays(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    current = fresh(pki, leaf, hours=0.2)
    Path(path + ".ocsp").write_bytes(current)
    responder = Responder()
    responder.answer = corrupt_signature(fresh(pki, leaf))
    record = refresh(path, responder, Haproxy(leaf.cert.serial_number))
    assert record["action"] == "kept" and record["failed"] and "bad_signature" not in record["verdict"]
    assert Path(path + ".ocsp").read_bytes() == current


def test_a_verified_revoked_response_is_written_and_reported(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    responder = Responder()
    responder.answer = fresh(pki, leaf, status="revoked")
    result = haproxy_refresh.refresh_all([path], responder, socket_path=SOCKET,
                                         push=Haproxy(leaf.cert.serial_number).push,
                                         served=Haproxy(leaf.cert.serial_number).served)
    assert result["revoked"] == [path] and result["certificates"][0]["action"] == "written"
    assert Path(path + ".ocsp").read_bytes() == responder.answer


def test_issuer_from_the_issuer_file(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [])
    Path(path + ".issuer").write_bytes(pki.intermediate.pem)
    responder = Responder()
    responder.answer = fresh(pki, leaf)
    assert refresh(path, responder, Haproxy(leaf.cert.serial_number))["verdict"] == "good"


def test_no_issuer_is_a_failure_that_says_what_to_do(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [])
    record = refresh(path, Responder(), Haproxy(leaf.cert.serial_number))
    assert record["verdict"] == "unauthorized_signer" and record["failed"] and "issuing CA" in record["reason"]


def test_no_ocsp_url_is_not_applicable_and_asks_nobody(tmp_path, pki):
    no_ocsp = pki.leaf("plain.example.test", ocsp_urls=())
    path = bundle(tmp_path, no_ocsp, [pki.intermediate])
    responder = Responder()
    record = refresh(path, responder, Haproxy(no_ocsp.cert.serial_number))
    assert record["verdict"] == "not_applicable" and responder.calls == 0 and not record["failed"]


def test_check_mode_writes_and_pushes_nothing(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    responder, haproxy = Responder(), Haproxy(leaf.cert.serial_number)
    responder.answer = fresh(pki, leaf)
    record = refresh(path, responder, haproxy, check_mode=True)
    assert record["changed"] and not Path(path + ".ocsp").exists() and not haproxy.pushed


def test_a_refused_push_asks_for_a_reload(tmp_path, pki, leaf):
    path = bundle(tmp_path, leaf, [pki.intermediate])
    responder, haproxy = Responder(), Haproxy(leaf.cert.serial_number)
    responder.answer = fresh(pki, leaf)

    def refuse(socket_path: str, der: bytes) -> str:
        raise RuntimeApiError("refused")

    record = haproxy_refresh.refresh_certificate(path, responder, socket_path=SOCKET, push=refuse,
                                                 served=haproxy.served)
    assert record["action"] == "written" and not record["pushed"] and record["reload_needed"]


def test_an_unreadable_bundle_is_malformed(tmp_path):
    (tmp_path / "broken.pem").write_text("not a certificate")
    record = haproxy_refresh.refresh_certificate(str(tmp_path / "broken.pem"), Responder())
    assert record["verdict"] == "malformed" and record["failed"]
