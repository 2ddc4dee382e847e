# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The missing issuer of a served leaf: from the host's files or the CA Issuers URL, only when it verifies."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from ansible_collections.tlsops.ocsp.plugins.module_utils._engine import issuer_lookup
from tests.support import pki

AIA = "http://ca.example.test/intermediate.crt"


@pytest.fixture(scope="module")
def ca() -> pki.TestPKI:
    return pki.TestPKI()


def write(tmp_path: Path, name: str, *issued: pki.Issued) -> str:
    path = tmp_path / name
    path.write_bytes(b"".join(item.pem for item in issued))
    return str(path)


def certs_only_pkcs7(ca: pki.TestPKI, tmp_path: Path) -> bytes:
    """A .p7c as CAs publish it (openssl's, so that the oldest cryptography needs no serializer)."""
    return subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", write(tmp_path, "i.pem", ca.intermediate),
                           "-outform", "DER"], capture_output=True, check=True).stdout


def downloads(answers: Dict[str, Tuple[int, bytes]], asked: List[str]):
    def download(url: str, timeout: float, limit: int) -> Tuple[int, bytes]:
        asked.append(url)
        if url not in answers:
            raise ConnectionRefusedError("[Errno 111] Connection refused")
        return answers[url]
    return download


def test_a_file_with_its_issuer_needs_nothing(ca, tmp_path):
    full = write(tmp_path, "full.pem", ca.leaf(), ca.intermediate)
    leaf_only = write(tmp_path, "leaf.pem", ca.leaf("b.example.test"))
    chain = write(tmp_path, "chain.pem", ca.intermediate)
    asked: List[str] = []
    found = issuer_lookup.missing_issuers({full: [], leaf_only: [chain]}, [], downloads({}, asked))
    assert found == {} and asked == []  # the chain file served with it holds the issuer


def test_the_issuer_comes_from_another_file_on_the_host(ca, tmp_path):
    leaf_only = write(tmp_path, "leaf.pem", ca.leaf())
    other = write(tmp_path, "other.pem", ca.leaf("other.example.test"), ca.intermediate)
    found = issuer_lookup.missing_issuers({leaf_only: []}, [leaf_only, other])
    assert found[leaf_only]["source"] == other
    assert found[leaf_only]["pem"] == ca.intermediate.pem.decode()
    assert "tlsops Test Intermediate CA" in found[leaf_only]["subject"]


def test_a_look_alike_with_the_same_name_but_another_key_is_never_taken(ca, tmp_path):
    impostor = pki.issue("tlsops Test Intermediate CA", is_ca=True)  # same subject, its own key
    leaf_only = write(tmp_path, "leaf.pem", ca.leaf())
    decoy = write(tmp_path, "decoy.pem", impostor)
    asked: List[str] = []
    found = issuer_lookup.missing_issuers({leaf_only: []}, [decoy], downloads({}, asked))
    assert found[leaf_only]["pem"] is None and found[leaf_only]["source"] is None and asked == []


@pytest.mark.parametrize("form", ["der", "pem", "pkcs7"])
def test_the_issuer_is_downloaded_from_the_ca_issuers_url_in_every_form_cas_serve(ca, tmp_path, form):
    leaf_only = write(tmp_path, "leaf.pem", ca.leaf(ca_issuers_urls=[AIA]))
    body = {"der": ca.intermediate.der, "pem": ca.intermediate.pem, "pkcs7": certs_only_pkcs7(ca, tmp_path)}[form]
    asked: List[str] = []
    found = issuer_lookup.missing_issuers({leaf_only: []}, [], downloads({AIA: (200, body)}, asked))
    assert (found[leaf_only]["source"], found[leaf_only]["pem"]) == (AIA, ca.intermediate.pem.decode())
    assert asked == [AIA]


def test_what_was_tried_is_said_when_no_url_gives_it(ca, tmp_path):
    dead = "http://dead.example.test/ca.crt"
    leaf_only = write(tmp_path, "leaf.pem", ca.leaf(ca_issuers_urls=[dead, AIA]))
    asked: List[str] = []
    found = issuer_lookup.missing_issuers({leaf_only: []}, [], downloads({AIA: (404, b"not here")}, asked))
    assert found[leaf_only]["pem"] is None and asked == [dead, AIA]
    assert found[leaf_only]["tried"] == ["%s: [Errno 111] Connection refused" % dead, "%s: HTTP status 404" % AIA]


def test_a_leaf_that_is_not_a_ca_is_no_issuer_even_if_it_signed(ca, tmp_path):
    signer = pki.issue("not a CA", ca.intermediate)  # no basicConstraints CA
    leaf = pki.issue("www.example.test", signer)
    leaf_only = write(tmp_path, "leaf.pem", leaf)
    found = issuer_lookup.missing_issuers({leaf_only: []}, [write(tmp_path, "signer.pem", signer)])
    assert found[leaf_only]["pem"] is None
