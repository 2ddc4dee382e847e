# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""crl_info through real ansible-playbook runs against the lab's CRL, served over HTTP on 127.0.0.1.

The lab's intermediate CA publishes its CRL beside its OCSP responder (the
relay on the responder's port) and every lab leaf names it as its CRL
distribution point. The lab's `no_ocsp` leaf, which stapling cannot serve,
gets its revocation status from that CRL; revoking it in the lab turns the
verdict to revoked. The module runs on the newest cryptography and on the
oldest a managed host ships (3.4.8).
"""
from __future__ import annotations

import datetime
import shutil
import subprocess
import urllib.request
from pathlib import Path
from typing import Any, Dict

import pytest
from cryptography import x509

from tests.conftest import PlaybookRun, free_port
from tests.integration.lab_fixtures import lab_factory  # noqa: F401 pylint: disable=unused-import
from tests.integration.test_modules import host_python  # noqa: F401 pylint: disable=unused-import
from tests.lab import core
from tests.support.pki import TestPKI, utcnow

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")

PLAYBOOK = Path(__file__).resolve().parent / "modules" / "crl_info.yml"
ISO = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture(scope="module")
def crl_lab(lab_factory) -> core.Lab:  # noqa: F811
    """A lab with only its responder (and so its CRL) running; the `revoked` leaf is revoked (keyCompromise)."""
    return lab_factory(components=("responder",))


def playbook_vars(state: Dict[str, Any], directory: Path) -> Dict[str, Any]:
    """The playbook's variables: lab leaves, and a leaf of another PKI whose CRL server is down."""
    other = TestPKI()
    down = other.leaf("down.example.test", ocsp_urls=(), crl_urls=("http://127.0.0.1:%d/ca.crl" % free_port(),))
    down_chain = directory / "down-chain.pem"
    down_chain.write_bytes(down.pem + other.intermediate.pem)
    return {
        "crl_no_ocsp_chain": state["leaves"]["no_ocsp"]["fullchain"],
        "crl_revoked_chain": state["leaves"]["revoked"]["fullchain"],
        "crl_plain_leaf": state["leaves"]["plain"]["cert"],
        "crl_issuer": state["pki"]["intermediate"]["cert"],
        "crl_down_chain": str(down_chain),
        "crl_missing": str(directory / "absent.pem"),
    }


def run_checks(run_playbook, lab: core.Lab, directory: Path, extra: Dict[str, Any], **options: Any) -> PlaybookRun:
    run = run_playbook(PLAYBOOK, {**extra, **playbook_vars(lab.state(), directory)}, **options)
    assert not run.failed(), run.failure_messages() or run.stderr
    return run


@pytest.fixture(scope="module")
def crl_run(run_playbook, crl_lab: core.Lab, host_python, tmp_path_factory) -> PlaybookRun:  # noqa: F811
    return run_checks(run_playbook, crl_lab, tmp_path_factory.mktemp("crl-info"), host_python)


def registered(run: PlaybookRun, task: str) -> Dict[str, Any]:
    (result,) = run.results(task)
    return result


def test_the_lab_publishes_a_crl_its_leaves_name(crl_lab: core.Lab) -> None:
    state = crl_lab.state()
    url = state["pki"]["crl_url"]
    with urllib.request.urlopen(url, timeout=10) as reply:
        data = reply.read()
    crl = x509.load_der_x509_crl(data)
    verified = subprocess.run(["openssl", "crl", "-inform", "DER", "-CAfile", state["pki"]["ca_chain"], "-noout"],
                              input=data, capture_output=True, timeout=30, check=False)
    assert b"verify OK" in verified.stdout + verified.stderr
    assert [entry.serial_number for entry in crl] == [state["leaves"]["revoked"]["serial"]]
    for leaf in state["leaves"].values():
        assert leaf["crl_url"] == url
        points = x509.load_pem_x509_certificate(Path(leaf["cert"]).read_bytes()).extensions.get_extension_for_class(
            x509.CRLDistributionPoints).value
        assert [name.value for point in points for name in point.full_name] == [url]


