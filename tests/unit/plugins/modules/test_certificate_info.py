# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""certificate_info, run in-process on certificates made by the test PKI."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable
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
    assert result["msg"] == "paths: %s: cannot be read: no such file; check the path" % missing
    assert result["files"] == [{"path": missing, "certificates": 0, "error": result["msg"][len("paths: "):]}]


def test_directory_fails_and_says_to_give_the_file_in_it(run_module, pki, tmp_path):
    directory = str(tmp_path)  # reading a directory fails like an unreadable file, also as root

    result = run_module(main, path=directory)

    assert result["failed"] is True
    assert result["msg"].startswith("path: %s: cannot be read: it is a directory" % directory)
    assert "give the certificate file in it" in result["msg"]


def bulk_files(pki, tmp_path):
    """(paths, good paths, {bad path: expected words}) of a host where half the files give nothing."""
    good = [write(tmp_path, "a.pem", pki.leaf("a.example.test").pem),
            write(tmp_path, "b.pem", pki.leaf("b.example.test").pem + pki.intermediate.pem)]
    bad = {
        str(tmp_path / "absent.pem"): "no such file; check the path",
        str(tmp_path): "it is a directory",
        write(tmp_path, "a.key", pki.leaf().key_pem): "holds a private key, not a certificate",
        write(tmp_path, "notes.txt", b"not a certificate\n"): "neither PEM with a CERTIFICATE block nor a readable DER",
        write(tmp_path, "broken.pem", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"):
            "PEM block 1 (CERTIFICATE) is not a valid certificate",
    }
    paths = [good[0], *bad, good[1]]
    return paths, good, bad


def test_bulk_call_checks_every_file_and_names_every_culprit(run_module, pki, tmp_path):
    paths, good, bad = bulk_files(pki, tmp_path)

    result = run_module(main, paths=paths)

    assert result["failed"] is True
    assert result["msg"].startswith("paths: 5 of 7 files gave no certificate: ")
    for path, words in bad.items():
        assert "[%s: " % path in result["msg"] and words in result["msg"]
    assert "fail_on=none" in result["msg"]
    assert [entry["path"] for entry in result["files"]] == paths
    assert [entry["certificates"] for entry in result["files"]] == [1, 0, 0, 0, 0, 0, 2]
    assert all(words in entry["error"] for entry, words in zip(result["files"][1:6], bad.values()))
    assert [(c["path"], c["index"]) for c in result["certificates"]] == [(good[0], 0), (good[1], 0), (good[1], 1)]


def test_fail_on_none_returns_the_facts_and_every_file_entry(run_module, pki, tmp_path):
    paths, good, bad = bulk_files(pki, tmp_path)

    result = run_module(main, paths=paths, fail_on="none")

    assert "failed" not in result and result["changed"] is False
    assert len(result["certificates"]) == 3
    assert [entry["path"] for entry in result["files"] if entry["error"]] == list(bad)
    assert [entry["error"] for entry in result["files"] if entry["path"] in good] == [None, None]


def test_fail_on_all_fails_only_when_no_file_gives_a_certificate(run_module, pki, tmp_path):
    paths, _good, bad = bulk_files(pki, tmp_path)

    some = run_module(main, paths=paths, fail_on="all")
    none_read = run_module(main, paths=list(bad), fail_on="all")

    assert "failed" not in some and len(some["certificates"]) == 3
    assert none_read["failed"] is True
    assert none_read["msg"].startswith("paths: 5 of 5 files gave no certificate: ")
    assert none_read["msg"].endswith("; fix or remove each")


def test_broken_content_fails_in_the_content_option_words(run_module):
    result = run_module(main, content="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")

    assert result["failed"] is True
    assert result["msg"].startswith("content: the PEM text: PEM block 1 (CERTIFICATE) is not a valid certificate")
    assert result["files"] == [{"path": None, "certificates": 0, "error": result["msg"][len("content: "):]}]


def test_file_without_certificates_fails_naming_it(run_module, pki, tmp_path):
    path = write(tmp_path, "key.pem", pki.leaf().key_pem)

    result = run_module(main, path=path)

    assert result["failed"] is True
    assert path in result["msg"] and "CERTIFICATE" in result["msg"]
    assert "holds a private key, not a certificate" in result["msg"]
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


# --- Odd but loadable certificates -------------------------------------------------------------

VECTORS = pytest.importorskip("cryptography_vectors", reason="cryptography-vectors holds a real odd certificate")
PLACEHOLDER = b"ODDNAME-PLACEHOLDER"


def with_raw_common_name(leaf, issuer, raw: bytes):
    """`leaf` with its subject CN bytes replaced by `raw` (same length), re-signed by `issuer`:
    what a CA that wrote Latin-1 into a UTF8String issues. The x509 builder cannot write such bytes."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography import x509
    from ansible_collections.tlsops.ocsp.plugins.module_utils._engine.compat import der_children
    from tests.support.pki import _der

    assert len(raw) == len(PLACEHOLDER)
    (certificate,) = der_children(leaf.cert.public_bytes(serialization.Encoding.DER))
    tbs, algorithm, _signature = der_children(certificate.content)
    utf8_string = bytes((0x0C, len(PLACEHOLDER))) + PLACEHOLDER  # the CN, not the SAN (an IA5String)
    assert tbs.raw.count(utf8_string) == 1
    patched = tbs.raw.replace(utf8_string, utf8_string[:2] + raw)
    signature = issuer.key.sign(patched, ec.ECDSA(hashes.SHA256()))
    return x509.load_der_x509_certificate(_der(0x30, patched + algorithm.raw + _der(0x03, b"\x00" + signature)))


def odd_leaf_and_key(pki):
    """(PEM of a leaf whose subject CN is Latin-1 in a UTF8String, PEM of its private key)."""
    from cryptography.hazmat.primitives import serialization
    plain = pki.leaf(PLACEHOLDER.decode())
    odd = with_raw_common_name(plain, pki.intermediate, b"Caf\xe9 \xff\xfe shop.exampl")
    return odd.public_bytes(serialization.Encoding.PEM), plain.key_pem


def odd_leaf(pki):
    return odd_leaf_and_key(pki)[0]


def loadable_or_skip(make: Callable[[], bytes]) -> bytes:
    """The PEM `make` returns; skipped where the oldest cryptography (3.4.8) refuses a certificate whose names are not
    valid UTF-8 at load time, before any name is read (there the call can only say it loads no certificate)."""
    from cryptography import x509
    try:
        pem = make()
        x509.load_pem_x509_certificate(pem)
    except (ValueError, OSError):
        pytest.skip("this cryptography cannot load a certificate whose names are not valid UTF-8")
    return pem


def test_subject_that_is_not_utf8_gives_facts_with_the_oddity_named(run_module, pki, tmp_path):
    path = write(tmp_path, "odd.pem", loadable_or_skip(lambda: odd_leaf(pki)) + pki.intermediate.pem)

    result = run_module(main, path=path)

    assert "failed" not in result
    odd, intermediate = result["certificates"]
    assert odd["subject"] == "CN=Caf\ufffd \ufffd\ufffd shop.exampl,O=tlsops test"
    assert odd["issuer"] == "CN=tlsops Test Intermediate CA,O=tlsops test"
    assert odd["issuer_in_file"] is True  # the issuer search still works on an odd subject
    assert (odd["stapling_applicable"], odd["ocsp_uris"]) == (True, ["http://ocsp.example.test"])
    (oddity,) = odd["oddities"]
    assert oddity.startswith("the subject's CN is not valid UTF-8 (19 bytes), shown with U+FFFD")
    assert "reissue it with a valid subject name" in oddity
    assert intermediate["oddities"] == []
    assert "not a valid certificate" not in repr(result)


def test_self_signed_certificate_with_invalid_utf8_names_from_cryptography_vectors(run_module):
    path = os.path.join(os.path.dirname(VECTORS.__file__), "x509", "custom", "invalid_utf8_common_name.pem")
    loadable_or_skip(lambda: Path(path).read_bytes())

    (entry,) = run_module(main, path=path)["certificates"]

    assert entry["subject"] == entry["issuer"] == "CN=We heart UTF8!\ufffd"
    assert [oddity.split(" is not")[0] for oddity in entry["oddities"][:2]] == ["the subject's CN", "the issuer's CN"]
    assert "X.509 version 1" in entry["oddities"][2]


def test_odd_certificate_beside_broken_files_in_one_bulk_call(run_module, pki, tmp_path):
    odd = write(tmp_path, "odd.pem", loadable_or_skip(lambda: odd_leaf(pki)))
    missing = str(tmp_path / "gone.pem")

    result = run_module(main, paths=[odd, missing], fail_on="none")

    assert [entry["error"] is None for entry in result["files"]] == [True, False]
    assert result["certificates"][0]["oddities"]


def test_unknown_extensions_are_named_with_their_criticality(run_module, tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from tests.support.pki import name, new_key, utcnow
    import datetime

    key = new_key()
    cert = (x509.CertificateBuilder().subject_name(name("ext.example.test")).issuer_name(name("ext.example.test"))
            .public_key(key.public_key()).serial_number(7)
            .not_valid_before(utcnow() - datetime.timedelta(days=1)).not_valid_after(utcnow() + datetime.timedelta(days=9))
            .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.1"), b"\x05\x00"),
                           critical=True)
            .add_extension(x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.55555.2"), b"\x05\x00"),
                           critical=False)
            .sign(key, hashes.SHA256()))
    from cryptography.hazmat.primitives import serialization
    path = write(tmp_path, "ext.pem", cert.public_bytes(serialization.Encoding.PEM))

    (entry,) = run_module(main, path=path)["certificates"]

    critical, plain = entry["oddities"]
    assert critical.startswith("extension 1.3.6.1.4.1.55555.1 is unknown to cryptography and marked critical")
    assert "must refuse the certificate" in critical
    assert plain == "extension 1.3.6.1.4.1.55555.2 is unknown to cryptography (not critical: clients ignore it)"
