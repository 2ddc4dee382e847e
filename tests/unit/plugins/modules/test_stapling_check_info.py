# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""stapling_check_info, run in-process against real `openssl s_server` endpoints and a real HTTP CRL server.

(stapling_check's own tests cover what is asked where; this is the module's path: its options, Ansible's
open_url, the results' JSON.)
"""
from __future__ import annotations

import http.server
from pathlib import Path
from typing import Type

import pytest

from tests.support.http_server import serving
from tests.support.pki import crl
from tests.unit.conftest import SERVER_NAME

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")

from ansible_collections.tlsops.ocsp.plugins.modules.stapling_check_info import main  # noqa: E402


def static_crl(data: bytes) -> Type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args) -> None:  # keep pytest's output clean
            return

    return Handler


def test_checks_a_staple_and_asks_the_crl_over_http(run_module, serve, pki, leaf, good_port, tmp_path: Path):
    with serving(static_crl(crl(pki.intermediate))) as base_url:
        no_ocsp = pki.leaf(SERVER_NAME, ocsp_urls=(), crl_urls=(f"{base_url}/intermediate.crl",))
        no_ocsp_path = tmp_path / "no-ocsp.pem"
        no_ocsp_path.write_bytes(no_ocsp.pem + pki.intermediate.pem)
        leaf_path = tmp_path / "leaf.pem"
        leaf_path.write_bytes(leaf.pem + pki.intermediate.pem)
        endpoints = [
            {"host": "127.0.0.1", "port": good_port, "server_name": SERVER_NAME, "certificate_path": str(leaf_path),
             "stapling_applicable": True, "configured_by": "role"},  # the plan's other keys are ignored
            {"host": "127.0.0.1", "port": serve(no_ocsp), "server_name": SERVER_NAME,
             "certificate_path": str(no_ocsp_path), "stapling_applicable": False},
        ]

        result = run_module(main, endpoints=endpoints, timeout=5, check_mode=True)

    assert not result.get("failed"), result
    assert [entry["verdict"] for entry in result["endpoints"]] == ["good", "not_applicable"]
    assert [answer.get("skipped") for answer in result["responders"]] == [True, True]
    assert [(answer["item"], answer["verdict"]) for answer in result["crls"]] == [(str(no_ocsp_path), "good")]


def test_an_endpoint_without_the_plans_keys_fails_naming_them(run_module):
    result = run_module(main, endpoints=[{"host": "127.0.0.1", "port": 443, "server_name": None}])

    assert result["failed"]
    assert result["msg"] == ("endpoints[0] has no certificate_path, stapling_applicable; "
                             "pass the endpoints of the stapling plan")


def test_a_negative_retry_count_fails_naming_it(run_module):
    result = run_module(main, endpoints=[], retries=-1)

    assert result["failed"] and result["msg"].startswith("retries and retry_delay must be 0 or more")