def test_the_certificate_without_ocsp_url_is_good_by_its_crl(crl_run: PlaybookRun, crl_lab: core.Lab) -> None:
    result = registered(crl_run, "Check the certificate without OCSP URL")
    state = crl_lab.state()

    assert (result["verdict"], result["changed"]) == ("good", False), result["reason"]
    assert result["serial_number"] == state["leaves"]["no_ocsp"]["serial"]
    (entry,) = result["crls"]
    assert (entry["url"], entry["verdict"]) == (state["pki"]["crl_url"], "good")
    assert entry["size"] > 0 and entry["crl_number"] > 0
    next_update = datetime.datetime.strptime(entry["next_update"], ISO)
    assert datetime.timedelta(days=6) < next_update - utcnow() <= datetime.timedelta(days=7)


def test_the_revoked_leaf_is_revoked_with_its_reason(crl_run: PlaybookRun, crl_lab: core.Lab) -> None:
    result = registered(crl_run, "Check the revoked certificate")
    revocation = crl_lab.state()["leaves"]["revoked"]["revocation"]

    assert result["verdict"] == "revoked", result["reason"]
    assert (result["revocation_time"], result["revocation_reason"]) == (revocation["time"], "keyCompromise")
    assert "replace it now" in result["reason"]


def test_certificate_as_content_with_issuer_file(crl_run: PlaybookRun) -> None:
    assert registered(crl_run, "Check a certificate given as content, with its issuer in a file")["verdict"] == "good"


def test_a_crl_server_that_is_down_is_unreachable_not_a_failure(crl_run: PlaybookRun) -> None:
    result = registered(crl_run, "Check a certificate whose CRL server is down")

    assert result.get("failed") is not True
    assert result["verdict"] == "unreachable"
    assert "connection refused" in result["reason"]


def test_the_size_cap_applies(crl_run: PlaybookRun) -> None:
    result = registered(crl_run, "Check a certificate with a size cap below its CRL")

    assert result["verdict"] == "unreachable"
    assert "larger than max_size (64 bytes)" in result["reason"]


def test_a_missing_file_is_a_clear_failure(crl_run: PlaybookRun) -> None:
    result = registered(crl_run, "Check a file that is not there")

    assert result["failed"] is True
    assert result["msg"].startswith("certificate_path: cannot read ")
    assert "Traceback" not in str(result)


def test_check_mode_reports_the_same(run_playbook, crl_run: PlaybookRun, crl_lab: core.Lab, tmp_path: Path) -> None:
    checked = run_checks(run_playbook, crl_lab, tmp_path, {}, check=True)

    assert checked.changed() == 0
    for task in ("Check the certificate without OCSP URL", "Check the revoked certificate"):
        before, after = registered(crl_run, task), registered(checked, task)
        assert (after["verdict"], after["revocation_time"]) == (before["verdict"], before["revocation_time"])


def test_revoking_the_leaf_without_ocsp_url_in_the_lab_turns_it_revoked(
        run_playbook, lab_factory, tmp_path: Path) -> None:  # noqa: F811
    lab = lab_factory(components=("responder",), revoke_initially=False)
    try:
        before = registered(run_checks(run_playbook, lab, tmp_path, {}), "Check the certificate without OCSP URL")
        lab.revoke("no_ocsp", "cessationOfOperation")
        after = registered(run_checks(run_playbook, lab, tmp_path, {}), "Check the certificate without OCSP URL")
    finally:
        lab.stop()

    assert before["verdict"] == "good", before["reason"]
    assert (after["verdict"], after["revocation_reason"]) == ("revoked", "cessationOfOperation"), after["reason"]
    assert after["crls"][0]["crl_number"] >= before["crls"][0]["crl_number"]
