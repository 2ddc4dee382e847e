# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""staple_info, run in-process against real `openssl s_server` processes on 127.0.0.1."""
from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from tests.conftest import free_port
from tests.unit.conftest import SERVER_NAME

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")
pytest.importorskip("OpenSSL", reason="staple_info needs pyOpenSSL")

from ansible_collections.tlsops.ocsp.plugins.module_utils._ansible import module_helpers  # noqa: E402
from ansible_collections.tlsops.ocsp.plugins.modules.staple_info import endpoints_to_check, main  # noqa: E402


@pytest.mark.parametrize("tls_version, protocol", [("1.2", "TLSv1.2"), ("1.3", "TLSv1.3"), ("auto", "TLSv1.3")])
def test_good_staple_over_each_protocol(run_module, good_port, leaf, tls_version, protocol):
    result = run_module(main, host="127.0.0.1", port=good_port, server_name=SERVER_NAME, tls_version=tls_version)

    assert result["changed"] is False
    (entry,) = result["endpoints"]
    assert (entry["host"], entry["port"], entry["server_name"]) == ("127.0.0.1", good_port, SERVER_NAME)
    assert (entry["protocol"], entry["stapled"], entry["verdict"]) == (protocol, True, "good")
    assert (entry["cert_status"], entry["serial_number"], entry["attempts"]) == ("good", leaf.cert.serial_number, 1)
    assert entry["next_update"].endswith("Z") and entry["seconds_until_next_update"] > 0


def test_endpoints_come_back_in_the_order_given(run_module, serve, pki, good_port):
    revoked = pki.leaf("revoked.example.test")
    revoked_port = serve(revoked, pki.response(revoked.cert, "revoked"))
    unstapled_port = serve(pki.leaf("plain.example.test"))
    ports = [revoked_port, good_port, unstapled_port, free_port()]

    result = run_module(main, endpoints=[{"host": "127.0.0.1", "port": port} for port in ports], timeout=5)

    assert [entry["port"] for entry in result["endpoints"]] == ports
    assert [entry["verdict"] for entry in result["endpoints"]] == ["revoked", "good", "no_staple", "unreachable"]
    assert [entry["server_name"] for entry in result["endpoints"]] == [None] * 4


def test_hundreds_of_endpoints_in_one_call_each_get_their_own_verdict(run_module, serve, pki, good_port):
    revoked = pki.leaf("revoked.example.test")
    ports = {"good": good_port, "revoked": serve(revoked, pki.response(revoked.cert, "revoked")),
             "no_staple": serve(pki.leaf("plain.example.test")), "unreachable": free_port()}
    kinds = sorted(ports) * 75

    result = run_module(main, endpoints=[{"host": "127.0.0.1", "port": ports[kind]} for kind in kinds], timeout=5)

    assert [entry["verdict"] for entry in result["endpoints"]] == kinds
    assert [entry["port"] for entry in result["endpoints"]] == [ports[kind] for kind in kinds]


def test_retries_while_nothing_is_stapled(run_module, serve, pki):
    port = serve(pki.leaf("plain.example.test"))

    (entry,) = run_module(main, host="127.0.0.1", port=port, retries=2, retry_delay=0)["endpoints"]

    assert (entry["verdict"], entry["attempts"]) == ("no_staple", 3)


def test_ca_path_supplies_the_issuer_a_server_does_not_send(run_module, serve, pki, leaf, tmp_path: Path):
    port = serve(leaf, pki.response(leaf.cert), chain=())
    ca_file = tmp_path / "intermediate.pem"
    ca_file.write_bytes(pki.root.pem + pki.intermediate.pem)

    (without_ca,) = run_module(main, host="127.0.0.1", port=port)["endpoints"]
    (with_ca,) = run_module(main, host="127.0.0.1", port=port, ca_path=str(ca_file))["endpoints"]

    assert without_ca["verdict"] != "good" and "ca_path" in without_ca["reason"]
    assert with_ca["verdict"] == "good"


def test_port_defaults_to_443_without_connecting_there():
    params = {"endpoints": None, "host": "www.example.test", "port": None, "server_name": None}

    assert endpoints_to_check(params) == [{"host": "www.example.test", "port": 443, "server_name": None}]


def test_missing_ca_path_fails_naming_it(run_module, tmp_path: Path):
    missing = str(tmp_path / "absent.pem")

    result = run_module(main, host="127.0.0.1", ca_path=missing)

    assert result["failed"] is True
    assert result["msg"].startswith("ca_path: cannot read %s" % missing)


@pytest.mark.parametrize("option", [{"host": "127.0.0.1"}, {"port": 8443}, {"server_name": SERVER_NAME}])
def test_single_endpoint_options_exclude_endpoints(run_module, option):
    result = run_module(main, endpoints=[{"host": "127.0.0.1"}], **option)

    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"] and "endpoints" in result["msg"]


def test_an_endpoint_is_required(run_module):
    result = run_module(main)

    assert result["failed"] is True
    assert "one of the following is required: host, endpoints" in result["msg"]


def test_endpoint_entries_need_a_host(run_module):
    result = run_module(main, endpoints=[{"port": 443}])

    assert result["failed"] is True
    assert "host" in result["msg"]


def test_negative_retries_are_refused(run_module):
    result = run_module(main, host="127.0.0.1", retries=-1)

    assert result["failed"] is True
    assert "retries" in result["msg"] and "-1" in result["msg"]


def test_missing_pyopenssl_ends_in_missing_required_lib(run_module):
    with mock.patch.object(module_helpers, "HAS_PYOPENSSL", False), \
            mock.patch.object(module_helpers, "PYOPENSSL_IMPORT_ERROR", "Traceback: no OpenSSL"):
        result = run_module(main, host="127.0.0.1")

    assert result["failed"] is True
    assert "Failed to import the required Python library (pyOpenSSL)" in result["msg"]
    assert result["exception"] == "Traceback: no OpenSSL"
