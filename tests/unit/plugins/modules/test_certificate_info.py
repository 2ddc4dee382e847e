# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_info, run in-process on certificates made by the test PKI."""
from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from tests.support.pki import TestPKI, issue

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible import module_helpers  # noqa: E402
from ansible_collections.tlsops.ocsp.plugins.modules import certificate_info  # noqa: E402

main = certificate_info.main


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI(ocsp_url="http://ocsp.example.test")


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_chain_file_lists_every_certificate_in_file_order_with_its_facts(run_module, pki, tmp_path):
    leaf = pki.leaf("shop.example.test", must_staple_critical=True, crl_urls=("http://crl.example.test/i.crl",),
                    ca_issuers_urls=("http://ca.example.test/i.der",))
    path = write(tmp_path, "chain.pem", leaf.pem + pki.intermediate.pem)

    result = run_module(main, path=path)

    assert result["changed"] is False
    first, second = result["certificates"]
    assert (first["path"], first["index"], second["index"]) == (path, 0, 1)
    assert first["subject"] == "CN=shop.example.test,O=tlsops test"
    assert first["issuer"] == "CN=tlsops Test Intermediate CA,O=tlsops test"
    assert first["serial_number"] == leaf.cert.serial_number
    assert first["ocsp_uris"] == ["http://ocsp.example.test"]
    assert first["ca_issuers_uris"] == ["http://ca.example.test/i.der"]
    assert first["crl_distribution_points"] == ["http://crl.example.test/i.crl"]
    assert (first["must_staple"], first["must_staple_critical"]) == (True, True)
    assert first["not_after"].endswith("Z") and first["lifetime_days"] == 91
    assert (first["is_ca"], first["stapling_applicable"]) == (False, True)
    assert first["issuer_in_file"] is True
    assert (second["is_ca"], second["issuer_in_file"]) == (True, False)


def test_certificate_without_ocsp_url_is_not_applicable_with_the_reason(run_module, pki, tmp_path):
    path = write(tmp_path, "no-ocsp.pem", pki.leaf(ocsp_urls=()).pem)

    (entry,) = run_module(main, path=path)["certificates"]

    assert entry["stapling_applicable"] is False
    assert "no OCSP responder URL" in entry["stapling_reason"]
    assert entry["issuer_in_file"] is False


def test_der_file_and_pem_content_read_the_same(run_module, pki, tmp_path):
    leaf = pki.leaf()
    from_der = run_module(main, path=write(tmp_path, "leaf.der", leaf.der))["certificates"]
    from_content = run_module(main, content=leaf.pem.decode())["certificates"]

    assert from_content[0]["path"] is None
    assert {**from_der[0], "path": None} == from_content[0]


def test_paths_keep_the_order_of_the_files(run_module, pki, tmp_path):
    first = write(tmp_path, "b.pem", pki.leaf("b.example.test").pem)
    second = write(tmp_path, "a.pem", pki.leaf("a.example.test").pem + pki.leaf("c.example.test").pem)

    result = run_module(main, paths=[first, second])

    assert [(c["path"], c["index"], c["subject"]) for c in result["certificates"]] == [
        (first, 0, "CN=b.example.test,O=tlsops test"),
        (second, 0, "CN=a.example.test,O=tlsops test"),
        (second, 1, "CN=c.example.test,O=tlsops test"),
    ]


def test_check_mode_returns_the_same_facts(run_module, pki, tmp_path):
    path = write(tmp_path, "leaf.pem", pki.leaf().pem)

    assert run_module(main, check_mode=True, path=path) == run_module(main, path=path)


def test_one_thousand_certificates_in_one_call(run_module, tmp_path):
    ca = issue("Bulk CA", is_ca=True)
    leaves = [issue("host%d.example.test" % n, ca, ocsp_urls=("http://ocsp.example.test",)) for n in range(999)]
    path = write(tmp_path, "bulk.pem", b"".join(leaf.pem for leaf in leaves) + ca.pem)

    certificates = run_module(main, path=path)["certificates"]

    assert len(certificates) == 1000
    assert all(entry["issuer_in_file"] for entry in certificates[:999])
    assert certificates[998]["subject"] == "CN=host998.example.test,O=tlsops test"


def test_missing_file_fails_naming_the_option_the_file_and_the_cause(run_module, tmp_path):
    missing = str(tmp_path / "absent.pem")

    result = run_module(main, paths=[missing])

    assert result["failed"] is True
    assert result["msg"].startswith("paths: cannot read %s (No such file or directory)" % missing)


def test_unreadable_file_fails_and_says_what_to_check(run_module, pki, tmp_path):
    directory = str(tmp_path)  # reading a directory fails like an unreadable file, also as root

    result = run_module(main, path=directory)

    assert result["failed"] is True
    assert "cannot read %s" % directory in result["msg"]
    assert "may read it" in result["msg"]


def test_file_without_certificates_fails_naming_it(run_module, pki, tmp_path):
    path = write(tmp_path, "key.pem", pki.leaf().key_pem)

    result = run_module(main, path=path)

    assert result["failed"] is True
    assert path in result["msg"] and "CERTIFICATE" in result["msg"]
    assert "PRIVATE KEY-----" not in result["msg"].replace("found only: PRIVATE KEY", "")


def test_path_and_content_are_mutually_exclusive(run_module, pki, tmp_path):
    result = run_module(main, path=write(tmp_path, "leaf.pem", pki.leaf().pem), content=pki.leaf().pem.decode())

    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"] and "path" in result["msg"] and "content" in result["msg"]


def test_one_source_is_required(run_module):
    result = run_module(main)

    assert result["failed"] is True
    assert "one of the following is required: path, content, paths" in result["msg"]


def test_missing_cryptography_ends_in_missing_required_lib(run_module, pki, tmp_path):
    with mock.patch.object(module_helpers, "HAS_CRYPTOGRAPHY", False), \
            mock.patch.object(module_helpers, "CRYPTOGRAPHY_IMPORT_ERROR", "Traceback: no cryptography"):
        result = run_module(main, path=write(tmp_path, "leaf.pem", pki.leaf().pem))

    assert result["failed"] is True
    assert "Failed to import the required Python library (cryptography)" in result["msg"]
    assert result["exception"] == "Traceback: no cryptography"


def test_engine_that_cannot_be_imported_fails_with_the_cause(run_module, pki, tmp_path):
    error = "Traceback (most recent call last):\nImportError: cannot import name 'ocsp' from 'cryptography.x509'\n"
    with mock.patch.object(certificate_info, "ENGINE_IMPORT_ERROR", error):
        result = run_module(main, path=write(tmp_path, "leaf.pem", pki.leaf().pem))

    assert result["failed"] is True
    assert "cannot import name 'ocsp'" in result["msg"] and "cryptography >= 3.4.8" in result["msg"]
