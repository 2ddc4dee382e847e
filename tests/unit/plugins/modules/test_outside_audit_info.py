# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""outside_audit_info, run in-process against real `openssl s_server` processes on 127.0.0.1 (the responder and
CRL paths are tested in test_stapling_check with recording transports)."""
from __future__ import annotations

import pytest

from tests.conftest import free_port
from tests.unit.conftest import SERVER_NAME

pytest.importorskip("ansible.module_utils.basic", reason="the modules run on ansible-core")
pytest.importorskip("OpenSSL", reason="outside_audit_info needs pyOpenSSL")

from ansible_collections.tlsops.ocsp.plugins.modules.outside_audit_info import main  # noqa: E402


def test_endpoints_as_strings_and_dictionaries_come_back_as_report_entries_marked_outside(run_module, good_port, leaf):
    closed = free_port()
    result = run_module(main, endpoints=["127.0.0.1:%d/%s" % (good_port, SERVER_NAME),
                                         {"host": "127.0.0.1", "port": closed, "name": "lb2"}], timeout=5)

    assert result["changed"] is False
    good, down = result["endpoints"]
    assert (good["port"], good["server_name"], good["verdict"]) == (good_port, SERVER_NAME, "good")
    assert (good["revocation_status"], good["revocation_source"], good["inventory_host"]) == ("good", "staple", "outside")
    assert (good["checked_from"], good["server_kind"], good["serial_number"]) == ("outside", "outside",
                                                                                 leaf.cert.serial_number)
    assert (down["verdict"], down["inventory_host"], down["revocation_status"]) == ("unreachable", "lb2", None)


def test_every_endpoint_that_cannot_be_read_is_named_and_none_is_checked(run_module):
    result = run_module(main, endpoints=["lb1.example.com:70000", "fine.example.com", {"port": 443},
                                         {"host": "x.example.com", "sni": "y"}, 5], timeout=0)

    assert result["failed"]
    assert result["problems"] == [
        "endpoints[0]: 'lb1.example.com:70000': '70000' is not a TCP port; give a port from 1 to 65535",
        "endpoints[2]: give a string host[:port][/server_name] or a dictionary with host",
        "endpoints[3]: unknown keys sni; a dictionary takes host, port, server_name, name",
        "endpoints[4]: give a string host[:port][/server_name] or a dictionary with host",
        "timeout: 0.0 is not allowed; give a number of seconds above 0",
    ]
    assert result["msg"].startswith("nothing was checked; fix these 5 problems: endpoints[0]: ")
