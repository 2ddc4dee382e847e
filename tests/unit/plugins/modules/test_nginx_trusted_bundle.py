# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""nginx_trusted_bundle, run in-process on chains made by the test PKI: the bundle returned, and written to dest."""
from __future__ import annotations

import http.server
import os
import stat
import threading
from pathlib import Path

import pytest

from tests.support.pki import TestPKI, issue

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible_collections.tlsops.ocsp.plugins.modules import nginx_trusted_bundle  # noqa: E402

main = nginx_trusted_bundle.main


@pytest.fixture(scope="module")
def pki() -> TestPKI:
    return TestPKI(ocsp_url="http://ocsp.example.test")


@pytest.fixture
def args(pki: TestPKI, tmp_path: Path) -> dict:
    """A served chain (leaf and intermediate) and a CA file with the root."""
    chain = tmp_path / "chain.pem"
    chain.write_bytes(pki.leaf("shop.example.test").pem + pki.intermediate.pem)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(pki.root.pem)
    return dict(chain_paths=[str(chain)], ca_paths=[str(ca_file)])


def expected(pki: TestPKI) -> str:
    return (pki.intermediate.pem + pki.root.pem).decode("ascii")


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_without_dest_it_returns_the_issuers_and_changes_nothing(run_module, pki, args, tmp_path):
    before = sorted(os.listdir(tmp_path))
    result = run_module(main, **args)
    assert result["changed"] is False
    assert result["content"] == expected(pki)
    assert result["subjects"] == ["CN=tlsops Test Intermediate CA,O=tlsops test", "CN=tlsops Test Root CA,O=tlsops test"]
    assert result["missing"] == []
    assert sorted(os.listdir(tmp_path)) == before


def test_dest_is_written_with_its_mode_once(run_module, pki, args, tmp_path):
    dest = tmp_path / "trusted.pem"
    result = run_module(main, dest=str(dest), mode="0640", **args)
    assert result["changed"] is True
    assert dest.read_text() == result["content"] == expected(pki)
    assert mode_of(dest) == 0o640
    assert [name for name in os.listdir(tmp_path) if name.startswith(".")] == []  # no temporary file left
    assert run_module(main, dest=str(dest), mode="0640", **args)["changed"] is False


def test_check_mode_reports_a_new_file_and_its_diff_but_writes_nothing(run_module, pki, args, tmp_path):
    dest = tmp_path / "trusted.pem"
    result = run_module(main, check_mode=True, _ansible_diff=True, dest=str(dest), mode="0644", **args)
    assert result["changed"] is True
    assert result["diff"] == dict(before="", after=expected(pki), before_header=str(dest), after_header=str(dest))
    assert not dest.exists()


def test_check_mode_in_a_directory_not_made_yet_reports_a_change(run_module, args, tmp_path):
    dest = tmp_path / "tlsops-ocsp" / "trusted.pem"
    assert run_module(main, check_mode=True, dest=str(dest), mode="0644", **args)["changed"] is True
    assert not dest.parent.exists()


def test_a_stale_bundle_is_replaced_and_the_diff_shows_both(run_module, pki, args, tmp_path):
    dest = tmp_path / "trusted.pem"
    dest.write_bytes(pki.root.pem)
    dest.chmod(0o644)
    result = run_module(main, _ansible_diff=True, dest=str(dest), mode="0644", **args)
    assert result["changed"] is True
    assert result["diff"]["before"] == pki.root.pem.decode("ascii")
    assert result["diff"]["after"] == dest.read_text() == expected(pki)


def test_only_the_mode_differs_check_mode_reports_it_then_a_run_fixes_it(run_module, pki, args, tmp_path):
    dest = tmp_path / "trusted.pem"
    dest.write_text(expected(pki))
    dest.chmod(0o600)
    assert run_module(main, check_mode=True, dest=str(dest), mode="0644", **args)["changed"] is True
    assert mode_of(dest) == 0o600
    assert run_module(main, dest=str(dest), mode="0644", **args)["changed"] is True
    assert mode_of(dest) == 0o644
    assert dest.read_text() == expected(pki)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_replaced_bundle_keeps_its_owner_and_group(run_module, pki, args, tmp_path):
    dest = tmp_path / "trusted.pem"
    dest.write_bytes(pki.root.pem)
    os.chown(dest, 4321, 4322)
    run_module(main, dest=str(dest), mode="0644", **args)
    assert (dest.stat().st_uid, dest.stat().st_gid) == (4321, 4322)
    assert dest.read_text() == expected(pki)


def test_a_missing_directory_fails_naming_it(run_module, args, tmp_path):
    dest = tmp_path / "nowhere" / "trusted.pem"
    result = run_module(main, dest=str(dest), mode="0644", **args)
    assert result["failed"] is True
    assert result["msg"] == f"{dest}: the directory {dest.parent} does not exist; create it first"


def test_dest_that_is_a_directory_fails_naming_it(run_module, args, tmp_path):
    result = run_module(main, dest=str(tmp_path), mode="0644", **args)
    assert result["failed"] is True
    assert result["msg"].startswith(f"{tmp_path}: exists but is not a regular file")


def test_dest_needs_an_explicit_mode(run_module, args, tmp_path):
    result = run_module(main, dest=str(tmp_path / "trusted.pem"), **args)
    assert result["failed"] is True
    assert "dest, mode" in result["msg"] or "mode, dest" in result["msg"]


@pytest.fixture
def ca_issuers_server(pki: TestPKI):
    """A CA Issuers URL on loopback serving the intermediate (DER, as CAs publish it) at /good.crt and a
    look-alike (same name, another key) at /impostor.crt."""
    impostor = issue("tlsops Test Intermediate CA", is_ca=True)
    bodies = {"/good.crt": pki.intermediate.der, "/impostor.crt": impostor.der}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 -- the name http.server calls
            body = bodies.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path, found", [("/good.crt", True), ("/impostor.crt", False)])
def test_a_leaf_only_file_gets_its_issuer_from_the_ca_issuers_url_when_it_verifies(
        run_module, pki, tmp_path, ca_issuers_server, path, found):
    leaf_only = tmp_path / "leaf.pem"
    leaf_only.write_bytes(pki.leaf("shop.example.test", ca_issuers_urls=[ca_issuers_server + path]).pem)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(pki.root.pem)
    args = dict(chain_paths=[str(leaf_only)], ca_paths=[str(ca_file)])
    without = run_module(main, **args)
    assert without["content"] == "" and "no certificate in" in without["missing"][0]
    result = run_module(main, ca_issuers_urls=True, **args)
    if found:
        assert result["content"] == expected(pki) and result["missing"] == []
    else:
        assert result["content"] == "" and ca_issuers_server + path in result["missing"][0]
