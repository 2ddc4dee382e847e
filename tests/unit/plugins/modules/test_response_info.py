# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""response_info, run in-process on responses made by the test PKI."""
from __future__ import annotations

import base64
import datetime
from pathlib import Path

import pytest
from cryptography import x509

from tests.support.pki import TestPKI, issue, utcnow

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible_collections.tlsops.ocsp.plugins.modules.response_info import main  # noqa: E402


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI()


@pytest.fixture(scope="module")
def leaf(pki):
    return pki.leaf()


@pytest.fixture
def files(tmp_path: Path, pki, leaf):
    """Writes bytes to a file under tmp_path and returns its path; holds the usual PKI files."""

    def write(name: str, data: bytes) -> str:
        path = tmp_path / name
        path.write_bytes(data)
        return str(path)

    write.leaf = write("leaf.pem", leaf.pem)
    write.issuer = write("issuer.pem", pki.intermediate.pem)
    write.chain = write("chain.pem", leaf.pem + pki.intermediate.pem)
    return write


def test_good_response_with_the_issuer_in_the_certificate_file(run_module, pki, leaf, files):
    result = run_module(main, path=files("good.der", pki.response(leaf.cert)), certificate_path=files.chain)

    assert result["changed"] is False
    assert (result["verdict"], result["cert_status"], result["signed_by"]) == ("good", "good", "issuer")
    assert result["responder"] == pki.intermediate.cert.subject.rfc4514_string()
    assert result["this_update"].endswith("Z") and result["next_update"].endswith("Z")
    assert 3 * 86400 < result["seconds_until_next_update"] <= 4 * 86400


def test_delegated_responder_and_separate_issuer_file(run_module, pki, leaf, files):
    response = pki.response(leaf.cert, signer=pki.delegate)

    result = run_module(main, path=files("r.der", response), certificate_path=files.leaf, issuer_path=files.issuer)

    assert (result["verdict"], result["signed_by"]) == ("good", "delegate")
    assert result["responder"] == pki.delegate.cert.subject.rfc4514_string()


def test_revoked_response_gives_time_and_reason(run_module, pki, leaf, files):
    revoked_at = utcnow() - datetime.timedelta(days=2)
    response = pki.response(leaf.cert, "revoked", revocation_time=revoked_at,
                            revocation_reason=x509.ReasonFlags.key_compromise)

    result = run_module(main, path=files("r.der", response), certificate_path=files.chain)

    assert (result["verdict"], result["cert_status"]) == ("revoked", "revoked")
    assert result["revocation_time"] == revoked_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert result["revocation_reason"] == "keyCompromise"


def test_content_base64_reads_like_path(run_module, pki, leaf, files):
    response = pki.response(leaf.cert)
    from_file = run_module(main, path=files("r.der", response), certificate_path=files.chain)
    from_memory = run_module(main, content_base64=base64.b64encode(response).decode(), certificate_path=files.chain)

    assert from_memory == from_file


def test_valid_at_moves_the_verification_time(run_module, pki, leaf, files):
    path = files("r.der", pki.response(leaf.cert))
    before = (utcnow() - datetime.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    after = (utcnow() + datetime.timedelta(days=10)).isoformat()  # no offset: UTC

    assert run_module(main, path=path, certificate_path=files.chain, valid_at=before)["verdict"] == "not_yet_valid"
    assert run_module(main, path=path, certificate_path=files.chain, valid_at=after)["verdict"] == "expired"


def test_response_for_another_certificate(run_module, pki, files):
    other = pki.leaf("other.example.test")

    result = run_module(main, path=files("r.der", pki.response(other.cert)), certificate_path=files.chain)

    assert result["verdict"] == "wrong_certificate"


def test_forgeries_signed_by_another_ca(run_module, pki, leaf, files):
    stranger = TestPKI()  # a CA whose names equal ours, with other keys
    same_name = stranger.response(leaf.cert, issuer=pki.intermediate, signer=stranger.intermediate)
    other_ca = pki.response(leaf.cert, signer=issue("Other CA", is_ca=True))

    forged = run_module(main, path=files("same-name.der", same_name), certificate_path=files.chain)
    unauthorised = run_module(main, path=files("other-ca.der", other_ca), certificate_path=files.chain)

    assert (forged["verdict"], forged["signed_by"]) == ("bad_signature", None)
    assert (unauthorised["verdict"], unauthorised["signed_by"]) == ("unauthorized_signer", None)


@pytest.mark.parametrize("data", [b"", b"<html>502 Bad Gateway</html>", b"\x30\x03\x0a\x01"])
def test_bytes_that_are_no_response_are_malformed_not_a_failure(run_module, files, data):
    result = run_module(main, path=files("r.der", data), certificate_path=files.chain)

    assert "failed" not in result
    assert result["verdict"] == "malformed"
    assert result["cert_status"] is None


def test_missing_response_file_fails_naming_it(run_module, files, tmp_path):
    missing = str(tmp_path / "absent.der")

    result = run_module(main, path=missing, certificate_path=files.chain)

    assert result["failed"] is True
    assert result["msg"].startswith("path: cannot read %s (No such file or directory)" % missing)


def test_missing_certificate_file_fails_naming_the_option(run_module, pki, leaf, files, tmp_path):
    result = run_module(main, path=files("r.der", pki.response(leaf.cert)),
                        certificate_path=str(tmp_path / "absent.pem"))

    assert result["failed"] is True
    assert result["msg"].startswith("certificate_path: cannot read %s" % (tmp_path / "absent.pem"))


def test_issuer_nowhere_to_be_found_fails_and_says_to_set_issuer_path(run_module, pki, leaf, files):
    unrelated = files("unrelated.pem", issue("Unrelated CA", is_ca=True).pem)

    result = run_module(main, path=files("r.der", pki.response(leaf.cert)), certificate_path=files.leaf,
                        issuer_path=unrelated)

    assert result["failed"] is True
    assert unrelated in result["msg"] and files.leaf in result["msg"]
    assert "set issuer_path" in result["msg"]


def test_bad_base64_fails_and_says_what_to_give(run_module, files):
    result = run_module(main, content_base64="not base64 at all!", certificate_path=files.chain)

    assert result["failed"] is True
    assert result["msg"].startswith("content_base64: not valid base64")


def test_bad_valid_at_fails_with_an_example(run_module, pki, leaf, files):
    result = run_module(main, path=files("r.der", pki.response(leaf.cert)), certificate_path=files.chain,
                        valid_at="yesterday")

    assert result["failed"] is True
    assert "valid_at" in result["msg"] and "2026-11-24T04:03:19Z" in result["msg"]


def test_path_and_content_base64_are_mutually_exclusive(run_module, files):
    result = run_module(main, path=files.leaf, content_base64="AA==", certificate_path=files.chain)

    assert result["failed"] is True
    assert "mutually exclusive: path|content_base64" in result["msg"]


def test_a_response_is_required(run_module, files):
    result = run_module(main, certificate_path=files.chain)

    assert result["failed"] is True
    assert "one of the following is required: path, content_base64" in result["msg"]
